#!/usr/bin/env python3
"""CMDB benchmark: impact-walk latency through the HTTP API against the same walk as one raw
recursive SQL query (psql), and bulk import time and peak memory on PostgreSQL and SQLite.

Run from the repository root, after `cargo build --release -p quorum-server`:

    python3 bench/cmdb.py [--scale 50000] [--runs 30] [--import-items 100000 --import-relationships 300000]

Needs a PostgreSQL server that the `postgres` role may create databases on (QUORUM_BENCH_PG,
default postgres://postgres@127.0.0.1:5432) and psql. It creates and drops its own databases.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "quorum")
PG = os.environ.get("QUORUM_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SECRET = "quorum-bench-secret-0123456789abcdef-0123456789"


def run(args, env=None, capture=True):
    full_env = dict(os.environ, QUORUM_LOG="warn", **(env or {}))
    result = subprocess.run(args, env=full_env, capture_output=capture, text=True)
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


def median_ms(samples):
    return statistics.median(samples)


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
        host, port = self.address.split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=120)
        self.token = run(
            [BINARY, "token", "--sub", "bench", "--role", "CAB_MEMBER"],
            env={"QUORUM_JWT_SECRET": SECRET},
        ).stdout.strip()

    def graphql(self, query, variables):
        body = json.dumps({"query": query, "variables": variables})
        started = time.perf_counter()
        self.connection.request(
            "POST",
            "/graphql",
            body=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        data = json.loads(payload)
        if "errors" in data:
            sys.exit(f"GraphQL errors: {data['errors']}")
        return elapsed, data

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


IMPACT = """query($id: ID, $depth: Int!) { configurationItem(id: $id) {
  impact(depth: $depth) { truncated items { distance item { id number name class } } }
} }"""

HOT_DATABASE = """SELECT r.target_id FROM ci_relationship r JOIN configuration_item c ON c.id = r.target_id
WHERE c.class = 'DATABASE' AND r.removed_at IS NULL GROUP BY r.target_id ORDER BY count(*) DESC, r.target_id LIMIT 1"""

RAW_WALK = """WITH RECURSIVE walk(id, depth) AS (
  SELECT '{root}'::text, 0
  UNION
  SELECT r.source_id, w.depth + 1 FROM walk w
  JOIN ci_relationship r ON r.target_id = w.id AND r.removed_at IS NULL
  WHERE w.depth < {depth}
)
SELECT c.id, c.number, c.name, c.class, min(w.depth) FROM walk w
JOIN configuration_item c ON c.id = w.id WHERE w.id <> '{root}'
GROUP BY c.id, c.number, c.name, c.class"""


def raw_walk_timings(database, root, depth, runs):
    sql = RAW_WALK.format(root=root, depth=depth).replace("\n", " ")
    script = "\\timing on\n" + "".join(f"{sql};\n" for _ in range(runs))
    result = subprocess.run(
        ["psql", f"{PG}/{database}", "-q", "-o", "/dev/null"],
        input=script, capture_output=True, text=True, check=True,
    )
    times = [float(t) for t in re.findall(r"Time: ([0-9.]+) ms", result.stdout + result.stderr)]
    rows = int(psql(database, f"SELECT count(*) FROM ({sql}) walked"))
    return times, rows


def impact_bench(args):
    database = "quorum_bench_impact"
    recreate(database)
    url = f"{PG}/{database}"
    seconds, mib, out = timed([BINARY, "seed", "--scale", str(args.scale), "--seed", "1"], {"DATABASE_URL": url})
    print(f"seed --scale {args.scale}: {seconds:.1f} s, peak {mib:.0f} MiB ({out})")
    root = psql(database, HOT_DATABASE).strip()
    server = Server(url)
    try:
        for _ in range(3):
            server.graphql(IMPACT, {"id": root, "depth": args.depth})
        api = []
        reached = 0
        for _ in range(args.runs):
            elapsed, data = server.graphql(IMPACT, {"id": root, "depth": args.depth})
            api.append(elapsed)
            reached = len(data["data"]["configurationItem"]["impact"]["items"])
    finally:
        server.stop()
    raw, rows = raw_walk_timings(database, root, args.depth, args.runs + 3)
    raw = raw[3:]
    print(f"impact(depth: {args.depth}) of the most depended-on database ({root}): {reached} CIs reached")
    print(f"  API over HTTP : median {median_ms(api):.1f} ms, p90 {sorted(api)[int(len(api) * 0.9)]:.1f} ms ({args.runs} runs)")
    print(f"  raw SQL (psql): median {median_ms(raw):.1f} ms, p90 {sorted(raw)[int(len(raw) * 0.9)]:.1f} ms ({rows} rows)")
    print(f"  ratio API / SQL: {median_ms(api) / median_ms(raw):.2f}")
    if rows != reached:
        print(f"  WARNING: the SQL walk reached {rows} CIs, the API {reached}")
    psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def import_bench(args):
    workdir = tempfile.mkdtemp(prefix="quorum-bench-")
    try:
        path = os.path.join(workdir, "estate.json")
        run([BINARY, "seed", "--scale", str(args.import_items), "--seed", "2", "--output", path])
        with open(path) as file:
            estate = json.load(file)
        estate["relationships"] = estate["relationships"][: args.import_relationships]
        with open(path, "w") as file:
            json.dump(estate, file)
        size = os.path.getsize(path) / (1 << 20)
        print(f"import file: {len(estate['items'])} CIs, {len(estate['relationships'])} relationships, {size:.0f} MiB")
        del estate
        database = "quorum_bench_import"
        recreate(database)
        targets = [
            ("PostgreSQL", f"{PG}/{database}"),
            ("SQLite", f"sqlite://{os.path.join(workdir, 'bench.db')}?mode=rwc"),
        ]
        for name, url in targets:
            run([BINARY, "migrate"], env={"DATABASE_URL": url})
            seconds, mib, out = timed([BINARY, "import", path], {"DATABASE_URL": url})
            print(f"  {name:10}: {seconds:.1f} s, peak {mib:.0f} MiB -- {out}")
            seconds, mib, out = timed([BINARY, "import", path], {"DATABASE_URL": url})
            print(f"  {name:10} again: {seconds:.1f} s, peak {mib:.0f} MiB -- {out}")
        psql("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=50_000)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--import-items", type=int, default=100_000)
    parser.add_argument("--import-relationships", type=int, default=300_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-impact", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("build first: cargo build --release -p quorum-server")
    if not args.skip_impact:
        impact_bench(args)
    if not args.skip_import:
        import_bench(args)


if __name__ == "__main__":
    main()
