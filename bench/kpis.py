#!/usr/bin/env python3
"""KPI benchmark: `changeKpis` and `incidentKpis` over the last 12 whole months, by month,
through the HTTP API against one hand-written SQL aggregate for the same figures, on
PostgreSQL and SQLite, after checking that both give the same figures.

Run from the repository root, after `cargo build --release -p quorum-server` (the binary is
$QUORUM_BENCH_BINARY, else release/quorum under $CARGO_TARGET_DIR, else under ./target):

    python3 bench/kpis.py [--backend both|postgres|sqlite] [--scale 50000] [--changes 100000]
                          [--incidents 300000] [--runs 30] [--keep | --reuse]

Data: `quorum seed --scale S --changes N --incidents M --seed 1`: the CMDB, then N changes and
M incidents over the two years before now, as the product would have made them (about 5% of
the incidents name a started change as their cause). A binary without `seed --changes` gets the
changes from a small generator here instead (deterministic, written straight into the tables,
no events). PostgreSQL needs a server the `postgres` role may create databases on
(QUORUM_BENCH_PG, default postgres://postgres@127.0.0.1:5432) and psql; SQLite lives in
$TMPDIR. --keep leaves both databases, --reuse runs on the ones a --keep run left.
"""

import argparse
import csv
import datetime as dt
import http.client
import io
import json
import math
import os
import random
import re
import sqlite3
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
DATABASE = "quorum_bench_kpis"
SQLITE_FILE = os.path.join(tempfile.gettempdir(), "quorum_bench_kpis.db")
UTC = dt.timezone.utc


def run(args, env=None):
    result = subprocess.run(args, env=dict(os.environ, QUORUM_LOG="warn", **(env or {})), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def psql(sql, database=DATABASE, stdin=None):
    args = ["psql", f"{PG}/{database}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql]
    result = subprocess.run(args, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"psql failed:\n{result.stderr}")
    return result.stdout


def timed(args, env):
    """Wall seconds and what the command printed."""
    started = time.perf_counter()
    out = run(args, env=env).stdout.strip()
    return time.perf_counter() - started, out


def p90(samples):
    return sorted(samples)[int(len(samples) * 0.9)]


# ---------------------------------------------------------------------------------------------
# The changes.

COLUMNS = [
    "id", "number", "change_type", "state", "title", "justification", "implementation_plan",
    "backout_plan", "requested_by", "assignee", "planned_start", "planned_end", "actual_start",
    "actual_end", "outcome", "risk_score", "risk_level", "submitted_at", "referred_at",
    "decided_at", "completed_at", "closed_at", "version", "created_at", "updated_at",
]


def stamp(instant):
    """As sqlx writes a whole-second `DateTime<Utc>` on SQLite (and PostgreSQL reads it)."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S+00:00") if instant else None


def generate_changes(count, ci_ids, now, seed):
    """Rows of `change_request` and `change_affected_item`: `count` changes submitted over the
    two years before `now`, each life cut at `now`."""
    rng = random.Random(seed)
    start = now - dt.timedelta(days=730)
    span = dt.timedelta(days=725).total_seconds()
    hours = lambda low, high: dt.timedelta(seconds=int(rng.uniform(low, high) * 3600))
    changes, items = [], []
    for n in range(1, count + 1):
        submitted = start + dt.timedelta(seconds=int(span * (n - 1) / count + rng.uniform(0, 6 * 3600)))
        roll = rng.random()
        change_type = "EMERGENCY" if roll < 0.08 else "STANDARD" if roll < 0.30 else "NORMAL"
        referred = decided = started = completed = closed = None
        outcome = None
        fate = rng.random()
        if change_type == "STANDARD":
            decided = submitted
        elif change_type == "EMERGENCY":
            referred = submitted
            decided = submitted + hours(0.25, 6)
        elif rng.random() < 0.35:
            referred = submitted + hours(1, 48)
            decided = referred + hours(2, 168)
        else:
            decided = submitted + hours(1, 72)
        rejected = change_type != "STANDARD" and fate < 0.03
        cancelled = not rejected and fate < 0.07
        if cancelled:
            closed = submitted + hours(1, 240)
            if closed < decided:
                referred = referred if referred and referred < closed else None
                decided = None
        elif not rejected:
            started = decided + (hours(0.2, 12) if change_type == "EMERGENCY" else hours(2, 240))
            completed = started + hours(0.5, 6)
            roll = rng.random()
            outcome = ("SUCCESSFUL" if roll < 0.85 else "SUCCESSFUL_WITH_ISSUES" if roll < 0.92
                       else "FAILED" if roll < 0.97 else "BACKED_OUT")
            # Failures wait for their review; a few stay in REVIEW for good.
            if outcome in ("FAILED", "BACKED_OUT") and rng.random() < 0.1:
                closed = None
            else:
                closed = completed + hours(1, 24 * (14 if outcome in ("FAILED", "BACKED_OUT") else 5))
        # Cut the life at now.
        life = [("submitted", submitted), ("referred", referred), ("decided", decided),
                ("started", started), ("completed", completed), ("closed", closed)]
        seen = {name: when for name, when in life if when is not None and when <= now}
        referred, decided = seen.get("referred"), seen.get("decided")
        started, completed, closed = seen.get("started"), seen.get("completed"), seen.get("closed")
        if cancelled and closed:
            state = "CANCELLED"
        elif rejected and decided:
            state = "REJECTED"
        elif closed:
            state = "CLOSED"
        elif completed:
            state = "REVIEW"
        elif started:
            state = "IMPLEMENTING"
        elif decided and not rejected:
            state = "SCHEDULED" if rng.random() < 0.7 else "AUTHORIZED"
        else:
            state = "CAB_REVIEW" if referred else "ASSESSMENT"
        if not completed:
            outcome = None
        planned = (started or decided + hours(24, 240)) if decided and state not in ("REJECTED", "CANCELLED") else None
        score = rng.randint(0, 100)
        change_id = f"bench-chg-{n:07d}"
        changes.append([
            change_id, f"CHG{n:07d}", change_type, state, f"Change {n} to the estate", "Generated",
            "Plan", "Backout", f"engineer{n % 40}", f"implementer{n % 25}",
            stamp(planned), stamp(planned + dt.timedelta(hours=2)) if planned else None,
            stamp(started), stamp(completed), outcome, score,
            "LOW" if score < 25 else "MEDIUM" if score < 50 else "HIGH" if score < 75 else "VERY_HIGH",
            stamp(submitted), stamp(referred), stamp(decided), stamp(completed), stamp(closed), 1,
            stamp(submitted - dt.timedelta(hours=2)), stamp(max(t for t in (submitted, decided, started, completed, closed) if t)),
        ])
        for ci in rng.sample(ci_ids, rng.randint(1, 3)):
            items.append([change_id, ci])
    return changes, items


def add_changes_postgres(changes, items):
    def copy(table, columns, rows):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow(["\\N" if value is None else value for value in row])
        psql(f"\\copy {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", stdin=buffer.getvalue())
    copy("change_request", COLUMNS, changes)
    copy("change_affected_item", ["change_id", "ci_id"], items)
    psql(f"INSERT INTO number_sequence (prefix, last_value) VALUES ('CHG', {len(changes)}) "
         "ON CONFLICT (prefix) DO UPDATE SET last_value = EXCLUDED.last_value; ANALYZE;")


def add_changes_sqlite(changes, items):
    db = sqlite3.connect(SQLITE_FILE)
    with db:
        db.executemany(f"INSERT INTO change_request ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", changes)
        db.executemany("INSERT INTO change_affected_item (change_id, ci_id) VALUES (?, ?)", items)
        db.execute("INSERT INTO number_sequence (prefix, last_value) VALUES ('CHG', ?) "
                   "ON CONFLICT (prefix) DO UPDATE SET last_value = excluded.last_value", (len(changes),))
    db.execute("ANALYZE")
    db.close()


def seed(backend, args):
    url = f"{PG}/{DATABASE}" if backend == "postgres" else f"sqlite://{SQLITE_FILE}?mode=rwc"
    if args.reuse:
        return url
    if backend == "postgres":
        psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', "postgres")
        psql(f'CREATE DATABASE "{DATABASE}"', "postgres")
    else:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(SQLITE_FILE + suffix):
                os.remove(SQLITE_FILE + suffix)
    env = {"DATABASE_URL": url}
    run([BINARY, "migrate"], env=env)
    if "--changes" in run([BINARY, "seed", "--help"]).stdout:
        command = [BINARY, "seed", "--scale", str(args.scale), "--changes", str(args.changes),
                   "--incidents", str(args.incidents), "--seed", str(args.seed)]
        seconds, out = timed(command, env)
        print(f"  {' '.join(command[1:])}: {seconds:.1f} s")
        for line in out.splitlines():
            print(f"    {line}")
        return url
    seconds, _ = timed([BINARY, "seed", "--scale", str(args.scale), "--seed", str(args.seed)], env)
    print(f"  seed --scale {args.scale}: {seconds:.1f} s")
    if backend == "postgres":
        ci_ids = psql("SELECT id FROM configuration_item WHERE status <> 'RETIRED' ORDER BY number").split()
    else:
        db = sqlite3.connect(SQLITE_FILE)
        ci_ids = [row[0] for row in db.execute("SELECT id FROM configuration_item WHERE status <> 'RETIRED' ORDER BY number")]
        db.close()
    now = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    changes, items = generate_changes(args.changes, ci_ids, now, args.seed)
    (add_changes_postgres if backend == "postgres" else add_changes_sqlite)(changes, items)
    print(f"  {len(changes)} changes, {len(items)} CI links: {time.perf_counter() - started:.1f} s")
    seconds, out = timed([BINARY, "seed", "--scale", "0", "--incidents", str(args.incidents), "--seed", str(args.seed)], env)
    print(f"  seed --scale 0 --incidents {args.incidents}: {seconds:.1f} s")
    for line in out.splitlines():
        print(f"    {line}")
    return url


# ---------------------------------------------------------------------------------------------
# The queries.

CHANGE_FIGURES = ("completed successful successfulWithIssues failed backedOut emergency causingIncidents "
                  "successRate failureRate emergencyRatio meanLeadTimeHours cabDecisions meanCabDecisionHours backlog")
INCIDENT_FIGURES = "opened resolved mttaMinutes mttrMinutes slaCompliance reopenRate"

CHANGE_QUERY = f"""query($from: DateTime!, $to: DateTime!) {{ changeKpis(from: $from, to: $to, bucket: MONTH) {{
  totals {{ start {CHANGE_FIGURES} }} series {{ start {CHANGE_FIGURES} }} }} }}"""
INCIDENT_QUERY = f"""query($from: DateTime!, $to: DateTime!) {{ incidentKpis(from: $from, to: $to, bucket: MONTH) {{
  totals {{ start {INCIDENT_FIGURES} byPriority {{ priority {INCIDENT_FIGURES} }} }}
  series {{ start {INCIDENT_FIGURES} byPriority {{ priority {INCIDENT_FIGURES} }} }} }} }}"""
SERVICE_QUERY = f"""query($from: DateTime!, $to: DateTime!, $service: ID!) {{
  changeKpis(from: $from, to: $to, bucket: MONTH, filter: {{ businessServiceId: $service }}) {{
  totals {{ {CHANGE_FIGURES} }} series {{ start {CHANGE_FIGURES} }} }} }}"""

# The same figures by hand, as fast as we could write them for PostgreSQL: date_trunc per month,
# FILTER clauses, the causing changes as one hashed set looked up once per change, the backlog
# as a running sum of what entered and what left (what came before the range lands in the first
# month), seconds as double precision (date_part; extract() is numeric).
RAW_CHANGES_POSTGRES = """
WITH months AS (
  SELECT m FROM generate_series(TIMESTAMP '{from_}', TIMESTAMP '{to}' - interval '1 month', interval '1 month') m),
completed AS MATERIALIZED (
  SELECT c.outcome, c.change_type, c.submitted_at, c.completed_at,
    c.id IN (SELECT caused_by_change_id FROM incident WHERE caused_by_change_id IS NOT NULL) AS caused
  FROM change_request c WHERE c.completed_at >= '{from_}+00' AND c.completed_at < '{to}+00'),
done AS (
  SELECT date_trunc('month', c.completed_at AT TIME ZONE 'UTC') AS m, count(*) AS completed,
    count(*) FILTER (WHERE c.outcome = 'SUCCESSFUL') AS successful,
    count(*) FILTER (WHERE c.outcome = 'SUCCESSFUL_WITH_ISSUES') AS with_issues,
    count(*) FILTER (WHERE c.outcome = 'FAILED') AS failed,
    count(*) FILTER (WHERE c.outcome = 'BACKED_OUT') AS backed_out,
    count(*) FILTER (WHERE c.change_type = 'EMERGENCY') AS emergency,
    count(*) FILTER (WHERE c.caused) AS causing,
    count(*) FILTER (WHERE c.outcome IN ('FAILED', 'BACKED_OUT') OR c.caused) AS failing,
    avg(date_part('epoch', c.completed_at - c.submitted_at)) / 3600 AS lead_hours
  FROM completed c GROUP BY 1),
cab AS (
  SELECT date_trunc('month', decided_at AT TIME ZONE 'UTC') AS m, count(*) AS decisions,
    avg(date_part('epoch', decided_at - referred_at)) / 3600 AS hours
  FROM change_request WHERE referred_at IS NOT NULL AND decided_at >= '{from_}+00' AND decided_at < '{to}+00'
  GROUP BY 1),
flow AS (
  SELECT greatest(date_trunc('month', submitted_at AT TIME ZONE 'UTC'), TIMESTAMP '{from_}') AS m, count(*) AS d
  FROM change_request WHERE submitted_at < '{to}+00' GROUP BY 1
  UNION ALL
  SELECT greatest(date_trunc('month', f AT TIME ZONE 'UTC'), TIMESTAMP '{from_}'), -count(*)
  FROM (SELECT greatest(coalesce(closed_at, CASE WHEN state = 'REJECTED' THEN decided_at END), submitted_at) AS f
        FROM change_request WHERE submitted_at < '{to}+00'
          AND coalesce(closed_at, CASE WHEN state = 'REJECTED' THEN decided_at END) IS NOT NULL) x
  WHERE f < '{to}+00' GROUP BY 1),
backlog AS (
  SELECT months.m, sum(coalesce(sum(flow.d), 0)) OVER (ORDER BY months.m) AS open
  FROM months LEFT JOIN flow ON flow.m = months.m GROUP BY months.m)
SELECT to_char(months.m, 'YYYY-MM-DD'), coalesce(completed, 0), coalesce(successful, 0), coalesce(with_issues, 0),
  coalesce(failed, 0), coalesce(backed_out, 0), coalesce(emergency, 0), coalesce(causing, 0), coalesce(failing, 0),
  lead_hours, coalesce(decisions, 0), hours, open
FROM months LEFT JOIN done USING (m) LEFT JOIN cab USING (m) LEFT JOIN backlog USING (m) ORDER BY months.m
"""

RAW_INCIDENTS_POSTGRES = """
WITH months AS (
  SELECT m FROM generate_series(TIMESTAMP '{from_}', TIMESTAMP '{to}' - interval '1 month', interval '1 month') m),
o AS (
  SELECT date_trunc('month', opened_at AT TIME ZONE 'UTC') AS m, priority, count(*) AS n, count(responded_at) AS responded,
    sum(date_part('epoch', responded_at - opened_at)) AS seconds
  FROM incident WHERE opened_at >= '{from_}+00' AND opened_at < '{to}+00' GROUP BY 1, 2),
r AS (
  SELECT date_trunc('month', resolved_at AT TIME ZONE 'UTC') AS m, priority, count(*) AS n,
    sum(date_part('epoch', resolved_at - opened_at) - paused_seconds) AS seconds,
    count(*) FILTER (WHERE resolved_at <= resolution_due) AS in_time, count(*) FILTER (WHERE reopen_count > 0) AS reopened
  FROM incident WHERE resolved_at >= '{from_}+00' AND resolved_at < '{to}+00' GROUP BY 1, 2),
opened AS (
  SELECT m, priority, n, responded, seconds FROM o
  UNION ALL SELECT m, 'ALL', sum(n), sum(responded), sum(seconds) FROM o GROUP BY m),
resolved AS (
  SELECT m, priority, n, seconds, in_time, reopened FROM r
  UNION ALL SELECT m, 'ALL', sum(n), sum(seconds), sum(in_time), sum(reopened) FROM r GROUP BY m)
SELECT to_char(months.m, 'YYYY-MM-DD'), p.priority, coalesce(opened.n, 0), coalesce(resolved.n, 0),
  opened.seconds / nullif(opened.responded, 0) / 60, resolved.seconds / resolved.n / 60,
  resolved.in_time::float / resolved.n, resolved.reopened::float / resolved.n
FROM months CROSS JOIN (VALUES ('ALL'), ('P1'), ('P2'), ('P3'), ('P4'), ('P5')) p(priority)
LEFT JOIN opened ON opened.m = months.m AND opened.priority = p.priority
LEFT JOIN resolved ON resolved.m = months.m AND resolved.priority = p.priority
ORDER BY months.m, p.priority
"""

# SQLite has no date_trunc or greatest(); the months are strftime('%Y-%m-01'), the seconds
# julianday differences (Python's sqlite3 predates unixepoch(…, 'subsec')).
RAW_CHANGES_SQLITE = """
WITH RECURSIVE months(m) AS (SELECT '{from_date}' UNION ALL SELECT date(m, '+1 month') FROM months WHERE date(m, '+1 month') < '{to_date}'),
done AS (
  SELECT strftime('%Y-%m-01', c.completed_at) AS m, count(*) AS completed,
    count(*) FILTER (WHERE c.outcome = 'SUCCESSFUL') AS successful,
    count(*) FILTER (WHERE c.outcome = 'SUCCESSFUL_WITH_ISSUES') AS with_issues,
    count(*) FILTER (WHERE c.outcome = 'FAILED') AS failed,
    count(*) FILTER (WHERE c.outcome = 'BACKED_OUT') AS backed_out,
    count(*) FILTER (WHERE c.change_type = 'EMERGENCY') AS emergency,
    count(*) FILTER (WHERE c.caused) AS causing,
    count(*) FILTER (WHERE c.outcome IN ('FAILED', 'BACKED_OUT') OR c.caused) AS failing,
    avg((julianday(c.completed_at) - julianday(c.submitted_at)) * 24) AS lead_hours
  FROM (SELECT c.*, c.id IN (SELECT caused_by_change_id FROM incident WHERE caused_by_change_id IS NOT NULL) AS caused
        FROM change_request c WHERE c.completed_at >= '{from_}' AND c.completed_at < '{to}') c
  GROUP BY 1),
cab AS (
  SELECT strftime('%Y-%m-01', decided_at) AS m, count(*) AS decisions,
    avg((julianday(decided_at) - julianday(referred_at)) * 24) AS hours
  FROM change_request WHERE referred_at IS NOT NULL AND decided_at >= '{from_}' AND decided_at < '{to}'
  GROUP BY 1),
flow AS (
  SELECT max(strftime('%Y-%m-01', submitted_at), '{from_date}') AS m, count(*) AS d
  FROM change_request WHERE submitted_at < '{to}' GROUP BY 1
  UNION ALL
  SELECT max(strftime('%Y-%m-01', f), '{from_date}'), -count(*)
  FROM (SELECT max(coalesce(closed_at, CASE WHEN state = 'REJECTED' THEN decided_at END), submitted_at) AS f
        FROM change_request WHERE submitted_at < '{to}' AND coalesce(closed_at, CASE WHEN state = 'REJECTED' THEN decided_at END) IS NOT NULL) x
  WHERE f < '{to}' GROUP BY 1),
backlog AS (
  SELECT months.m, sum(coalesce((SELECT sum(d) FROM flow WHERE flow.m = months.m), 0)) OVER (ORDER BY months.m) AS open
  FROM months)
SELECT months.m, coalesce(completed, 0), coalesce(successful, 0), coalesce(with_issues, 0), coalesce(failed, 0),
  coalesce(backed_out, 0), coalesce(emergency, 0), coalesce(causing, 0), coalesce(failing, 0), lead_hours,
  coalesce(decisions, 0), hours, open
FROM months LEFT JOIN done USING (m) LEFT JOIN cab USING (m) LEFT JOIN backlog USING (m) ORDER BY months.m
"""

RAW_INCIDENTS_SQLITE = """
WITH RECURSIVE months(m) AS (SELECT '{from_date}' UNION ALL SELECT date(m, '+1 month') FROM months WHERE date(m, '+1 month') < '{to_date}'),
o AS (
  SELECT strftime('%Y-%m-01', opened_at) AS m, priority, opened_at, responded_at
  FROM incident WHERE opened_at >= '{from_}' AND opened_at < '{to}'),
opened AS (
  SELECT m, priority, count(*) AS opened, avg((julianday(responded_at) - julianday(opened_at)) * 1440) AS mtta FROM o GROUP BY 1, 2
  UNION ALL
  SELECT m, 'ALL', count(*), avg((julianday(responded_at) - julianday(opened_at)) * 1440) FROM o GROUP BY 1),
r AS (
  SELECT strftime('%Y-%m-01', resolved_at) AS m, priority, (julianday(resolved_at) - julianday(opened_at)) * 1440 - paused_seconds / 60.0 AS minutes,
    CASE WHEN resolved_at <= resolution_due THEN 1.0 ELSE 0.0 END AS in_time, CASE WHEN reopen_count > 0 THEN 1.0 ELSE 0.0 END AS reopened
  FROM incident WHERE resolved_at >= '{from_}' AND resolved_at < '{to}'),
resolved AS (
  SELECT m, priority, count(*) AS resolved, avg(minutes) AS mttr, avg(in_time) AS sla, avg(reopened) AS reopen FROM r GROUP BY 1, 2
  UNION ALL
  SELECT m, 'ALL', count(*), avg(minutes), avg(in_time), avg(reopened) FROM r GROUP BY 1),
priorities(priority) AS (VALUES ('ALL'), ('P1'), ('P2'), ('P3'), ('P4'), ('P5'))
SELECT months.m, p.priority, coalesce(opened, 0), coalesce(resolved, 0), mtta, mttr, sla, reopen
FROM months CROSS JOIN priorities p
LEFT JOIN opened ON opened.m = months.m AND opened.priority = p.priority
LEFT JOIN resolved ON resolved.m = months.m AND resolved.priority = p.priority
ORDER BY months.m, p.priority
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
        self.connection = http.client.HTTPConnection(host, int(port), timeout=300)
        self.token = run([BINARY, "token", "--sub", "bench", "--role", "SERVICE_HEAD"],
                         env={"QUORUM_JWT_SECRET": SECRET}).stdout.strip()

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
        return elapsed, data["data"]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def psql_timings(sql, runs):
    """Round trip times of `sql` run `runs` times by psql (\\timing): sent, run, rows back."""
    one_line = " ".join(sql.split())
    script = "\\timing on\n" + "".join(f"{one_line};\n" for _ in range(runs))
    result = subprocess.run(["psql", f"{PG}/{DATABASE}", "-q", "-o", "/dev/null"], input=script,
                            capture_output=True, text=True, check=True)
    return [float(t) for t in re.findall(r"Time: ([0-9.]+) ms", result.stdout + result.stderr)]


def sqlite_timings(sql, runs):
    """Times of `sql` run `runs` times in this process (Python's sqlite3, all rows fetched)."""
    db = sqlite3.connect(SQLITE_FILE)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        db.execute(sql).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    db.close()
    return times


def raw_rows(backend, sql):
    if backend == "postgres":
        return [line.split("|") for line in psql(sql).strip().splitlines()]
    db = sqlite3.connect(SQLITE_FILE)
    rows = [["" if value is None else str(value) for value in row] for row in db.execute(sql)]
    db.close()
    return rows


def number(text):
    return None if text in ("", None) else float(text)


# PostgreSQL's seconds are exact to the microsecond on both sides; the SQLite baseline counts
# them with julianday(), good to about a millisecond.
TOLERANCE = {"postgres": 1e-9, "sqlite": 1e-6}


def same(a, b, tolerance):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def compare_changes(api, rows, tolerance):
    """Differences between the API's series and the SQL's rows."""
    differences = []
    if len(rows) != len(api["series"]):
        differences.append(f"{len(api['series'])} buckets vs {len(rows)} rows")
    for bucket, row in zip(api["series"], rows):
        if bucket["start"][:10] != row[0]:
            differences.append(f"bucket {bucket['start']} vs {row[0]}")
        values = [number(value) for value in row[1:]]
        completed, failing = values[0], values[7]
        expected = dict(zip(
            ["completed", "successful", "successfulWithIssues", "failed", "backedOut", "emergency", "causingIncidents"],
            values[:7],
        ))
        expected.update(meanLeadTimeHours=values[8], cabDecisions=values[9], meanCabDecisionHours=values[10],
                        backlog=values[11], failureRate=failing / completed if completed else None)
        for field, value in expected.items():
            if not same(bucket[field], value, tolerance):
                differences.append(f"{row[0]} {field} {bucket[field]} vs {value}")
    return differences


def compare_incidents(api, rows, tolerance):
    by_key = {(row[0], row[1]): row for row in rows}
    differences = []
    for bucket in api["series"]:
        month = bucket["start"][:10]
        groups = [("ALL", bucket)] + [(p["priority"], p) for p in bucket["byPriority"]]
        for priority, figures in groups:
            row = by_key.get((month, priority))
            if row is None:
                differences.append(f"{month} {priority} missing")
                continue
            for field, value in zip(["opened", "resolved", "mttaMinutes", "mttrMinutes", "slaCompliance", "reopenRate"],
                                    [number(value) for value in row[2:]]):
                if not same(figures[field], value, tolerance):
                    differences.append(f"{month} {priority} {field} {figures[field]} vs {value}")
    return differences


def measure(name, server, query, variables, raw_sql, backend, runs):
    for _ in range(3):
        server.graphql(query, variables)
    api, data = [], None
    for _ in range(runs):
        elapsed, data = server.graphql(query, variables)
        api.append(elapsed)
    raw = (psql_timings(raw_sql, runs + 3) if backend == "postgres" else sqlite_timings(raw_sql, runs + 3))[3:]
    ratio = statistics.median(api) / statistics.median(raw)
    print(f"  {name}")
    print(f"    API over HTTP : median {statistics.median(api):.1f} ms, p90 {p90(api):.1f} ms ({runs} runs)")
    where = "psql" if backend == "postgres" else "in-process sqlite3"
    print(f"    raw SQL ({where}): median {statistics.median(raw):.1f} ms, p90 {p90(raw):.1f} ms")
    print(f"    ratio API / SQL: {ratio:.2f}")
    return data


def bench(backend, args):
    print(f"{backend}:")
    url = seed(backend, args)
    today = dt.datetime.now(UTC)
    to = dt.datetime(today.year, today.month, 1, tzinfo=UTC)
    from_ = dt.datetime(to.year - 1, to.month, 1, tzinfo=UTC)
    variables = {"from": from_.isoformat(), "to": to.isoformat()}
    formats = {
        "from_": from_.strftime("%Y-%m-%d %H:%M:%S") if backend == "postgres" else stamp(from_),
        "to": to.strftime("%Y-%m-%d %H:%M:%S") if backend == "postgres" else stamp(to),
        "from_date": from_.strftime("%Y-%m-%d"),
        "to_date": to.strftime("%Y-%m-%d"),
    }
    raw_changes = (RAW_CHANGES_POSTGRES if backend == "postgres" else RAW_CHANGES_SQLITE).format(**formats)
    raw_incidents = (RAW_INCIDENTS_POSTGRES if backend == "postgres" else RAW_INCIDENTS_SQLITE).format(**formats)
    server = Server(url)
    try:
        print(f"  range [{variables['from']}, {variables['to']}), 12 monthly buckets")
        data = measure("changeKpis", server, CHANGE_QUERY, variables, raw_changes, backend, args.runs)
        totals = data["changeKpis"]["totals"]
        print(f"    totals: {totals['completed']} completed, {totals['causingIncidents']} causing incidents, "
              f"success {totals['successRate']:.4f}, failure {totals['failureRate']:.4f}, backlog {totals['backlog']}")
        differences = compare_changes(data["changeKpis"], raw_rows(backend, raw_changes), TOLERANCE[backend])
        print(f"    the SQL gives {'the same figures' if not differences else 'DIFFERENT figures: ' + '; '.join(differences[:10])}")
        data = measure("incidentKpis", server, INCIDENT_QUERY, variables, raw_incidents, backend, args.runs)
        totals = data["incidentKpis"]["totals"]
        print(f"    totals: {totals['opened']} opened, {totals['resolved']} resolved, MTTA {totals['mttaMinutes']:.1f} min, "
              f"MTTR {totals['mttrMinutes']:.1f} min, SLA {totals['slaCompliance']:.4f}, reopened {totals['reopenRate']:.4f}")
        differences = compare_incidents(data["incidentKpis"], raw_rows(backend, raw_incidents), TOLERANCE[backend])
        print(f"    the SQL gives {'the same figures' if not differences else 'DIFFERENT figures: ' + '; '.join(differences[:10])}")
        # Filtered by the business service with the largest dependency tree's share of changes:
        # the walk plus the report (no SQL to compare with; reported).
        service = (psql("SELECT id FROM configuration_item WHERE class = 'BUSINESS_SERVICE' ORDER BY number LIMIT 1").strip()
                   if backend == "postgres" else raw_rows(backend, "SELECT id FROM configuration_item WHERE class = 'BUSINESS_SERVICE' ORDER BY number LIMIT 1")[0][0])
        samples = []
        for run_index in range(args.runs + 3):
            elapsed, data = server.graphql(SERVICE_QUERY, dict(variables, service=service))
            if run_index >= 3:
                samples.append(elapsed)
        print(f"  changeKpis filtered by the first business service: median {statistics.median(samples):.1f} ms, "
              f"p90 {p90(samples):.1f} ms, {data['changeKpis']['totals']['completed']} completed")
    finally:
        server.stop()
    if not args.keep:
        if backend == "postgres":
            psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', "postgres")
        else:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(SQLITE_FILE + suffix):
                    os.remove(SQLITE_FILE + suffix)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["both", "postgres", "sqlite"], default="both")
    parser.add_argument("--scale", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="leave the databases for inspection")
    parser.add_argument("--reuse", action="store_true", help="use the databases a --keep run left")
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"build first: cargo build --release -p quorum-server ({BINARY} is missing)")
    for backend in (["postgres", "sqlite"] if args.backend == "both" else [args.backend]):
        bench(backend, args)


if __name__ == "__main__":
    main()
