#!/usr/bin/env python3
"""Abuse benchmark: what each hostile input of issue 16 costs a running `quorum serve`.

For each case it prints the time until the server answered (or refused), the server's peak
resident memory during the case (VmHWM, reset before each case through /proc/PID/clear_refs),
the CPU seconds the server spent, and how long a plain `/healthz` and a plain GraphQL query took
while the case ran (a server that stalls shows it there).

    cargo build --release -p quorum-server
    python3 bench/abuse.py [--cases fanout,body,slowloris,nul,replay,search,sqlite-writes]

Cases:
  fanout         `{ ...F0 }` with 24 fragments each spreading the next twice (2^24 fields)
  long-document  a document of 8 MiB less a little (one field repeated)
  slowloris      1 100 connections that send half a request line and stop, then a client
  slowloris-cap  the same against QUORUM_MAX_CONNECTIONS=1000: the client is refused at once
  nul            1 000 writes and reads with U+0000 in their text, on PostgreSQL
  replay         200 `changeEvents(after: <first event>)` on sockets of one subject, with
                 the event table holding ~40 000 events, on PostgreSQL
  replay-near    20 resumes 5 000 change events back (within reach): what a legitimate
                 catch-up costs
  search         a 50 000-byte `text` filter on each list, on SQLite
  sqlite-writes  16 clients creating incidents for 20 s on SQLite: latency p50/p99/max

PostgreSQL comes from QUORUM_BENCH_PG (default postgres://postgres@127.0.0.1:5432); the script
creates and drops its own databases.
"""

import argparse
import base64
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BINARY = os.environ.get("QUORUM_BENCH_BINARY", os.path.join(TARGET, "release", "quorum"))
PG = os.environ.get("QUORUM_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SECRET = "quorum-bench-secret-0123456789abcdef-0123456789"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def run(args, env=None):
    result = subprocess.run(args, env=dict(os.environ, QUORUM_LOG="warn", **(env or {})),
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def psql(sql, database="postgres"):
    return run(["psql", f"{PG}/{database}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql]).stdout


def token(role, subject):
    return run([BINARY, "token", "--sub", subject, "--role", role],
               env={"QUORUM_JWT_SECRET": SECRET}).stdout.strip()


def raise_open_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One `quorum serve` on a fresh database."""

    def __init__(self, store, env=None):
        self.tmp = tempfile.mkdtemp(prefix="quorum-abuse-")
        self.database = None
        if store == "postgres":
            self.database = f"quorum_bench_abuse_{os.getpid()}"
            psql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            psql(f"CREATE DATABASE {self.database}")
            self.url = f"{PG}/{self.database}"
        else:
            self.url = f"sqlite://{self.tmp}/quorum.db?mode=rwc"
        self.port = free_port()
        self.env = dict(os.environ, DATABASE_URL=self.url, QUORUM_JWT_SECRET=SECRET,
                        QUORUM_LOG="warn", QUORUM_LISTEN=f"127.0.0.1:{self.port}", **(env or {}))
        run([BINARY, "migrate"], env={"DATABASE_URL": self.url})
        self.process = None

    def seed(self, *args):
        run([BINARY, "seed", *args], env={"DATABASE_URL": self.url})

    def start(self):
        self.log = open(os.path.join(self.tmp, "server.log"), "w+")
        self.process = subprocess.Popen([BINARY, "serve"], env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.1)
        sys.exit("the server did not start; see " + self.log.name)

    def log_lines(self):
        self.log.flush()
        self.log.seek(0)
        return [line for line in self.log.read().splitlines() if line.strip()]

    def reset_peak(self):
        with open(f"/proc/{self.process.pid}/clear_refs", "w") as refs:
            refs.write("5")

    def memory(self):
        fields = {}
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    name, value, _ = line.split()
                    fields[name[:-1]] = int(value) / 1024
        return fields["VmRSS"], fields["VmHWM"]

    def cpu(self):
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self):
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.database:
            psql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        shutil.rmtree(self.tmp, ignore_errors=True)


def post(port, body, bearer=None, content_type="application/json", timeout=120):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=data, method="POST")
    request.add_header("Content-Type", content_type)
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"raw": text[:200].decode(errors="replace")}


def codes(body):
    return sorted({(error.get("extensions") or {}).get("code", "<none>")
                   for error in body.get("errors", [])})


class Probe(threading.Thread):
    """Times `/healthz` and a small query every 50 ms while a case runs."""

    def __init__(self, port, bearer):
        super().__init__(daemon=True)
        self.port, self.bearer = port, bearer
        self.health, self.query = [], []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            started = time.perf_counter()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=30).read()
                self.health.append(time.perf_counter() - started)
            except OSError:
                self.health.append(float("inf"))
            started = time.perf_counter()
            post(self.port, {"query": "{ viewer { subject } }"}, self.bearer, timeout=30)
            self.query.append(time.perf_counter() - started)
            self.stopping.wait(0.05)

    def stop(self):
        self.stopping.set()
        self.join()

    def summary(self):
        def worst(values):
            return f"{max(values) * 1000:.1f} ms" if values else "-"
        return f"healthz worst {worst(self.health)}, query worst {worst(self.query)}"


def measure(server, name, action, bearer):
    """Runs `action()` (which returns a one-line result) and prints the case's figures."""
    server.reset_peak()
    rss_before, _ = server.memory()
    cpu_before = server.cpu()
    probe = Probe(server.port, bearer)
    probe.start()
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    probe.stop()
    rss_after, peak = server.memory()
    cpu = server.cpu() - cpu_before
    print(f"{name:<14} {elapsed * 1000:9.1f} ms  peak RSS {peak:6.1f} MiB (before {rss_before:5.1f})  "
          f"server CPU {cpu:6.2f} s  {probe.summary()}  → {result}", flush=True)


# ---------------------------------------------------------------------------------------------
# The cases.

def fan_out(depth):
    parts = ["{ ...F0 }"]
    for n in range(depth):
        parts.append(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}")
    parts.append(f"fragment F{depth} on Query {{ __typename }}")
    return " ".join(parts)


def case_fanout(server, bearer):
    def action():
        status, body = post(server.port, {"query": fan_out(24)})
        return f"{status} {codes(body)} ({len(fan_out(24))} bytes)"
    measure(server, "fanout", action, bearer)


def case_long_document(server, bearer):
    document = "{" + " __typename" * ((8 << 20) // 11 - 100) + " }"

    def action():
        status, body = post(server.port, {"query": document})
        return f"{status} {codes(body)} ({len(document)} bytes)"
    measure(server, "long-document", action, bearer)


def case_slowloris(server, bearer):
    def action():
        held = []
        refused = 0
        for _ in range(1100):
            try:
                connection = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                connection.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\n")
                held.append(connection)
            except OSError:
                refused += 1
        started = time.perf_counter()
        status, body = post(server.port, {"query": "{ __typename }"}, timeout=30)
        answered = time.perf_counter() - started
        status = f"{status} {codes(body)}" if body.get("errors") else status
        closed = 0
        deadline = time.time() + 15
        for connection in held:
            connection.settimeout(max(0.01, deadline - time.time()))
            try:
                if connection.recv(1) == b"":
                    closed += 1
            except OSError:
                closed += 1
            connection.close()
        accept_errors = sum("accept_failed" in line for line in server.log_lines())
        return (f"client answered {status} in {answered * 1000:.1f} ms with {len(held)} half-open "
                f"connections held ({refused} not opened); {closed} of them closed by the server "
                f"within 15 s; {accept_errors} accept-error log lines")
    measure(server, "slowloris", action, bearer)


def case_nul(server, bearer):
    def action():
        seen = {}
        for n in range(1000):
            if n % 2:
                body = {"query": "mutation($i: CreateIncidentInput!) { createIncident(input: $i) { id } }",
                        "variables": {"i": {"title": f"disk\u0000{n}", "impact": "LOW", "urgency": "LOW"}}}
            else:
                body = {"query": "query($t: String) { changes(filter: { text: $t }) { totalCount } }",
                        "variables": {"t": f"up\u0000{n}"}}
            status, answer = post(server.port, body, bearer)
            for code in codes(answer):
                seen[(status, code)] = seen.get((status, code), 0) + 1
        errors = sum(" ERROR " in line for line in server.log_lines())
        return f"{seen}; {errors} error-level log lines"
    measure(server, "nul", action, bearer)


def ws_key():
    return base64.b64encode(os.urandom(16)).decode()


def ws_frame(payload):
    data = payload.encode()
    mask = os.urandom(4)
    header = bytearray([0x81])
    if len(data) < 126:
        header.append(0x80 | len(data))
    else:
        header.append(0x80 | 126)
        header += len(data).to_bytes(2, "big")
    return bytes(header) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def ws_open(port, bearer):
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = ws_key()
    connection.sendall((f"GET /graphql/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += connection.recv(4096)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(head[:200])
    connection.sendall(ws_frame(json.dumps({"type": "connection_init",
                                            "payload": {"Authorization": f"Bearer {bearer}"}})))
    # graphql-transport-ws: nothing may be subscribed before the acknowledgement.
    acked = head.split(b"\r\n\r\n", 1)[1]
    while b"connection_ack" not in acked:
        data = connection.recv(4096)
        if not data:
            raise RuntimeError(f"closed before connection_ack: {acked[:200]!r}")
        acked += data
    return connection


def drain(connection, seconds):
    """Bytes received on a socket for `seconds` (the replay traffic)."""
    connection.settimeout(0.2)
    total, deadline = 0, time.time() + seconds
    while time.time() < deadline:
        try:
            data = connection.recv(1 << 16)
            if not data:
                break
            total += len(data)
        except socket.timeout:
            continue
    return total


def case_replay(server, bearer, near=False):
    events = psql("SELECT count(*) FROM event", server.database).strip()
    if near:
        # Far enough back for 5 000 change events, within the four rings a resume may replay.
        first = psql("SELECT id FROM event WHERE entity_kind = 'Change' ORDER BY id DESC OFFSET 5000 LIMIT 1",
                     server.database).strip()
        sockets_wanted, per_socket = 2, 10
    else:
        first = psql("SELECT min(id) FROM event", server.database).strip()
        sockets_wanted, per_socket = 10, 20

    def action():
        sockets = []
        subscriptions = 0
        for _ in range(sockets_wanted):
            connection = ws_open(server.port, bearer)
            for n in range(per_socket):
                query = "subscription($a: ID) { changeEvents(after: $a) { eventId change { number } } }"
                connection.sendall(ws_frame(json.dumps({"type": "subscribe", "id": str(n),
                                                        "payload": {"query": query, "variables": {"a": first}}})))
                subscriptions += 1
            sockets.append(connection)
        received = []
        threads = [threading.Thread(target=lambda c=c: received.append(drain(c, 30))) for c in sockets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for connection in sockets:
            connection.close()
        return f"{subscriptions} resumes after event {first} of {events}; {sum(received) / 1e3:.0f} kB sent in 30 s"
    measure(server, "replay-near" if near else "replay", action, bearer)


def case_search(server, bearer):
    def action():
        seen = {}
        started = time.perf_counter()
        for field in ["changes(filter: { text: $t })", "incidents(filter: { text: $t })",
                      "problems(filter: { text: $t })", "knownErrors(filter: { text: $t })",
                      "configurationItems(filter: { nameContains: $t })"]:
            status, body = post(server.port, {"query": f"query($t: String) {{ {field} {{ totalCount }} }}",
                                              "variables": {"t": "x" * 50_000}}, bearer)
            key = (status, tuple(codes(body)))
            seen[key] = seen.get(key, 0) + 1
        return f"{seen} in {(time.perf_counter() - started) * 1000:.1f} ms"
    measure(server, "search", action, bearer)


def case_sqlite_writes(server, bearer):
    def action():
        latencies, failures = [], [0]
        lock = threading.Lock()
        stop_at = time.time() + 20

        def client():
            while time.time() < stop_at:
                started = time.perf_counter()
                status, body = post(server.port, {
                    "query": "mutation($i: CreateIncidentInput!) { createIncident(input: $i) { id } }",
                    "variables": {"i": {"title": "disk full", "impact": "LOW", "urgency": "MEDIUM"}}}, bearer)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    if status != 200 or body.get("errors"):
                        failures[0] += 1
        threads = [threading.Thread(target=client) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        latencies.sort()
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
        return (f"{len(latencies)} creates ({len(latencies) / 20:.0f}/s), {failures[0]} failed; "
                f"p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    measure(server, "sqlite-writes", action, bearer)


CASES = {
    "fanout": ("sqlite", case_fanout, None),
    "slowloris-cap": ("sqlite", case_slowloris, None),
    "long-document": ("sqlite", case_long_document, None),
    "slowloris": ("sqlite", case_slowloris, None),
    "nul": ("postgres", case_nul, None),
    "replay": ("postgres", case_replay, ["--scale", "2000", "--changes", "30000"]),
    "replay-near": ("postgres", lambda server, bearer: case_replay(server, bearer, near=True),
                    ["--scale", "2000", "--changes", "30000"]),
    "search": ("sqlite", case_search, None),
    "sqlite-writes": ("sqlite", case_sqlite_writes, None),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} is missing: cargo build --release -p quorum-server")
    raise_open_files()
    bearer = token("SERVICE_HEAD", "bench.head")
    engineer = token("ENGINEER", "bench.engineer")
    version = run([BINARY, "--version"]).stdout.strip()
    print(f"{version}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    for name in args.cases.split(","):
        store, case, seed = CASES[name]
        env = {"QUORUM_MAX_CONNECTIONS": "1000"} if name == "slowloris-cap" else None
        server = Server(store, env)
        try:
            if seed:
                server.seed(*seed)
            server.start()
            case(server, engineer if name.startswith("replay") else bearer)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
