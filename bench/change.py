#!/usr/bin/env python3
"""Change benchmark on PostgreSQL: `Change.conflicts` and the first page of 50 changes with their
CIs, votes and risk, each through the HTTP API against the fastest hand-written SQL for the same
answer (psql), after checking that both give the same answer.

Run from the repository root, after `cargo build --release -p quorum-server`:

    python3 bench/change.py [--scale 50000] [--changes 100000] [--runs 30]

The CMDB comes from `quorum seed --scale`; the changes are generated in SQL (deterministic:
`setseed`), most of them closed over two years, a few hundred in flight over the next 60 days,
1 to 5 CIs each, votes on those that went through the CAB. Needs a PostgreSQL server the
`postgres` role may create databases on (QUORUM_BENCH_PG, default
postgres://postgres@127.0.0.1:5432) and psql. QUORUM_BENCH_BINARY overrides the binary.
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("QUORUM_BENCH_BINARY", os.path.join(ROOT, "target", "release", "quorum"))
PG = os.environ.get("QUORUM_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SECRET = "quorum-bench-secret-0123456789abcdef-0123456789"
DATABASE = "quorum_bench_change"


def run(args, env=None):
    result = subprocess.run(args, env=dict(os.environ, QUORUM_LOG="warn", **(env or {})), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def psql(sql, database=DATABASE):
    return run(["psql", f"{PG}/{database}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql]).stdout


def sql_timings(sql, runs):
    """Server-side round trip times of `sql` run `runs` times by psql (\\timing)."""
    one_line = " ".join(sql.split())
    script = "\\timing on\n" + "".join(f"{one_line};\n" for _ in range(runs))
    result = subprocess.run(["psql", f"{PG}/{DATABASE}", "-q", "-o", "/dev/null"], input=script, capture_output=True, text=True, check=True)
    return [float(t) for t in re.findall(r"Time: ([0-9.]+) ms", result.stdout + result.stderr)]


# The changes, generated in SQL. Closed ones spread over the two years before now; in-flight ones
# (AUTHORIZED, SCHEDULED, IMPLEMENTING) in the next 60 days; each with 1 to 5 CIs.
GENERATE = """
SELECT setseed(0.42);
CREATE TEMP TABLE ci_pick AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM configuration_item;
CREATE TEMP TABLE gen AS
SELECT g AS n,
  CASE WHEN g > {count} - {in_flight} THEN (ARRAY['AUTHORIZED','SCHEDULED','SCHEDULED','IMPLEMENTING'])[1 + (g % 4)]
       WHEN g % 50 = 0 THEN 'REJECTED' WHEN g % 37 = 0 THEN 'CANCELLED' ELSE 'CLOSED' END AS state,
  CASE WHEN g % 10 = 0 THEN 'EMERGENCY' WHEN g % 5 = 0 THEN 'STANDARD' ELSE 'NORMAL' END AS change_type,
  CASE WHEN g > {count} - {in_flight} THEN now() + (random() * interval '60 days')
       ELSE now() - interval '730 days' + (g::float / {count}) * interval '725 days' END AS start_at,
  1 + floor(random() * 5)::int AS ci_count,
  random() AS r
FROM generate_series(1, {count}) g;
INSERT INTO change_request (id, number, change_type, state, title, description, justification, implementation_plan,
  backout_plan, test_plan, requested_by, assignee, planned_start, planned_end, actual_start, actual_end,
  started_outside_window, outcome, risk, risk_score, risk_level, submitted_at, referred_at, decided_at,
  completed_at, closed_at, version, created_at, updated_at)
SELECT 'bench-chg-' || lpad(n::text, 7, '0'), 'CHG' || lpad(n::text, 7, '0'), change_type, state,
  'Change ' || n || ' to the estate', 'Generated', 'Generated', 'Plan', 'Backout', 'Tests',
  'engineer' || (n % 40), 'implementer' || (n % 25), start_at, start_at + interval '2 hours',
  CASE WHEN state IN ('CLOSED','IMPLEMENTING') THEN start_at END,
  CASE WHEN state = 'CLOSED' THEN start_at + interval '90 minutes' END,
  false,
  CASE WHEN state <> 'CLOSED' THEN NULL WHEN r < 0.85 THEN 'SUCCESSFUL' WHEN r < 0.92 THEN 'SUCCESSFUL_WITH_ISSUES'
       WHEN r < 0.97 THEN 'FAILED' ELSE 'BACKED_OUT' END,
  json_build_object('score', (r * 100)::int, 'level', CASE WHEN r < 0.25 THEN 'LOW' WHEN r < 0.5 THEN 'MEDIUM' WHEN r < 0.75 THEN 'HIGH' ELSE 'VERY_HIGH' END,
    'factors', json_build_array(json_build_object('name', 'userImpact', 'points', (r * 15)::int, 'detail', 'generated')),
    'questionnaire', NULL, 'assessedAt', start_at - interval '5 days', 'assessedBy', 'manager'),
  (r * 100)::int, CASE WHEN r < 0.25 THEN 'LOW' WHEN r < 0.5 THEN 'MEDIUM' WHEN r < 0.75 THEN 'HIGH' ELSE 'VERY_HIGH' END,
  start_at - interval '7 days', CASE WHEN r >= 0.5 OR change_type = 'EMERGENCY' THEN start_at - interval '6 days' END,
  start_at - interval '5 days',
  CASE WHEN state = 'CLOSED' THEN start_at + interval '90 minutes' END,
  CASE WHEN state IN ('CLOSED','CANCELLED') THEN start_at + interval '1 day' END,
  1, start_at - interval '8 days', start_at
FROM gen;
INSERT INTO change_affected_item (change_id, ci_id)
SELECT DISTINCT 'bench-chg-' || lpad(gen.n::text, 7, '0'), ci_pick.id
FROM gen CROSS JOIN LATERAL generate_series(1, gen.ci_count) k
JOIN ci_pick ON ci_pick.n = 1 + ((gen.n * 7919 + k * 104729) % (SELECT count(*) FROM ci_pick));
INSERT INTO cab_vote (change_id, voter, board, decision, comment, cast_at)
SELECT 'bench-chg-' || lpad(n::text, 7, '0'), 'cab' || k, CASE WHEN change_type = 'EMERGENCY' THEN 'ECAB' ELSE 'CAB' END,
  'APPROVE', 'ok', start_at - interval '6 days'
FROM gen CROSS JOIN generate_series(1, 2) k WHERE r >= 0.5 OR change_type = 'EMERGENCY';
INSERT INTO number_sequence (prefix, last_value) VALUES ('CHG', {count});
ANALYZE;
"""

# The conflict check's hard case: a SCHEDULED change on the five most depended-on CIs (their
# impact within 3 hops reaches thousands of CIs), whose window 40 other in-flight changes
# overlap; one of them also touches one of its CIs.
TARGET = """
CREATE TEMP TABLE target AS SELECT id, planned_start, planned_end FROM change_request
  WHERE state = 'SCHEDULED' ORDER BY id LIMIT 1;
CREATE TEMP TABLE hubs AS SELECT r.target_id AS id FROM ci_relationship r WHERE r.removed_at IS NULL
  GROUP BY r.target_id ORDER BY count(*) DESC, r.target_id LIMIT 5;
DELETE FROM change_affected_item WHERE change_id = (SELECT id FROM target);
INSERT INTO change_affected_item (change_id, ci_id) SELECT (SELECT id FROM target), id FROM hubs;
CREATE TEMP TABLE neighbours AS SELECT id FROM change_request
  WHERE state IN ('AUTHORIZED','SCHEDULED','IMPLEMENTING') AND id <> (SELECT id FROM target) ORDER BY id LIMIT 40;
UPDATE change_request c SET planned_start = t.planned_start + interval '30 minutes', planned_end = t.planned_end + interval '30 minutes'
  FROM target t WHERE c.id IN (SELECT id FROM neighbours);
INSERT INTO change_affected_item (change_id, ci_id)
  SELECT (SELECT min(id) FROM neighbours), (SELECT min(id) FROM hubs) ON CONFLICT DO NOTHING;
ANALYZE;
SELECT id FROM target;
"""

CONFLICTS = """query($id: ID!) { change(id: $id) { conflicts {
  kind change { number } item { number } path { number }
} } }"""

# The same answer in one statement: the other in-flight changes overlapping the window, joined to
# the CIs reachable from ours within 3 hops along the impact walk or the dependency walk (never
# mixing directions); distance 0 is SAME_CI.
RAW_CONFLICTS = """
WITH RECURSIVE me AS (SELECT planned_start s, planned_end e FROM change_request WHERE id = '{id}'),
mine AS (SELECT ci_id FROM change_affected_item WHERE change_id = '{id}'),
others AS (SELECT o.id, o.number FROM change_request o, me WHERE o.state IN ('AUTHORIZED','SCHEDULED','IMPLEMENTING')
  AND o.id <> '{id}' AND o.planned_start < me.e AND o.planned_end > me.s),
imp(id, d) AS (SELECT ci_id, 0 FROM mine UNION
  SELECT r.source_id, imp.d + 1 FROM imp JOIN ci_relationship r ON r.target_id = imp.id AND r.removed_at IS NULL WHERE imp.d < 3),
dep(id, d) AS (SELECT ci_id, 0 FROM mine UNION
  SELECT r.target_id, dep.d + 1 FROM dep JOIN ci_relationship r ON r.source_id = dep.id AND r.removed_at IS NULL WHERE dep.d < 3),
reach AS (SELECT id, min(d) d FROM (SELECT * FROM imp UNION ALL SELECT * FROM dep) x GROUP BY id)
SELECT CASE WHEN reach.d = 0 THEN 'SAME_CI' ELSE 'DEPENDENT_CI' END, others.number, ci.number
FROM others JOIN change_affected_item a ON a.change_id = others.id JOIN reach ON reach.id = a.ci_id
JOIN configuration_item ci ON ci.id = a.ci_id
"""

# The same answer the fast way round, as the API now computes it: the other changes' CIs walk
# towards what they depend on (few) to reach ours, instead of ours walking to their thousands
# of dependents; our dependency walk stays as it is.
RAW_CONFLICTS_REVERSE = """
WITH RECURSIVE me AS (SELECT planned_start s, planned_end e FROM change_request WHERE id = '{id}'),
mine AS (SELECT ci_id FROM change_affected_item WHERE change_id = '{id}'),
others AS (SELECT o.id, o.number FROM change_request o, me WHERE o.state IN ('AUTHORIZED','SCHEDULED','IMPLEMENTING')
  AND o.id <> '{id}' AND o.planned_start < me.e AND o.planned_end > me.s),
theirs AS (SELECT DISTINCT a.ci_id AS id FROM others JOIN change_affected_item a ON a.change_id = others.id),
up(root, id, d) AS (SELECT id, id, 0 FROM theirs UNION
  SELECT up.root, r.target_id, up.d + 1 FROM up JOIN ci_relationship r ON r.source_id = up.id AND r.removed_at IS NULL WHERE up.d < 3),
dep(id, d) AS (SELECT ci_id, 0 FROM mine UNION
  SELECT r.target_id, dep.d + 1 FROM dep JOIN ci_relationship r ON r.source_id = dep.id AND r.removed_at IS NULL WHERE dep.d < 3),
reach AS (SELECT id, min(d) d FROM (
  SELECT root AS id, d FROM up WHERE id IN (SELECT ci_id FROM mine)
  UNION ALL SELECT id, d FROM dep) x GROUP BY id)
SELECT CASE WHEN reach.d = 0 THEN 'SAME_CI' ELSE 'DEPENDENT_CI' END, others.number, ci.number
FROM others JOIN change_affected_item a ON a.change_id = others.id JOIN reach ON reach.id = a.ci_id
JOIN configuration_item ci ON ci.id = a.ci_id
"""

PAGE = """{ changes(first: 50) { totalCount edges { node {
  number title state risk { score level factors { name points detail } }
  affectedItems { number name } votes { voter decision }
} } } }"""

RAW_PAGE = """
SELECT (SELECT count(*) FROM change_request WHERE state <> 'DRAFT'), c.number, c.title, c.state, c.risk,
  (SELECT json_agg(json_build_object('number', ci.number, 'name', ci.name) ORDER BY ci.number)
     FROM change_affected_item a JOIN configuration_item ci ON ci.id = a.ci_id WHERE a.change_id = c.id),
  (SELECT json_agg(json_build_object('voter', v.voter, 'decision', v.decision) ORDER BY v.cast_at, v.voter)
     FROM cab_vote v WHERE v.change_id = c.id)
FROM change_request c WHERE c.state <> 'DRAFT' ORDER BY c.number DESC LIMIT 50
"""


class Server:
    def __init__(self, url):
        self.process = subprocess.Popen(
            [BINARY, "serve", "--listen", "127.0.0.1:0"],
            env=dict(os.environ, DATABASE_URL=url, QUORUM_JWT_SECRET=SECRET, QUORUM_LOG="warn"),
            stdout=subprocess.PIPE, text=True,
        )
        self.address = self.process.stdout.readline().strip().rsplit("http://", 1)[1]
        host, port = self.address.split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=120)
        self.token = run([BINARY, "token", "--sub", "bench", "--role", "CAB_MEMBER"], env={"QUORUM_JWT_SECRET": SECRET}).stdout.strip()

    def graphql(self, query, variables):
        body = json.dumps({"query": query, "variables": variables})
        started = time.perf_counter()
        self.connection.request("POST", "/graphql", body=body,
                                headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        payload = self.connection.getresponse().read()
        elapsed = (time.perf_counter() - started) * 1000
        data = json.loads(payload)
        if "errors" in data:
            sys.exit(f"GraphQL errors: {data['errors']}")
        return elapsed, data

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def measure(server, name, query, variables, raw_sql, runs):
    for _ in range(3):
        server.graphql(query, variables)
    api = []
    data = None
    for _ in range(runs):
        elapsed, data = server.graphql(query, variables)
        api.append(elapsed)
    raw = sql_timings(raw_sql, runs + 3)[3:]
    p90 = lambda samples: sorted(samples)[int(len(samples) * 0.9)]
    print(f"{name}")
    print(f"  API over HTTP : median {statistics.median(api):.1f} ms, p90 {p90(api):.1f} ms ({runs} runs)")
    print(f"  raw SQL (psql): median {statistics.median(raw):.1f} ms, p90 {p90(raw):.1f} ms")
    print(f"  ratio API / SQL: {statistics.median(api) / statistics.median(raw):.2f}")
    return data


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--in-flight", type=int, default=600)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"build first: cargo build --release -p quorum-server ({BINARY} is missing)")
    psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', "postgres")
    psql(f'CREATE DATABASE "{DATABASE}"', "postgres")
    url = f"{PG}/{DATABASE}"
    started = time.perf_counter()
    run([BINARY, "seed", "--scale", str(args.scale), "--seed", "1"], env={"DATABASE_URL": url})
    psql(GENERATE.format(count=args.changes, in_flight=args.in_flight))
    counts = psql("SELECT (SELECT count(*) FROM configuration_item), (SELECT count(*) FROM change_request), "
                  "(SELECT count(*) FROM change_affected_item), (SELECT count(*) FROM cab_vote)").strip()
    print(f"data (CIs|changes|affected CIs|votes): {counts}, seeded in {time.perf_counter() - started:.0f} s")
    target = psql(TARGET).strip().splitlines()[-1]
    server = Server(url)
    try:
        data = measure(server, f"Change.conflicts of {target} (5 CIs, depth 3)", CONFLICTS, {"id": target},
                       RAW_CONFLICTS.format(id=target), args.runs)
        api_set = sorted((c["kind"], c["change"]["number"], c["item"]["number"]) for c in data["data"]["change"]["conflicts"])
        raw_rows = psql(RAW_CONFLICTS.format(id=target)).strip().splitlines()
        raw_set = sorted(tuple(row.split("|")) for row in raw_rows if row)
        print(f"  conflicts: {len(api_set)}; the SQL gives {'the same' if api_set == raw_set else 'A DIFFERENT'} answer")
        reverse = sql_timings(RAW_CONFLICTS_REVERSE.format(id=target), args.runs + 3)[3:]
        reverse_rows = psql(RAW_CONFLICTS_REVERSE.format(id=target)).strip().splitlines()
        reverse_set = sorted(tuple(row.split("|")) for row in reverse_rows if row)
        print(f"  raw SQL walking from their CIs: median {statistics.median(reverse):.1f} ms, "
              f"p90 {sorted(reverse)[int(len(reverse) * 0.9)]:.1f} ms, "
              f"{'the same' if reverse_set == api_set else 'A DIFFERENT'} answer")
        if api_set != raw_set:
            print(f"  API only: {sorted(set(api_set) - set(raw_set))}\n  SQL only: {sorted(set(raw_set) - set(api_set))}")
        data = measure(server, "first page of 50 changes with CIs, votes and risk", PAGE, {}, RAW_PAGE, args.runs)
        api_numbers = [edge["node"]["number"] for edge in data["data"]["changes"]["edges"]]
        raw_numbers = [line.split("|")[1] for line in psql(RAW_PAGE).strip().splitlines()]
        print(f"  rows: {len(api_numbers)}; the SQL gives {'the same' if api_numbers == raw_numbers else 'A DIFFERENT'} page")
    finally:
        server.stop()
    psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', "postgres")


if __name__ == "__main__":
    main()
