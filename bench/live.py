#!/usr/bin/env python3
"""Live updates benchmark: how fast and how completely GraphQL subscriptions deliver events to
many WebSocket subscribers while writes arrive at a steady rate, and what they cost the server in
memory.

Run from the repository root, after `cargo build --release -p quorum-server` (the binary is
$QUORUM_BENCH_BINARY, else release/quorum under $CARGO_TARGET_DIR, else under ./target):

    python3 bench/live.py [--setups pg2,pg1,sqlite] [--subscribers 1000] [--rate 100]
                          [--seconds 30] [--processes 2] [--connections 4] [--mix]
                          [--client raw | --client websockets] [--scale 1000] [--keep]
                          [--wait-idle SECONDS] [--perf FILE]

Each setup starts from a fresh database (`quorum migrate`, `quorum seed --scale N --seed 1`):
  pg2     PostgreSQL, two `quorum serve` instances on one database: the subscribers on A, the
          writes on B, so every event reaches A through LISTEN/NOTIFY (with --spread, the
          client processes take turns between A and B: over 4 096 subscribers need both,
          each instance holding at most 4 096 connections);
  pg1     PostgreSQL, one instance takes both;
  sqlite  an SQLite file, one instance.
`--subscribers` takes a list (e.g. 100,1000): each count is a run of its own. The subscribers are
graphql-transport-ws sockets on /graphql/ws, one subscription each (`incidentEvents`, or with
--mix half `changeEvents`), spread over --processes client processes, each one asyncio loop. The
writes are `createIncident` (with --mix, alternately `createChange`) as an ENGINEER, paced at
--rate per second for --seconds over --connections keep-alive HTTP connections.

Before the measured writes, probe writes go until every subscriber has received one (so every
subscription is live: graphql-transport-ws does not acknowledge a `subscribe`). Afterwards the events expected are read from the event table, in commit order, and each
subscriber's messages are checked against them: missing, duplicated, out of order, unexpected.
A message's delay is the client's wall clock when the bytes arrived minus the event's
`occurredAt` (stamped by the server inside the writing transaction, on the same machine's clock),
so it includes the commit. Instance A's resident memory (VmRSS, and VmHWM: its peak since it
started) is read from /proc before the subscribers connect, with them connected and idle, and
sampled every 50 ms through the writes and the delivery of the last events; CPU use over the same
window (instances A and B, PostgreSQL, the client processes, this process, interrupts, anything
else on the machine) tells who was saturated. Subscriptions the server ended (an error such as
SUBSCRIBER_TOO_SLOW, `complete`, a closed socket) are counted and shown.

The machine is shared: --wait-idle waits (up to that many seconds) for other work to stop
before each run, and "anything else" says whether some started during it. --perf FILE records
instance A with `perf record --call-graph dwarf` during the writes (`perf report -i FILE`).

The default client speaks WebSocket itself over asyncio (the standard library only, a frame
parser and a regex per message) so that the client costs as little as it can; `--client
websockets` uses the `websockets` package instead (pip install websockets), as a cross-check.

Needs a PostgreSQL server the `postgres` role may create databases on (QUORUM_BENCH_PG, default
postgres://postgres@127.0.0.1:5432) and psql for pg1/pg2. It creates and drops
`quorum_bench_live` (--keep leaves the last one).
"""

import argparse
import array
import asyncio
import base64
import datetime
import http.client
import json
import multiprocessing
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
# The server's default cap on WebSockets per token subject (`--max-sockets-per-subject`).
SOCKETS_PER_SUBJECT = 16
BINARY = os.environ.get("QUORUM_BENCH_BINARY", os.path.join(TARGET, "release", "quorum"))
PG = os.environ.get("QUORUM_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SECRET = "quorum-bench-secret-0123456789abcdef-0123456789"
DATABASE = "quorum_bench_live"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

INCIDENT_SUBSCRIPTION = "subscription { incidentEvents { eventId occurredAt incident { number priority } } }"
CHANGE_SUBSCRIPTION = "subscription { changeEvents { eventId kind action occurredAt change { number state } } }"
# What each subscription receives: the event table's entity_kind.
KINDS = {"incident": "Incident", "change": "Change"}
QUERIES = {"incident": INCIDENT_SUBSCRIPTION, "change": CHANGE_SUBSCRIPTION}

CREATE_INCIDENT = "mutation($input: CreateIncidentInput!) { createIncident(input: $input) { number } }"
CREATE_CHANGE = "mutation($input: CreateChangeInput!) { createChange(input: $input) { number } }"
LEVELS = ["HIGH", "MEDIUM", "LOW"]


def run(args, env=None):
    result = subprocess.run(args, env=dict(os.environ, QUORUM_LOG="warn", **(env or {})), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def psql(sql, database=DATABASE):
    return run(["psql", f"{PG}/{database}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql]).stdout


def token(role, subject):
    return run([BINARY, "token", "--sub", subject, "--role", role], env={"QUORUM_JWT_SECRET": SECRET}).stdout.strip()


def raise_open_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------------------------------------
# /proc: memory and CPU of a process, idle time of the machine.

def memory_mib(pid):
    """VmRSS and VmHWM of `pid` in MiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value, _ = line.split()
                fields[name[:-1]] = int(value) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def thread_cpu(pid):
    """CPU seconds of each thread of `pid`, by thread id: (name, seconds)."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                text = stat.read()
        except FileNotFoundError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        threads[tid] = (name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return threads


def postgres_cpu():
    """CPU seconds of every running PostgreSQL process, by pid."""
    seconds = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() != "postgres":
                    continue
            seconds[pid] = cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return seconds


def machine_times():
    """(busy, total, of which interrupts) jiffies of all CPUs."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values), values[5] + values[6]


class Sampler(threading.Thread):
    """Peak VmRSS of one process, sampled every 50 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            self.peak = max(self.peak, memory_mib(self.pid)[0])
            self.stopping.wait(0.05)

    def stop(self):
        self.stopping.set()
        self.join()
        self.peak = max(self.peak, memory_mib(self.pid)[0])
        return self.peak


# ---------------------------------------------------------------------------------------------
# The server.

class Server:
    def __init__(self, url):
        env = dict(os.environ, DATABASE_URL=url, QUORUM_JWT_SECRET=SECRET, QUORUM_LOG="warn")
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([BINARY, "serve", "--listen", "127.0.0.1:0"], env=env,
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        first = self.process.stdout.readline().strip()
        if "http://" not in first:
            self.log.seek(0)
            sys.exit(f"quorum serve did not start: {first}\n{self.log.read()}")
        self.address = first.rsplit("http://", 1)[1]
        self.host, port = self.address.split(":")
        self.port = int(port)
        self.pid = self.process.pid

    def warnings(self):
        self.log.seek(0)
        return [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in self.log if line.strip()]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=90)


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, server, bearer):
        self.connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
        self.bearer = bearer

    def graphql(self, query, variables=None):
        body = json.dumps({"query": query, "variables": variables or {}})
        self.connection.request("POST", "/graphql", body=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self.bearer}"})
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())


def mutation(index, mix, items):
    """The index-th write: (query, variables)."""
    item = items[index % len(items)]
    if mix and index % 2:
        return CREATE_CHANGE, {"input": {"title": f"Live bench change {index}", "type": "NORMAL",
                                         "affectedItemIds": [item]}}
    return CREATE_INCIDENT, {"input": {"title": f"Live bench incident {index}", "caller": "bench.caller",
                                       "impact": LEVELS[index % 3], "urgency": LEVELS[(index // 3) % 3],
                                       "affectedItemIds": [item]}}


def send_writes(server, bearer, items, rate, seconds, connections, mix):
    """Sends rate × seconds writes at their scheduled instants over `connections` connections.
    Returns the latencies (ms), how late each was sent (ms), the errors and the wall seconds."""
    total = int(rate * seconds)
    lock = threading.Lock()
    state = {"next": 0}
    latencies, lateness, errors = [], [], []
    start = time.perf_counter() + 0.05

    def worker():
        client = Client(server, bearer)
        while True:
            with lock:
                index = state["next"]
                if index >= total:
                    return
                state["next"] += 1
            due = start + index / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            query, variables = mutation(index, mix, items)
            try:
                status, data = client.graphql(query, variables)
                ok = status == 200 and "errors" not in data
            except Exception as error:  # a dropped connection counts as an error
                status, data, ok = None, {"errors": repr(error)}, False
                client = Client(server, bearer)
            done = time.perf_counter()
            with lock:
                lateness.append((sent - due) * 1000)
                if ok:
                    latencies.append((done - sent) * 1000)
                else:
                    errors.append(f"{status} {str(data.get('errors'))[:300]}")

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, lateness, errors, time.perf_counter() - start


# ---------------------------------------------------------------------------------------------
# The subscribers (in client processes).

EVENT_ID = re.compile(rb'"eventId":"(\d+)"')
OCCURRED_AT = re.compile(rb'"occurredAt":"([^"]+)"')
CODE = re.compile(rb'"code":"([A-Z_]+)"')


class Tally:
    """What one client process received."""

    def __init__(self):
        self.messages = 0
        self.first_seen = 0
        self.occurred = {}  # event id -> occurredAt (epoch seconds), parsed once per process
        self.outcomes = {}  # messages other than events, by type and extensions.code: count


class Subscriber:
    """One socket with one subscription: the event ids it received and when."""

    def __init__(self, kind, tally):
        self.kind = kind
        self.tally = tally
        self.ids = array.array("q")
        self.times = array.array("d")
        self.others = []  # messages that were not events (errors, complete, ...), abridged
        self.closed = None  # (code, reason) or a description of how the socket ended
        self.acked = None
        self.send = None

    def on_text(self, payload, now):
        match = EVENT_ID.search(payload)
        if match:
            event_id = int(match.group(1))
            tally = self.tally
            if event_id not in tally.occurred:
                stamp = OCCURRED_AT.search(payload)
                tally.occurred[event_id] = (datetime.datetime.fromisoformat(stamp.group(1).decode()).timestamp()
                                            if stamp else None)
            if not self.ids:
                tally.first_seen += 1
            self.ids.append(event_id)
            self.times.append(now)
            tally.messages += 1
            return
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "connection_ack":
            if not self.acked.done():
                self.acked.set_result(True)
        elif kind == "ping":
            self.send(b'{"type":"pong"}')
        elif kind == "pong":
            pass
        else:
            if kind == "complete":
                self.tally.outcomes["complete"] = self.tally.outcomes.get("complete", 0) + 1
            else:
                code = CODE.search(payload)
                outcome = f"`{kind}` with errors, code {code.group(1).decode() if code else '(none)'}"
                self.tally.outcomes[outcome] = self.tally.outcomes.get(outcome, 0) + 1
            self.others.append(payload[:400].decode(errors="replace"))

    def on_closed(self, description):
        if self.closed is None:
            self.closed = description
        if self.acked is not None and not self.acked.done():
            self.acked.set_exception(ConnectionError(f"closed before connection_ack: {description}"))


def mask_frame(opcode, payload):
    """A masked client frame (RFC 6455)."""
    header = bytearray([0x80 | opcode])
    length = len(payload)
    if length < 126:
        header.append(0x80 | length)
    elif length < 65536:
        header.append(0x80 | 126)
        header += length.to_bytes(2, "big")
    else:
        header.append(0x80 | 127)
        header += length.to_bytes(8, "big")
    key = os.urandom(4)
    repeated = (key * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big") if length else b""
    return bytes(header) + key + masked


class RawProtocol(asyncio.Protocol):
    """A minimal WebSocket client: handshake, unmasked server frames, masked client frames."""

    def __init__(self, subscriber, host, port):
        self.subscriber = subscriber
        self.host = host
        self.port = port
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments = None
        self.transport = None
        self.switched = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport
        self.subscriber.send = lambda payload: transport.write(mask_frame(0x1, payload))
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((f"GET /graphql/ws HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
                         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                         "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())

    def data_received(self, data):
        now = time.time()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end])
            del buffer[:end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.subscriber.on_closed(f"handshake refused: {head[:200].decode(errors='replace')}")
                self.switched.set_exception(ConnectionError(f"handshake refused: {head[:100]!r}"))
                self.transport.close()
                return
            self.upgraded = True
            self.switched.set_result(True)
        position, size = 0, len(buffer)
        while size - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length = second & 0x7F
            start = position + 2
            if length == 126:
                if size - start < 2:
                    break
                length = int.from_bytes(buffer[start:start + 2], "big")
                start += 2
            elif length == 127:
                if size - start < 8:
                    break
                length = int.from_bytes(buffer[start:start + 8], "big")
                start += 8
            if second & 0x80:  # a server must not mask; tolerate it all the same
                if size - start < 4:
                    break
                key = buffer[start:start + 4]
                start += 4
            else:
                key = None
            if size - start < length:
                break
            payload = bytes(buffer[start:start + length])
            if key:
                payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            position = start + length
            self.frame(first & 0x80, first & 0x0F, payload, now)
        del buffer[:position]

    def frame(self, fin, opcode, payload, now):
        if opcode == 0x0:  # continuation
            if self.fragments is None:
                return
            self.fragments.append(payload)
            if fin:
                payload, self.fragments = b"".join(self.fragments), None
                self.subscriber.on_text(payload, now)
        elif opcode in (0x1, 0x2):
            if fin:
                self.subscriber.on_text(payload, now)
            else:
                self.fragments = [payload]
        elif opcode == 0x8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            self.subscriber.on_closed((code, payload[2:].decode(errors="replace")))
            self.transport.write(mask_frame(0x8, payload[:2]))
            self.transport.close()
        elif opcode == 0x9:
            self.transport.write(mask_frame(0xA, payload))

    def connection_lost(self, error):
        self.subscriber.on_closed(f"connection lost without a close frame ({error!r})")
        if not self.switched.done():
            self.switched.set_exception(ConnectionError("closed during the handshake"))

    def close(self):
        if not self.transport.is_closing():
            self.transport.write(mask_frame(0x8, (1000).to_bytes(2, "big")))
            self.transport.close()


async def open_raw(subscriber, host, port, bearer, query):
    loop = asyncio.get_running_loop()
    subscriber.acked = loop.create_future()
    _, protocol = await loop.create_connection(lambda: RawProtocol(subscriber, host, port), host, port)
    await asyncio.wait_for(protocol.switched, 30)
    subscriber.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {bearer}"}}).encode())
    await asyncio.wait_for(subscriber.acked, 30)
    subscriber.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query}}).encode())
    return protocol.close


async def open_websockets(subscriber, host, port, bearer, query):
    from websockets.asyncio.client import connect
    socket = await connect(f"ws://{host}:{port}/graphql/ws", subprotocols=["graphql-transport-ws"],
                           compression=None, ping_interval=None, max_queue=None, open_timeout=30)
    loop = asyncio.get_running_loop()
    subscriber.acked = loop.create_future()
    pending = []
    subscriber.send = lambda payload: pending.append(loop.create_task(socket.send(payload.decode())))
    await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {bearer}"}}))

    async def reader():
        try:
            while True:
                payload = await socket.recv(decode=False)
                subscriber.on_text(payload, time.time())
        except Exception as error:  # the socket ended: record how
            code = getattr(getattr(error, "rcvd", None), "code", None)
            reason = getattr(getattr(error, "rcvd", None), "reason", "")
            subscriber.on_closed((code, reason) if code else f"{type(error).__name__}: {error}")

    task = loop.create_task(reader())
    await asyncio.wait_for(subscriber.acked, 30)
    await socket.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query}}))

    def close():
        task.cancel()
        loop.create_task(socket.close())
    return close


def check(subscriber, expected, rank):
    """(received, missing, duplicated, out of order, unexpected) of one subscriber against the
    expected event ids of its kind (after the probe)."""
    seen = set()
    duplicated = out_of_order = unexpected = 0
    last = -1
    received = 0
    for event_id in subscriber.ids:
        position = rank.get(event_id)
        if position is None:
            if event_id > expected["after"]:
                unexpected += 1
            continue
        received += 1
        if event_id in seen:
            duplicated += 1
            continue
        seen.add(event_id)
        if position < last:
            out_of_order += 1
        last = position
    return received, len(expected["ids"]) - len(seen), duplicated, out_of_order, unexpected


def client_process(index, count, kinds, host, port, bearers, library, connection, counters):
    """Opens `count` subscribers, then keeps them until told to stop; reports what each got."""
    raise_open_files()
    opener = open_raw if library == "raw" else open_websockets

    async def main():
        tally = Tally()
        loop = asyncio.get_running_loop()
        subscribers = [Subscriber(kinds[i], tally) for i in range(count)]
        closers = [None] * count
        failures = []
        gate = asyncio.Semaphore(50)

        async def open_one(i):
            async with gate:
                try:
                    closers[i] = await opener(subscribers[i], host, port, bearers[i], QUERIES[subscribers[i].kind])
                except Exception as error:
                    failures.append(f"{type(error).__name__}: {error}")

        started = time.perf_counter()
        await asyncio.gather(*(open_one(i) for i in range(count)))
        connection.send(("ready", count - len(failures), failures[:5], time.perf_counter() - started))

        async def publish():
            while True:
                counters[2 * index] = tally.messages
                counters[2 * index + 1] = tally.first_seen
                await asyncio.sleep(0.05)

        publisher = loop.create_task(publish())
        command, expected = await loop.run_in_executor(None, connection.recv)
        publisher.cancel()
        counters[2 * index] = tally.messages
        ranks = {kind: {event_id: i for i, event_id in enumerate(e["ids"])} for kind, e in expected.items()}
        totals = {kind: [0, 0, 0, 0, 0, 0, 0] for kind in expected}  # subs, received, missing, dup, order, unexpected, subs missing
        delays = array.array("d")
        ended = []
        others = []
        for subscriber in subscribers:
            kind = subscriber.kind
            received, missing, duplicated, out_of_order, unexpected = check(subscriber, expected[kind], ranks[kind])
            row = totals[kind]
            for k, value in enumerate((1, received, missing, duplicated, out_of_order, unexpected, 1 if missing else 0)):
                row[k] += value
            rank = ranks[kind]
            seen = set()
            for event_id, at in zip(subscriber.ids, subscriber.times):
                if event_id in rank and event_id not in seen:
                    seen.add(event_id)
                    occurred = tally.occurred.get(event_id)
                    if occurred is not None:
                        delays.append(at - occurred)
            if subscriber.closed is not None:
                ended.append(str(subscriber.closed))
            others.extend(subscriber.others[:2])
        for close in closers:
            if close:
                close()
        await asyncio.sleep(0.2)
        connection.send(("result", {"totals": totals, "delays": delays.tobytes(), "ended": ended,
                                    "others": others, "outcomes": tally.outcomes}))

    asyncio.run(main())


# ---------------------------------------------------------------------------------------------
# One run.

def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def prepare(setup, args, workdir):
    """A fresh database for `setup`: its URL."""
    if setup == "sqlite":
        path = os.path.join(workdir, "live.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        url = f"sqlite://{path}?mode=rwc"
    else:
        psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', "postgres")
        psql(f'CREATE DATABASE "{DATABASE}"', "postgres")
        url = f"{PG}/{DATABASE}"
    run([BINARY, "migrate"], env={"DATABASE_URL": url})
    if args.scale and "--scale" in run([BINARY, "seed", "--help"]).stdout:
        run([BINARY, "seed", "--scale", str(args.scale), "--seed", "1"], env={"DATABASE_URL": url})
    return url


def events_after(setup, url, after, kind):
    """The ids of `kind` events after event `after`, in commit order."""
    if setup == "sqlite":
        path = url[len("sqlite://"):].split("?")[0]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return [row[0] for row in db.execute(
                "SELECT id FROM event WHERE id > ? AND entity_kind = ? ORDER BY id", (after, kind))]
    out = psql(f"SELECT id FROM event WHERE id > {after} AND entity_kind = '{kind}' ORDER BY tx_id, id")
    return [int(line) for line in out.split()]


def newest_event(setup, url):
    if setup == "sqlite":
        path = url[len("sqlite://"):].split("?")[0]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute("SELECT coalesce(max(id), 0) FROM event").fetchone()[0]
    return int(psql("SELECT coalesce(max(id), 0) FROM event"))


def busy_cores(seconds):
    """Cores the machine kept busy over the next `seconds`."""
    busy0, total0, _ = machine_times()
    time.sleep(seconds)
    busy1, total1, _ = machine_times()
    return (busy1 - busy0) / max(total1 - total0, 1) * os.cpu_count()


def wait_until_idle(limit):
    """Waits up to `limit` seconds for the machine to be idle (other work under 0.25 core for 3 s);
    returns the load seen last."""
    deadline = time.monotonic() + limit
    while True:
        load = busy_cores(3)
        if load < 0.25 or time.monotonic() > deadline:
            return load


def wait_for(condition, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def one_run(setup, subscribers, args, workdir):
    label = {"pg2": "PostgreSQL, 2 instances", "pg1": "PostgreSQL, 1 instance", "sqlite": "SQLite, 1 instance"}[setup]
    where = "on A and B by turns" if args.spread and setup == "pg2" else "on A"
    print(f"\n== {label}: {subscribers} subscribers {where}, {args.rate:g} writes/s for {args.seconds:g} s"
          f"{' (incidents and changes)' if args.mix else ''}, client {args.client} in {args.processes} process(es)")
    load = wait_until_idle(args.wait_idle)
    print(f"  machine busy before the run: {load:.2f} cores (other work)")
    url = prepare(setup, args, workdir)
    a = Server(url)
    b = Server(url) if setup == "pg2" else a
    servers = [a] if a is b else [a, b]
    workers = []
    try:
        bearer = token("ENGINEER", "bench.engineer")
        writer = Client(b, bearer)
        status, data = writer.graphql("{ configurationItems(first: 100) { nodes { id } } }")
        items = [node["id"] for node in data["data"]["configurationItems"]["nodes"]]
        if not items:
            sys.exit("the seed left no CIs to name")
        for index in range(10):  # warm both instances' pools and statements
            writer.graphql(*mutation(index, args.mix, items))
        Client(a, bearer).graphql("{ viewer { subject } }")
        time.sleep(0.5)
        rss_before, _ = memory_mib(a.pid)

        # The subscribers: kinds spread evenly (with --mix, half on changeEvents). Each person
        # (token subject) may hold SOCKETS_PER_SUBJECT sockets (the server's default cap), so
        # the subscribers are that many people's dashboards each.
        kinds = ["change" if args.mix and i % 2 else "incident" for i in range(subscribers)]
        people = [token("ENGINEER", f"bench.viewer.{n}")
                  for n in range((subscribers + SOCKETS_PER_SUBJECT - 1) // SOCKETS_PER_SUBJECT)]
        bearers = [people[i // SOCKETS_PER_SUBJECT] for i in range(subscribers)]
        processes = max(1, min(args.processes, subscribers))
        counters = multiprocessing.RawArray("q", 2 * processes)
        context = multiprocessing.get_context("spawn")
        pipes = []
        for p in range(processes):
            mine = kinds[p::processes]
            their_bearers = bearers[p::processes]
            parent, child = context.Pipe()
            # With --spread (pg2), the client processes take turns between A and B.
            at = servers[p % len(servers)] if args.spread else a
            worker = context.Process(target=client_process, daemon=True,
                                     args=(p, len(mine), mine, at.host, at.port, their_bearers, args.client, child, counters))
            worker.start()
            workers.append(worker)
            pipes.append(parent)
        opened, opening = 0, 0.0
        for parent in pipes:
            if not parent.poll(180):
                sys.exit("the client processes did not open their sockets within 180 s")
            _, ok, failures, seconds = parent.recv()
            opened += ok
            opening = max(opening, seconds)
            for failure in failures:
                print(f"  subscriber failed to open: {failure}")
        print(f"  {opened} of {subscribers} subscribers connected and subscribed in {opening:.1f} s")

        # Probes: writes (one per kind) until every subscriber has received one, so that every
        # subscription is live (a subscription starts after the newest event committed when the
        # server handles its `subscribe`; the client cannot see when that is).
        probes = 0
        for _ in range(30):
            for index in ([0, 1] if args.mix else [0]):
                writer.graphql(*mutation(index, args.mix, items))
            probes += 1
            if wait_for(lambda: sum(counters[1::2]) >= opened, 1):
                break
        probe_id = newest_event(setup, url)
        with_probe = sum(counters[1::2])
        print(f"  {with_probe} of {opened} subscribers live after {probes} probe write(s)")
        before_run = sum(counters[0::2])
        time.sleep(2)
        rss_idle, _ = memory_mib(a.pid)

        # The writes, with memory and CPU watched.
        sampler = Sampler(a.pid)
        sampler.start()
        cpu_a0 = cpu_seconds(a.pid)
        threads0 = thread_cpu(a.pid)
        cpu_b0 = cpu_seconds(b.pid)
        postgres0 = postgres_cpu()
        bench0 = sum(os.times()[:2])
        profiler = None
        if args.perf:
            # The release build keeps no frame pointers: DWARF unwinding, at a low frequency.
            profiler = subprocess.Popen(["perf", "record", "-F", "99", "--call-graph", "dwarf,16384",
                                         "-p", str(a.pid), "-o", args.perf,
                                         "--", "sleep", str(args.seconds)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu_clients0 = [cpu_seconds(w.pid) for w in workers]
        busy0, total0, irq0 = machine_times()
        wall0 = time.perf_counter()
        latencies, lateness, errors, sending = send_writes(b, bearer, items, args.rate, args.seconds,
                                                           args.connections, args.mix)
        expected = {}
        for kind in sorted(set(kinds)):
            expected[kind] = {"after": probe_id, "ids": events_after(setup, url, probe_id, KINDS[kind])}
        should = sum(len(expected[k]["ids"]) for k in kinds)
        # Delivery of what was sent: until every message arrived or nothing came for 5 s.
        last_total, last_change = -1, time.monotonic()
        while True:
            total = sum(counters[0::2]) - before_run
            if total >= should:
                break
            if total != last_total:
                last_total, last_change = total, time.monotonic()
            elif time.monotonic() - last_change > 5:
                break
            time.sleep(0.05)
        drained = time.perf_counter() - wall0 - sending
        busy1, total1, irq1 = machine_times()
        wall = time.perf_counter() - wall0
        cpu_a = (cpu_seconds(a.pid) - cpu_a0) / wall
        cpu_b = (cpu_seconds(b.pid) - cpu_b0) / wall if b is not a else 0.0
        cpu_postgres = sum(seconds - postgres0.get(pid, 0.0) for pid, seconds in postgres_cpu().items()) / wall
        cpu_bench = (sum(os.times()[:2]) - bench0) / wall
        if profiler:
            profiler.wait()
        busiest = sorted(((seconds - threads0.get(tid, (name, 0))[1]) / wall, name)
                         for tid, (name, seconds) in thread_cpu(a.pid).items())[::-1][:3]
        cpu_clients = [(cpu_seconds(w.pid) - c0) / wall for w, c0 in zip(workers, cpu_clients0)]
        machine = (busy1 - busy0) / (total1 - total0) * os.cpu_count()
        interrupts = (irq1 - irq0) / (total1 - total0) * os.cpu_count()
        rss_peak = sampler.stop()
        _, hwm = memory_mib(a.pid)

        # What each subscriber got.
        for parent in pipes:
            parent.send(("stop", expected))
        results = []
        for parent in pipes:
            if not parent.poll(300):
                sys.exit("a client process did not report within 300 s")
            results.append(parent.recv()[1])
        for worker in workers:
            worker.join(timeout=30)
        delays = array.array("d")
        totals = {}
        ended, others = [], []
        outcomes = {}
        for result in results:
            for outcome, count in result["outcomes"].items():
                outcomes[outcome] = outcomes.get(outcome, 0) + count
            delays.frombytes(result["delays"])
            for kind, row in result["totals"].items():
                totals[kind] = [x + y for x, y in zip(totals.get(kind, [0] * len(row)), row)]
            ended += result["ended"]
            others += result["others"]
        delays = sorted(d * 1000 for d in delays)
        warnings = [f"{name}: {line}" for name, server in zip("AB", servers) for line in server.warnings()]
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        for server in servers:
            server.stop()

    writes_ok = len(latencies)
    other = machine - cpu_a - cpu_b - cpu_postgres - sum(cpu_clients) - cpu_bench - interrupts
    events = sum(len(e["ids"]) for e in expected.values())
    print(f"  writes: {writes_ok} ok, {len(errors)} failed, in {sending:.1f} s ({writes_ok / sending:.1f}/s); "
          f"latency median {statistics.median(latencies):.1f} ms, p99 {percentile(sorted(latencies), 0.99):.1f} ms; "
          f"sent late by > 10 ms: {sum(1 for x in lateness if x > 10)}")
    for error in errors[:3]:
        print(f"    write error: {error}")
    by_kind = ", ".join(f"{len(e['ids'])} {k}" for k, e in expected.items())
    print(f"  events in the table after the probe: {events} ({by_kind})")
    received = missing = duplicated = out_of_order = unexpected = subs_missing = 0
    for kind, (subs, got, miss, dup, order, extra, subs_miss) in sorted(totals.items()):
        print(f"  {kind}Events: {subs} subscribers, expected {subs * len(expected[kind]['ids'])}, received {got} "
              f"(missing {miss} on {subs_miss} subscribers, duplicated {dup}, out of commit order {order}, unexpected {extra})")
        received += got
        missing += miss
        duplicated += dup
        out_of_order += order
        unexpected += extra
        subs_missing += subs_miss
    median, p90, p99 = (percentile(delays, f) for f in (0.5, 0.9, 0.99))
    worst = delays[-1] if delays else float("nan")
    print(f"  delay (receipt - occurredAt): median {median:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms "
          f"({len(delays)} messages); delivered {drained:.1f} s after the last write returned")
    print(f"  instance A RSS: {rss_before:.1f} MiB before subscribers, {rss_idle:.1f} MiB with {opened} idle, "
          f"peak {rss_peak:.1f} MiB during the run (VmHWM {hwm:.1f} MiB)")
    print(f"  CPU over the run ({wall:.1f} s, in cores): instance A {cpu_a:.2f}"
          f"{f', instance B {cpu_b:.2f}' if cpu_b else ''}, PostgreSQL {cpu_postgres:.2f}, client processes "
          f"{' + '.join(f'{c:.2f}' for c in cpu_clients)}, writer (this process) {cpu_bench:.2f}, "
          f"interrupts (loopback TCP) {interrupts:.2f}, "
          f"anything else {other:.2f}; "
          f"whole machine {machine:.2f} of {os.cpu_count()}")
    print(f"  instance A: {cpu_a * wall / max(received, 1) * 1e6:.1f} µs of CPU per message delivered; busiest threads "
          + ", ".join(f"{name} {share:.2f}" for share, name in busiest))
    if ended:
        kinds_ended = {}
        for description in ended:
            kinds_ended[description] = kinds_ended.get(description, 0) + 1
        for description, count in sorted(kinds_ended.items(), key=lambda x: -x[1])[:5]:
            print(f"  SOCKETS ENDED EARLY: {count} × {description}")
    for outcome, count in sorted(outcomes.items()):
        print(f"  SUBSCRIPTIONS ENDED: {count} × {outcome}")
    for message in others[:3]:
        print(f"  for example: {message}")
    for line in warnings[:10]:
        print(f"  server log: {line[:300]}")
    if len(warnings) > 10:
        print(f"  server log: ... {len(warnings) - 10} more lines")
    return {"setup": label, "subscribers": subscribers, "opened": opened, "writes": writes_ok,
            "expected": sum(len(expected[k]["ids"]) for k in kinds), "received": received,
            "missing": missing, "duplicated": duplicated, "out_of_order": out_of_order, "unexpected": unexpected,
            "median": median, "p90": p90, "p99": p99, "max": worst, "rss_before": rss_before, "rss_idle": rss_idle,
            "rss_peak": rss_peak, "hwm": hwm, "cpu_a": cpu_a, "cpu_clients": sum(cpu_clients), "machine": machine,
            "other": other,
            "ended": len(ended) + outcomes.get("complete", 0)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", default="pg2,pg1,sqlite", help="comma-separated: pg2, pg1, sqlite")
    parser.add_argument("--subscribers", default="1000", help="comma-separated counts, one run each")
    parser.add_argument("--rate", type=float, default=100, help="writes per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=4, help="HTTP connections the writes share")
    parser.add_argument("--processes", type=int, default=2, help="client processes the subscribers share")
    parser.add_argument("--client", choices=["raw", "websockets"], default="raw")
    parser.add_argument("--spread", action="store_true",
                        help="pg2: the client processes take turns between A and B (RSS and CPU are still A's)")
    parser.add_argument("--mix", action="store_true", help="half changeEvents subscribers; writes alternate createChange")
    parser.add_argument("--scale", type=int, default=1000, help="quorum seed --scale (0: no seed)")
    parser.add_argument("--keep", action="store_true", help="leave the last PostgreSQL database")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="before each run, wait up to this long for other work on the machine to stop")
    parser.add_argument("--perf", metavar="FILE", help="profile instance A with perf during the writes")
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"build first: cargo build --release -p quorum-server ({BINARY} is missing)")
    if args.client == "websockets":
        try:
            import websockets  # noqa: F401
        except ImportError:
            sys.exit("--client websockets needs the websockets package: pip install websockets "
                     "(or use the default client, which needs nothing)")
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    for setup in setups:
        if setup not in ("pg2", "pg1", "sqlite"):
            sys.exit(f"unknown setup {setup!r}: pg2, pg1 or sqlite")
    if any(s != "sqlite" for s in setups) and not shutil.which("psql"):
        sys.exit("psql is needed for the PostgreSQL setups")
    counts = [int(c) for c in args.subscribers.split(",")]
    limit = raise_open_files()
    if limit < max(counts) + 100:
        sys.exit(f"the open-files limit is {limit}: too low for {max(counts)} sockets")
    rows = []
    with tempfile.TemporaryDirectory(prefix="quorum-live-") as workdir:
        try:
            for setup in setups:
                for count in counts:
                    rows.append(one_run(setup, count, args, workdir))
        finally:
            if not args.keep and any(s != "sqlite" for s in setups):
                psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', "postgres")
    print(f"\n{args.rate:g} writes/s for {args.seconds:g} s; delays in ms; RSS of instance A in MiB; CPU in cores")
    print("| setup | subscribers | messages expected | received | missing | duplicated | ended early | median | p90 | p99 "
          "| max | RSS before | idle | peak | CPU A | CPU clients | CPU other work | machine |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['setup']} | {r['opened']} | {r['expected'] * 1:,} | {r['received']:,} | {r['missing']:,} | "
              f"{r['duplicated']:,} | {r['ended']} | {r['median']:.0f} | {r['p90']:.0f} | {r['p99']:.0f} | {r['max']:.0f} | "
              f"{r['rss_before']:.0f} | {r['rss_idle']:.0f} | {r['rss_peak']:.0f} | {r['cpu_a']:.2f} | "
              f"{r['cpu_clients']:.2f} | {r['other']:.2f} | {r['machine']:.2f} |")
    print("targets: p99 under 250 ms, RSS under 200 MiB")


if __name__ == "__main__":
    main()
