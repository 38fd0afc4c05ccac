#!/usr/bin/env python3
"""Change benchmark on PostgreSQL: `Change.conflicts` and the first page of 50 changes with their
CIs, votes and risk, each through the HTTP API against the fastest hand-written SQL for the same
answer (psql), after checking that both give the same answer.

Run from the repository root, after `cargo build --release -p quorum-server` (the binary is
$QUORUM_BENCH_BINARY, else release/quorum under $CARGO_TARGET_DIR, else under ./target):

    python3 bench/change.py [--scale 50000] [--changes 100000] [--seed 1] [--runs 30]
                            [--skip-hubs] [--vacuum] [--keep | --reuse]

The data is `quorum seed --scale N --changes M --seed S`: the CMDB, then M changes over the two
years before now (crates/seed/src/bulk/changes.rs), most closed, several hundred in flight in the next
60 days. The conflict check runs on the seeded SCHEDULED change on exactly 5 CIs with the most
conflicts; then (unless --skip-hubs) on the adversarial case of earlier runs: a SCHEDULED change
moved onto the five most depended-on CIs, with 40 in-flight changes moved into its window (put
back afterwards). --vacuum first runs VACUUM (ANALYZE) on the change tables, as autovacuum would
have by then (the seed only runs ANALYZE).
Needs a PostgreSQL server the `postgres` role may create databases on (QUORUM_BENCH_PG, default
postgres://postgres@127.0.0.1:5432) and psql. It creates and drops its own database (--keep
leaves it, for EXPLAIN ANALYZE afterwards; --reuse runs on a kept one).
"""

import argparse
import collections
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.environ.get("QUORUM_BENCH_BINARY", os.path.join(TARGET, "release", "quorum"))
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


def timed(args, env):
    """Wall seconds and peak resident MiB of a command (GNU time)."""
    result = run(["/usr/bin/time", "-f", "%e %M"] + args, env=env)
    seconds, kib = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024, result.stdout.strip()


def sql_timings(sql, runs):
    """Server-side round trip times of `sql` run `runs` times by psql (\\timing)."""
    one_line = " ".join(sql.split())
    script = "\\timing on\n" + "".join(f"{one_line};\n" for _ in range(runs))
    result = subprocess.run(["psql", f"{PG}/{DATABASE}", "-q", "-o", "/dev/null"], input=script, capture_output=True, text=True, check=True)
    return [float(t) for t in re.findall(r"Time: ([0-9.]+) ms", result.stdout + result.stderr)]


def p90(samples):
    return sorted(samples)[int(len(samples) * 0.9)]


IN_FLIGHT = "('AUTHORIZED','SCHEDULED','IMPLEMENTING')"

# Seeded SCHEDULED changes on exactly 5 CIs whose window other in-flight changes overlap.
CANDIDATES = f"""
SELECT c.id, c.number,
  (SELECT count(*) FROM change_request o WHERE o.state IN {IN_FLIGHT} AND o.id <> c.id
     AND o.planned_start < c.planned_end AND o.planned_end > c.planned_start),
  (SELECT count(*) FROM change_affected_item a JOIN ci_relationship r ON r.target_id = a.ci_id AND r.removed_at IS NULL
     WHERE a.change_id = c.id)
FROM change_request c
WHERE c.state = 'SCHEDULED' AND (SELECT count(*) FROM change_affected_item a WHERE a.change_id = c.id) = 5
  AND EXISTS (SELECT 1 FROM change_request o WHERE o.state IN {IN_FLIGHT} AND o.id <> c.id
     AND o.planned_start < c.planned_end AND o.planned_end > c.planned_start)
ORDER BY c.number
"""

# The adversarial case of earlier runs: a SCHEDULED change on the five most depended-on CIs
# (their impact within 3 hops reaches thousands of CIs), whose window 40 other in-flight
# changes overlap; one of them also touches one of its CIs.
HUBS = f"""
CREATE TABLE bench_target AS SELECT id, planned_start, planned_end FROM change_request
  WHERE state = 'SCHEDULED' ORDER BY id LIMIT 1;
CREATE TEMP TABLE hubs AS SELECT r.target_id AS id FROM ci_relationship r WHERE r.removed_at IS NULL
  GROUP BY r.target_id ORDER BY count(*) DESC, r.target_id LIMIT 5;
CREATE TABLE bench_neighbours AS SELECT id, planned_start, planned_end FROM change_request
  WHERE state IN {IN_FLIGHT} AND id <> (SELECT id FROM bench_target) ORDER BY id LIMIT 40;
CREATE TABLE bench_items AS SELECT * FROM change_affected_item
  WHERE change_id IN (SELECT id FROM bench_target UNION SELECT min(id) FROM bench_neighbours);
DELETE FROM change_affected_item WHERE change_id = (SELECT id FROM bench_target);
INSERT INTO change_affected_item (change_id, ci_id) SELECT (SELECT id FROM bench_target), id FROM hubs;
UPDATE change_request c SET planned_start = t.planned_start + interval '30 minutes', planned_end = t.planned_end + interval '30 minutes'
  FROM bench_target t WHERE c.id IN (SELECT id FROM bench_neighbours);
INSERT INTO change_affected_item (change_id, ci_id)
  SELECT (SELECT min(id) FROM bench_neighbours), (SELECT min(id) FROM hubs) ON CONFLICT DO NOTHING;
ANALYZE change_request, change_affected_item;
SELECT id || '|' || (SELECT number FROM change_request c WHERE c.id = bench_target.id) FROM bench_target;
"""

# Puts the seeded data back as it was before HUBS.
HUBS_UNDO = """
DELETE FROM change_affected_item WHERE change_id IN (SELECT change_id FROM bench_items UNION SELECT id FROM bench_target);
INSERT INTO change_affected_item SELECT * FROM bench_items;
UPDATE change_request c SET planned_start = n.planned_start, planned_end = n.planned_end FROM bench_neighbours n WHERE c.id = n.id;
DROP TABLE bench_target, bench_neighbours, bench_items;
ANALYZE change_request, change_affected_item;
"""

CONFLICTS = """query($id: ID!) { change(id: $id) { conflicts {
  kind change { number } item { number } path { number }
} } }"""

# The same answer in one statement: the other in-flight changes overlapping the window, joined to
# the CIs reachable from ours within 3 hops along the impact walk (against the arrows) or the
# dependency walk (with them), never mixing directions; distance 0 is SAME_CI.
RAW_CONFLICTS = f"""
WITH RECURSIVE me AS (SELECT planned_start s, planned_end e FROM change_request WHERE id = '{{id}}'),
mine AS (SELECT ci_id FROM change_affected_item WHERE change_id = '{{id}}'),
others AS (SELECT o.id, o.number FROM change_request o, me WHERE o.state IN {IN_FLIGHT}
  AND o.id <> '{{id}}' AND o.planned_start < me.e AND o.planned_end > me.s),
imp(id, d) AS (SELECT ci_id, 0 FROM mine UNION
  SELECT r.source_id, imp.d + 1 FROM imp JOIN ci_relationship r ON r.target_id = imp.id AND r.removed_at IS NULL WHERE imp.d < 3),
dep(id, d) AS (SELECT ci_id, 0 FROM mine UNION
  SELECT r.target_id, dep.d + 1 FROM dep JOIN ci_relationship r ON r.source_id = dep.id AND r.removed_at IS NULL WHERE dep.d < 3),
reach AS (SELECT id, min(d) d FROM (SELECT * FROM imp UNION ALL SELECT * FROM dep) x GROUP BY id)
SELECT CASE WHEN reach.d = 0 THEN 'SAME_CI' ELSE 'DEPENDENT_CI' END, others.number, ci.number
FROM others JOIN change_affected_item a ON a.change_id = others.id JOIN reach ON reach.id = a.ci_id
JOIN configuration_item ci ON ci.id = a.ci_id
"""

# The same answer the fast way round, as the API computes it: the other changes' CIs walk
# towards what they depend on (few) to reach ours, instead of ours walking to their thousands
# of dependents; our dependency walk stays as it is.
RAW_CONFLICTS_REVERSE = f"""
WITH RECURSIVE me AS (SELECT planned_start s, planned_end e FROM change_request WHERE id = '{{id}}'),
mine AS (SELECT ci_id FROM change_affected_item WHERE change_id = '{{id}}'),
others AS (SELECT o.id, o.number FROM change_request o, me WHERE o.state IN {IN_FLIGHT}
  AND o.id <> '{{id}}' AND o.planned_start < me.e AND o.planned_end > me.s),
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

# What a CAB member sees (drafts excluded), newest number first, in one statement.
RAW_PAGE = """
SELECT (SELECT count(*) FROM change_request WHERE state <> 'DRAFT') AS total, c.number, c.title, c.state, c.risk,
  (SELECT json_agg(json_build_object('number', ci.number, 'name', ci.name) ORDER BY ci.number)
     FROM change_affected_item a JOIN configuration_item ci ON ci.id = a.ci_id WHERE a.change_id = c.id) AS items,
  (SELECT json_agg(json_build_object('voter', v.voter, 'decision', v.decision) ORDER BY v.cast_at, v.voter)
     FROM cab_vote v WHERE v.change_id = c.id) AS votes
FROM change_request c WHERE c.state <> 'DRAFT' ORDER BY c.number DESC LIMIT 50
"""


class Server:
    def __init__(self, url, log=None):
        env = dict(os.environ, DATABASE_URL=url, QUORUM_JWT_SECRET=SECRET, QUORUM_LOG=log or "warn")
        self.log = tempfile.TemporaryFile(mode="w+") if log else None
        self.process = subprocess.Popen([BINARY, "serve", "--listen", "127.0.0.1:0"], env=env,
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
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

    def statements(self, query, variables):
        """The statements one request runs, from sqlx's debug log (a server started with log)."""
        self.graphql(query, variables)
        time.sleep(0.5)
        self.log.seek(0, os.SEEK_END)
        start = self.log.tell()
        self.graphql(query, variables)
        time.sleep(0.5)
        self.log.seek(start)
        text = re.sub(r"\x1b\[[0-9;]*m", "", self.log.read())
        statements = []
        for statement in re.findall(r"db\.statement=\"(.*?)\" rows_affected", text):
            table = re.search(r'FROM \\"(\w+)\\"', statement)
            name = table.group(1) if table else statement.split()[0]
            statements.append(f"count {name}" if "COUNT(*)" in statement else name)
        return statements

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def measure(server, name, query, variables, raw, runs):
    """API and SQL timings; `raw` is a list of (label, sql). Returns the last API answer."""
    for _ in range(3):
        server.graphql(query, variables)
    api = []
    data = None
    for _ in range(runs):
        elapsed, data = server.graphql(query, variables)
        api.append(elapsed)
    print(name)
    print(f"  API over HTTP : median {statistics.median(api):.1f} ms, p90 {p90(api):.1f} ms ({runs} runs)")
    best = None
    for label, sql in raw:
        times = sql_timings(sql, runs + 3)[3:]
        print(f"  SQL {label:28}: median {statistics.median(times):.1f} ms, p90 {p90(times):.1f} ms")
        best = min(best or times, times, key=statistics.median)
    print(f"  ratio API / fastest SQL: {statistics.median(api) / statistics.median(best):.2f}")
    return data


def conflict_set(rows):
    return sorted(tuple(row.split("|")) for row in rows.strip().splitlines() if row)


def conflicts_case(server, target, number, runs, label):
    raw = [("two walks from ours", RAW_CONFLICTS.format(id=target)),
           ("their CIs walk to ours", RAW_CONFLICTS_REVERSE.format(id=target))]
    data = measure(server, f"Change.conflicts of {number} ({label}; 5 CIs, depth 3)", CONFLICTS, {"id": target}, raw, runs)
    conflicts = data["data"]["change"]["conflicts"]
    api_set = sorted((c["kind"], c["change"]["number"], c["item"]["number"]) for c in conflicts)
    kinds = collections.Counter(c["kind"] for c in conflicts)
    others = len({c["change"]["number"] for c in conflicts})
    print(f"  conflicts: {len(api_set)} with {others} changes ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")
    for label, sql in raw:
        raw_set = conflict_set(psql(sql))
        same = raw_set == api_set
        print(f"  SQL {label}: {'the same' if same else 'A DIFFERENT'} set of (kind, change, CI)")
        if not same:
            print(f"    API only: {sorted(set(api_set) - set(raw_set))}\n    SQL only: {sorted(set(raw_set) - set(api_set))}")
    overlapping = psql(f"""SELECT count(*) FROM change_request o, change_request c WHERE c.id = '{target}'
        AND o.state IN {IN_FLIGHT} AND o.id <> c.id AND o.planned_start < c.planned_end AND o.planned_end > c.planned_start""").strip()
    print(f"  in-flight changes overlapping its window: {overlapping}")


def pick_target():
    """The seeded candidate with the most conflicts (then the most dependents of its CIs)."""
    best = None
    for line in psql(CANDIDATES).strip().splitlines():
        change_id, number, overlapping, dependents = line.split("|")
        count = len(conflict_set(psql(RAW_CONFLICTS_REVERSE.format(id=change_id))))
        key = (count, int(dependents), number)
        if best is None or key > best[0]:
            best = (key, change_id, number, overlapping)
    return best


def page_case(server, runs):
    data = measure(server, "first page of 50 changes with CIs, votes and risk (as a CAB member)", PAGE, {},
                   [("one statement, json_agg", RAW_PAGE)], runs)
    page = data["data"]["changes"]
    rows = json.loads(psql(f"SELECT json_agg(p ORDER BY p.number DESC) FROM ({RAW_PAGE}) p"))
    same = page["totalCount"] == rows[0]["total"] and len(rows) == len(page["edges"])
    for edge, row in zip(page["edges"], rows):
        node = edge["node"]
        number, title, state, risk, items, votes = (row[k] for k in ("number", "title", "state", "risk", "items", "votes"))
        risk_api = node["risk"]
        risk_sql = risk and {"score": risk["score"], "level": risk["level"],
                             "factors": [{k: f[k] for k in ("name", "points", "detail")} for f in risk["factors"]]}
        same &= (node["number"], node["title"], node["state"]) == (number, title, state)
        same &= risk_api == risk_sql
        same &= node["affectedItems"] == (items or [])
        same &= sorted((v["voter"], v["decision"]) for v in node["votes"]) == sorted((v["voter"], v["decision"]) for v in votes or [])
    votes = sum(len(edge["node"]["votes"]) for edge in page["edges"])
    items = sum(len(edge["node"]["affectedItems"]) for edge in page["edges"])
    print(f"  totalCount {page['totalCount']}, {len(page['edges'])} rows, {items} CIs, {votes} votes; "
          f"the SQL gives {'the same' if same else 'A DIFFERENT'} page (numbers, titles, states, risk, CIs, votes)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-hubs", action="store_true", help="skip the adversarial five-hub conflict case")
    parser.add_argument("--vacuum", action="store_true",
                        help="VACUUM (ANALYZE) the change tables before measuring, as autovacuum would in time")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep run left")
    parser.add_argument("--keep", action="store_true", help="leave the database for inspection")
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"build first: cargo build --release -p quorum-server ({BINARY} is missing)")
    url = f"{PG}/{DATABASE}"
    if not args.reuse:
        psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', "postgres")
        psql(f'CREATE DATABASE "{DATABASE}"', "postgres")
        run([BINARY, "migrate"], env={"DATABASE_URL": url})
        seconds, mib, out = timed([BINARY, "seed", "--scale", str(args.scale), "--changes", str(args.changes),
                                   "--seed", str(args.seed)], {"DATABASE_URL": url})
        print(f"seed --scale {args.scale} --changes {args.changes} --seed {args.seed}: {seconds:.1f} s, peak {mib:.0f} MiB")
        for line in out.splitlines():
            print(f"  {line}")
    if args.vacuum:
        psql("VACUUM (ANALYZE) change_request, change_affected_item, cab_vote")
        print("vacuumed change_request, change_affected_item, cab_vote")
    counts = psql("SELECT (SELECT count(*) FROM configuration_item), (SELECT count(*) FROM ci_relationship), "
                  "(SELECT count(*) FROM change_request), (SELECT count(*) FROM change_affected_item), "
                  f"(SELECT count(*) FROM cab_vote), (SELECT count(*) FROM change_request WHERE state IN {IN_FLIGHT})").strip()
    print("data: {} CIs, {} relationships, {} changes, {} affected CIs, {} votes, {} in flight".format(*counts.split("|")))

    picked = pick_target()
    server = Server(url)
    try:
        if picked is None:
            print("no seeded SCHEDULED change on 5 CIs overlaps another in-flight change: skipping the seeded case")
        else:
            (count, dependents, number), target, _, _ = picked
            conflicts_case(server, target, number, args.runs, f"seeded, its CIs have {dependents} direct dependents")
        page_case(server, args.runs)
        if not args.skip_hubs:
            target, number = psql(HUBS).strip().splitlines()[-1].split("|")
            try:
                conflicts_case(server, target, number, args.runs, "five hub CIs, 40 changes moved into its window")
            finally:
                psql(HUBS_UNDO)
    finally:
        server.stop()
    counter = Server(url, log="warn,sqlx::query=debug")
    try:
        statements = counter.statements(PAGE, {})
        print(f"statements per page request: {len(statements)} ({', '.join(statements)})")
    finally:
        counter.stop()
    if not args.keep:
        psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', "postgres")


if __name__ == "__main__":
    main()
