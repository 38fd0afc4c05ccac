#!/usr/bin/env python3
"""Incident benchmark: the first page of breached P1/P2 incidents with their CIs and causing
change through the HTTP API against the same answer from one hand-written SQL statement (psql),
and incident creation through the API by concurrent clients.

Run from the repository root, after `cargo build --release -p quorum-server` (the binary is
$QUORUM_BENCH_BINARY, else release/quorum under $CARGO_TARGET_DIR, else under ./target):

    python3 bench/incident.py [--scale 50000] [--changes 3000] [--incidents 300000] [--runs 30]
                              [--creates 10000] [--clients 16] [--skip-page | --skip-create]

Needs a PostgreSQL server that the `postgres` role may create databases on (QUORUM_BENCH_PG,
default postgres://postgres@127.0.0.1:5432) and psql. It creates and drops its own database
(--keep keeps it, for EXPLAIN ANALYZE afterwards).
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.environ.get("QUORUM_BENCH_BINARY", os.path.join(TARGET, "release", "quorum"))
PG = os.environ.get("QUORUM_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SECRET = "quorum-bench-secret-0123456789abcdef-0123456789"
DATABASE = "quorum_bench_incident"


def run(args, env=None):
    full_env = dict(os.environ, QUORUM_LOG="warn", **(env or {}))
    result = subprocess.run(args, env=full_env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def psql(database, sql):
    return run(["psql", f"{PG}/{database}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql]).stdout


def recreate(database):
    psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    psql("postgres", f'CREATE DATABASE "{database}"')


def timed(args, env):
    """Wall seconds and peak resident MiB of a command (GNU time)."""
    result = run(["/usr/bin/time", "-f", "%e %M"] + args, env=env)
    seconds, kib = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024, result.stdout.strip()


def p90(samples):
    return sorted(samples)[int(len(samples) * 0.9)]


def token(role, subject="bench"):
    return run(
        [BINARY, "token", "--sub", subject, "--role", role],
        env={"QUORUM_JWT_SECRET": SECRET},
    ).stdout.strip()


class Client:
    """One keep-alive HTTP connection to the server."""

    def __init__(self, address, bearer):
        host, port = address.split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=120)
        self.bearer = bearer

    def graphql(self, query, variables):
        """Milliseconds and the decoded response (errors included)."""
        body = json.dumps({"query": query, "variables": variables})
        started = time.perf_counter()
        self.connection.request(
            "POST",
            "/graphql",
            body=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.bearer}"},
        )
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, response.status, json.loads(payload)


class Server:
    def __init__(self, database_url):
        self.process = subprocess.Popen(
            [BINARY, "serve", "--listen", "127.0.0.1:0"],
            env=dict(os.environ, DATABASE_URL=database_url, QUORUM_JWT_SECRET=SECRET, QUORUM_LOG="warn"),
            stdout=subprocess.PIPE,
            text=True,
        )
        first = self.process.stdout.readline().strip()
        self.address = first.rsplit("http://", 1)[1]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=90)


# Until `quorum seed` can add changes, the bench adds closed changes straight into the tables
# (no events): one every few hours over the two years, each on one to three CIs, so that the
# incident seed has started changes to name as causes.
CHANGE_FIXTURE = """
INSERT INTO change_request (id, number, change_type, state, title, description, requested_by,
  assignee, planned_start, planned_end, actual_start, actual_end, started_outside_window, outcome,
  submitted_at, decided_at, completed_at, closed_at, version, created_at, updated_at)
SELECT md5('bench-change-' || g)::uuid::text, 'CHG' || lpad(g::text, 7, '0'), 'NORMAL', 'CLOSED',
  (ARRAY['Patch', 'Upgrade', 'Reconfigure', 'Migrate'])[1 + g % 4] || ' bench change ' || g,
  'Added by bench/incident.py', 'bench.requester', 'bench.implementer',
  s, s + interval '2 hours', s + interval '5 minutes', s + interval '95 minutes', false,
  CASE WHEN g % 10 = 0 THEN 'FAILED' ELSE 'SUCCESSFUL' END,
  s - interval '7 days', s - interval '3 days', s + interval '95 minutes', s + interval '2 days',
  9, s - interval '8 days', s + interval '2 days'
FROM (SELECT g, date_trunc('day', now() - interval '730 days' + g * (interval '728 days' / {count}))
        + interval '21 hours' AS s
      FROM generate_series(1, {count}) g) planned;
INSERT INTO change_affected_item (change_id, ci_id)
SELECT md5('bench-change-' || g)::uuid::text, c.id
FROM generate_series(1, {count}) g
CROSS JOIN generate_series(1, 3) k
JOIN configuration_item c
  ON c.number = 'CI' || lpad((((g * 7919 + k * 104729) % {items}) + 1)::text, 7, '0')
WHERE k <= 1 + g % 3
ON CONFLICT DO NOTHING;
INSERT INTO number_sequence (prefix, last_value) VALUES ('CHG', {count})
ON CONFLICT (prefix) DO UPDATE SET last_value = GREATEST(number_sequence.last_value, EXCLUDED.last_value);
"""


def add_changes(args, url):
    """Started changes for incidents to name as causes: `quorum seed --changes` when the binary
    has it, else the SQL fixture above."""
    if "--changes" in run([BINARY, "seed", "--help"]).stdout:
        seconds, _, out = timed(
            [BINARY, "seed", "--scale", "0", "--changes", str(args.changes), "--seed", str(args.seed)],
            {"DATABASE_URL": url},
        )
        print(f"seed --changes {args.changes}: {seconds:.1f} s ({out})")
    else:
        items = int(psql(DATABASE, "SELECT count(*) FROM configuration_item"))
        psql(DATABASE, CHANGE_FIXTURE.format(count=args.changes, items=items))
        print(f"changes: {args.changes} closed changes over two years added by SQL (no `seed --changes` yet)")


PAGE = """query { incidents(first: 50, filter: { priorities: [P1, P2], breached: true }) {
  totalCount
  nodes { number title priority state
    sla { responseBreached resolutionBreached }
    affectedItems { number name }
    causedByChange { number title } }
} }"""

# The same answer in one statement: the count, and the newest 50 with their CIs (as one JSON
# array each) and causing change. The breach rule is `query::breached_expr`.
BREACHED = """priority IN ('P1', 'P2') AND (COALESCE(responded_at, now()) > response_due
  OR COALESCE(resolved_at, on_hold_since, now()) > resolution_due)"""
RAW_PAGE = f"""SELECT (SELECT count(*) FROM incident WHERE {BREACHED}) AS total,
  i.number, i.title, i.priority, i.state,
  COALESCE(i.responded_at, now()) > i.response_due AS response_breached,
  COALESCE(i.resolved_at, i.on_hold_since, now()) > i.resolution_due AS resolution_breached,
  (SELECT json_agg(json_build_array(c.number, c.name) ORDER BY c.number)
     FROM incident_affected_item a JOIN configuration_item c ON c.id = a.ci_id
    WHERE a.incident_id = i.id) AS items,
  ch.number AS change_number, ch.title AS change_title
FROM (SELECT * FROM incident WHERE {BREACHED} ORDER BY number DESC LIMIT 50) i
LEFT JOIN change_request ch ON ch.id = i.caused_by_change_id
ORDER BY i.number DESC"""


def api_answer(data):
    page = data["data"]["incidents"]
    rows = []
    for node in page["nodes"]:
        change = node["causedByChange"]
        rows.append((
            node["number"],
            node["priority"],
            node["state"],
            node["sla"]["responseBreached"],
            node["sla"]["resolutionBreached"],
            tuple(sorted(item["number"] for item in node["affectedItems"])),
            change["number"] if change else None,
        ))
    return page["totalCount"], rows


def raw_answer(database):
    out = psql(database, f"SELECT json_agg(r) FROM ({RAW_PAGE}) r")
    rows = json.loads(out) or []
    total = rows[0]["total"] if rows else 0
    return total, [
        (
            row["number"],
            row["priority"],
            row["state"],
            row["response_breached"],
            row["resolution_breached"],
            tuple(sorted(number for number, _ in (row["items"] or []))),
            row["change_number"],
        )
        for row in rows
    ]


def raw_timings(database, runs):
    sql = RAW_PAGE.replace("\n", " ")
    script = "\\timing on\n" + "".join(f"{sql};\n" for _ in range(runs))
    result = subprocess.run(
        ["psql", f"{PG}/{database}", "-q", "-o", "/dev/null"],
        input=script, capture_output=True, text=True, check=True,
    )
    return [float(t) for t in re.findall(r"Time: ([0-9.]+) ms", result.stdout + result.stderr)]


def page_bench(args, address):
    client = Client(address, token("ENGINEER"))
    for _ in range(3):
        client.graphql(PAGE, {})
    api = []
    for _ in range(args.runs):
        elapsed, status, data = client.graphql(PAGE, {})
        if status != 200 or "errors" in data:
            sys.exit(f"GraphQL errors: {status} {data.get('errors')}")
        api.append(elapsed)
    raw = raw_timings(DATABASE, args.runs + 3)[3:]
    # The same answer: judged at (nearly) the same instant, back to back.
    _, _, data = client.graphql(PAGE, {})
    api_total, api_rows = api_answer(data)
    raw_total, raw_rows = raw_answer(DATABASE)
    with_items = sum(1 for row in api_rows if row[5])
    with_change = sum(1 for row in api_rows if row[6])
    print(f"breached P1/P2, first 50: totalCount {api_total}; on the page {with_items} with CIs, {with_change} with a causing change")
    print(f"  API over HTTP : median {statistics.median(api):.1f} ms, p90 {p90(api):.1f} ms ({args.runs} runs)")
    print(f"  raw SQL (psql): median {statistics.median(raw):.1f} ms, p90 {p90(raw):.1f} ms")
    print(f"  ratio API / SQL: {statistics.median(api) / statistics.median(raw):.2f}")
    if (api_total, api_rows) == (raw_total, raw_rows):
        print("  same answer: yes (count, numbers, priorities, states, breaches, CIs, changes)")
    else:
        print(f"  WARNING: answers differ: API count {api_total}, SQL count {raw_total}")
        for a, r in zip(api_rows, raw_rows):
            if a != r:
                print(f"    API {a}\n    SQL {r}")
                break


CREATE = """mutation($input: CreateIncidentInput!) { createIncident(input: $input) { id number priority } }"""


def create_bench(args, address):
    ids = psql(
        DATABASE,
        "SELECT id FROM configuration_item WHERE status <> 'RETIRED' ORDER BY number LIMIT 2000",
    ).split()
    levels = ["HIGH", "MEDIUM", "LOW"]
    bearer = token("ENGINEER", "bench.engineer")
    before = int(psql(DATABASE, "SELECT count(*) FROM incident"))
    lock = threading.Lock()
    next_index = [0]
    latencies = []
    errors = []

    def worker():
        client = Client(address, bearer)
        mine = []
        while True:
            with lock:
                index = next_index[0]
                if index >= args.creates:
                    break
                next_index[0] += 1
            variables = {"input": {
                "title": f"Bench incident {index}",
                "description": "Created by bench/incident.py",
                "impact": levels[index % 3],
                "urgency": levels[(index // 3) % 3],
                "affectedItemIds": [ids[index % len(ids)], ids[(index * 7 + 1) % len(ids)]],
                "caller": "bench.caller",
            }}
            try:
                elapsed, status, data = client.graphql(CREATE, variables)
                if status != 200 or "errors" in data:
                    with lock:
                        errors.append(f"{status} {data.get('errors')}")
                else:
                    mine.append(elapsed)
            except Exception as error:  # a dropped connection counts as an error
                with lock:
                    errors.append(repr(error))
                client = Client(address, bearer)
        with lock:
            latencies.extend(mine)

    # Warm the pool and the prepared statements first.
    warm = Client(address, bearer)
    for index in range(20):
        warm.graphql(CREATE, {"input": {"title": f"Warm-up {index}", "impact": "LOW", "urgency": "LOW",
                                        "affectedItemIds": [ids[index]]}})
    threads = [threading.Thread(target=worker) for _ in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    after = int(psql(DATABASE, "SELECT count(*) FROM incident"))
    numbers = psql(
        DATABASE,
        "SELECT count(*), count(DISTINCT number) FROM incident WHERE title LIKE 'Bench incident %'",
    ).strip()
    print(f"createIncident, {args.clients} concurrent clients, {args.creates} creates (2 CIs each):")
    print(f"  {seconds:.1f} s, {len(latencies) / seconds:.0f} creates/s, {len(errors)} errors")
    if latencies:
        print(f"  latency: median {statistics.median(latencies):.1f} ms, p90 {p90(latencies):.1f} ms, max {max(latencies):.1f} ms")
    print(f"  incidents in the database: {before} -> {after} (+{after - before}, 20 warm-ups); rows, distinct numbers: {numbers}")
    for error in errors[:5]:
        print(f"  error: {error[:300]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=50_000)
    parser.add_argument("--incidents", type=int, default=300_000)
    parser.add_argument("--changes", type=int, default=3_000, help="started changes to add before the incidents")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--creates", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--skip-page", action="store_true")
    parser.add_argument("--skip-create", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep run left")
    parser.add_argument("--keep", action="store_true", help="leave the database for inspection")
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"build first: cargo build --release -p quorum-server ({BINARY} is missing)")
    url = f"{PG}/{DATABASE}"
    if not args.reuse:
        recreate(DATABASE)
        run([BINARY, "migrate"], env={"DATABASE_URL": url})
        seconds, mib, out = timed(
            [BINARY, "seed", "--scale", str(args.scale), "--seed", str(args.seed)], {"DATABASE_URL": url}
        )
        print(f"seed --scale {args.scale}: {seconds:.1f} s, peak {mib:.0f} MiB ({out})")
        if args.changes:
            add_changes(args, url)
        seconds, mib, out = timed(
            [BINARY, "seed", "--scale", "0", "--incidents", str(args.incidents), "--seed", str(args.seed)],
            {"DATABASE_URL": url},
        )
        print(f"seed --scale 0 --incidents {args.incidents}: {seconds:.1f} s, peak {mib:.0f} MiB")
        for line in out.splitlines():
            print(f"  {line}")
    server = Server(url)
    try:
        if not args.skip_page:
            page_bench(args, server.address)
        if not args.skip_create:
            create_bench(args, server.address)
    finally:
        server.stop()
    if not args.keep:
        psql("postgres", f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
