#!/usr/bin/env python3
"""Scripts/soak's driver: faultlined under moderate mixed load and churning faults for N minutes.

Starts its own upstreams (a TCP echo server and an HTTP/1.1 server), a faultlined with four routes
to them, and five load threads at fixed, modest rates:

  bulk      route bulk (tcp): 4 MiB of seeded random bytes echoed back, hashed both ways, ~1 per 1.5 s
  pingpong  route echo (tcp): one connection, 64-byte messages, one per 10 ms
  churn     route churn (tcp): connect, 1 KiB there and back, close, ~20 per second
  http      route web (http): keep-alive GET /bytes/N?seed=S (body checked against the seed) and
            POST /echo (body echoed), ~20 per second

Every few seconds a fault is applied over the control API and cleared a few seconds later, by
DELETE or by its own `for`. The faults on bulk keep every byte (latency, bandwidth, slicer, stall),
so any error there is a failure; those on echo, churn and web may cut a connection or answer for
the upstream (reset, limit_data, refuse, abort), and an error there is "injected" when it happens
while such a fault is in force (or within 2 s of it), else "unexpected". A transfer that completes
with different bytes is a mismatch, always a failure.

Every --interval seconds a CSV row: the daemon's RSS, descriptors, threads, CPU share, counters
from /metrics, and the load's totals. At the end: the load stops, the daemon must return to its
idle descriptor count, and the last third of the run (after warm-up) is compared with the first
third: RSS median may grow by at most 10 % + 4 MiB, descriptors by at most 8.
Prints a JSON summary on stdout; exit 1 when a check fails.
"""
import argparse
import hashlib
import http.client
import http.server
import json
import os
import random
import signal
import socket
import socketserver
import statistics
import subprocess
import sys
import threading
import time

RSS_MARGIN_FRACTION = 0.10
RSS_MARGIN_BYTES = 4 << 20
FD_MARGIN = 8
IDLE_FD_MARGIN = 2
REQUEST_LOG_ENTRIES = 500
ATTRIBUTION_SLACK = 2.0  # seconds after a destructive fault is cleared that its errors still count as injected


# ---------------------------------------------------------------- upstreams

class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class ThreadingTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def seeded_body(seed, size):
    return random.Random(seed).randbytes(size)


class HTTPHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if not path.startswith("/bytes/"):
            self.send_error(404)
            return
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        body = seeded_body(int(params.get("seed", "0")), int(path[len("/bytes/"):]))
        self.send_response(200)
        self.send_header("content-type", "application/octet-stream")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ThreadingHTTP(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 256


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


# ---------------------------------------------------------------- control API over the Unix socket

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def control(socket_path, method, path, body=None):
    conn = UnixHTTPConnection(socket_path)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"content-type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def metrics(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    sums = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        try:
            sums[name] = sums.get(name, 0.0) + float(value)
        except ValueError:
            pass
    return sums


# ---------------------------------------------------------------- load

class Tally:
    """Counts per load kind: ok, injected errors, unexpected errors, mismatches, bytes."""

    def __init__(self, kinds):
        self.lock = threading.Lock()
        self.counts = {k: {"ok": 0, "injected": 0, "unexpected": 0, "mismatch": 0, "bytes": 0} for k in kinds}
        self.examples = []

    def add(self, kind, field, n=1):
        with self.lock:
            self.counts[kind][field] += n

    def note(self, text):
        with self.lock:
            if len(self.examples) < 20:
                self.examples.append(text)

    def snapshot(self):
        with self.lock:
            return {k: dict(v) for k, v in self.counts.items()}


class FaultWindows:
    """When a destructive fault was in force per route, to attribute errors."""

    def __init__(self):
        self.lock = threading.Lock()
        self.active = {}   # route -> count of destructive faults in force
        self.last_end = {}  # route -> time the last one ended

    def start(self, route):
        with self.lock:
            self.active[route] = self.active.get(route, 0) + 1

    def end(self, route):
        with self.lock:
            self.active[route] -= 1
            self.last_end[route] = time.monotonic()

    def covers(self, route, started):
        """An error of an operation that began at `started` is injected if a destructive fault was
        in force at any point since, or ended less than ATTRIBUTION_SLACK before it began."""
        with self.lock:
            if self.active.get(route, 0) > 0:
                return True
            return self.last_end.get(route, -1e9) >= started - ATTRIBUTION_SLACK


def recv_exact(sock, n):
    chunks, got = [], 0
    while got < n:
        data = sock.recv(min(65536, n - got))
        if not data:
            raise ConnectionError(f"EOF after {got} of {n} bytes")
        chunks.append(data)
        got += len(data)
    return b"".join(chunks)


class Load:
    def __init__(self, endpoints, tally, windows, stop, seed):
        self.endpoints, self.tally, self.windows, self.stop = endpoints, tally, windows, stop
        self.seed = seed

    def failed(self, kind, route, started, error):
        if self.windows.covers(route, started):
            self.tally.add(kind, "injected")
        else:
            self.tally.add(kind, "unexpected")
            self.tally.note(f"{time.strftime('%H:%M:%S')} {kind}: {error!r}")

    def bulk(self):
        rng = random.Random(self.seed + 1)
        size = 4 << 20
        while not self.stop.is_set():
            started = time.monotonic()
            payload = rng.randbytes(size)
            try:
                with socket.create_connection(self.endpoints["bulk"], timeout=30) as sock:
                    errors = []

                    def send():
                        try:
                            sock.sendall(payload)
                            sock.shutdown(socket.SHUT_WR)
                        except OSError as e:
                            errors.append(e)
                    sender = threading.Thread(target=send)
                    sender.start()
                    digest, got = hashlib.sha256(), 0
                    while True:
                        data = sock.recv(262144)
                        if not data:
                            break
                        digest.update(data)
                        got += len(data)
                    sender.join()
                    if errors:
                        raise errors[0]
                if got != size or digest.digest() != hashlib.sha256(payload).digest():
                    self.tally.add("bulk", "mismatch")
                    self.tally.note(f"bulk: {got} of {size} bytes, or different bytes")
                else:
                    self.tally.add("bulk", "ok")
                    self.tally.add("bulk", "bytes", 2 * size)
            except OSError as e:
                self.failed("bulk", "bulk", started, e)
            self.stop.wait(1.0)

    def pingpong(self):
        rng = random.Random(self.seed + 2)
        sock = None
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                if sock is None:
                    sock = socket.create_connection(self.endpoints["echo"], timeout=10)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                message = rng.randbytes(64)
                sock.sendall(message)
                if recv_exact(sock, 64) != message:
                    self.tally.add("pingpong", "mismatch")
                    self.tally.note("pingpong: different bytes")
                else:
                    self.tally.add("pingpong", "ok")
                    self.tally.add("pingpong", "bytes", 128)
            except OSError as e:
                self.failed("pingpong", "echo", started, e)
                if sock is not None:
                    sock.close()
                sock = None
            self.stop.wait(0.01)
        if sock is not None:
            sock.close()

    def churn(self):
        rng = random.Random(self.seed + 3)
        while not self.stop.is_set():
            started = time.monotonic()
            message = rng.randbytes(1024)
            try:
                with socket.create_connection(self.endpoints["churn"], timeout=10) as sock:
                    sock.sendall(message)
                    if recv_exact(sock, 1024) != message:
                        self.tally.add("churn", "mismatch")
                        self.tally.note("churn: different bytes")
                    else:
                        self.tally.add("churn", "ok")
                        self.tally.add("churn", "bytes", 2048)
            except OSError as e:
                self.failed("churn", "churn", started, e)
            self.stop.wait(0.05)

    def http(self):
        rng = random.Random(self.seed + 4)
        host, port = self.endpoints["web"]
        conn = None
        n = 0
        while not self.stop.is_set():
            started = time.monotonic()
            n += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=10)
                if n % 2:
                    seed, size = rng.randrange(1 << 30), rng.choice([0, 100, 4096, 65536, 300000])
                    conn.request("GET", f"/bytes/{size}?seed={seed}")
                    expected = seeded_body(seed, size)
                else:
                    expected = rng.randbytes(rng.choice([1, 1000, 70000]))
                    conn.request("POST", "/echo", body=expected, headers={"content-type": "application/octet-stream"})
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    # Only an injected abort answers for the upstream, and it says so with x-faultline-fault.
                    if response.getheader("x-faultline-fault") and self.windows.covers("web", started):
                        self.tally.add("http", "injected")
                    else:
                        self.tally.add("http", "unexpected")
                        self.tally.note(f"http: status {response.status} {response.getheader('x-faultline-fault')}")
                    if response.getheader("connection", "").lower() == "close":
                        conn.close()
                        conn = None
                elif body != expected:
                    self.tally.add("http", "mismatch")
                    self.tally.note(f"http: {len(body)} bytes, expected {len(expected)}, or different bytes")
                else:
                    self.tally.add("http", "ok")
                    self.tally.add("http", "bytes", len(body))
            except (OSError, http.client.HTTPException) as e:
                self.failed("http", "web", started, e)
                if conn is not None:
                    conn.close()
                conn = None
            self.stop.wait(0.05)
        if conn is not None:
            conn.close()


# Faults applied in turn. destructive: may cut connections or answer for the upstream on its route.
FAULTS = [
    ({"route": "bulk", "type": "latency", "delay": "20ms", "jitter": "5ms"}, False),
    ({"route": "echo", "type": "reset", "direction": "upstream", "after": "200ms", "probability": 0.5}, True),
    ({"route": "bulk", "type": "bandwidth", "bytes_per_second": 2000000, "direction": "downstream"}, False),
    ({"route": "web", "type": "abort", "status": 503, "probability": 0.3, "mark": True}, True),
    ({"route": "bulk", "type": "slicer", "average_size": 1500, "size_variation": 500, "delay": "0s"}, False),
    ({"route": "churn", "type": "limit_data", "bytes": 512, "direction": "downstream"}, True),
    ({"route": "web", "type": "delay", "delay": "30ms"}, False),
    ({"route": "bulk", "type": "stall", "direction": "upstream"}, False),
    ({"route": "churn", "type": "refuse"}, True),
    ({"route": "echo", "type": "latency", "delay": "5ms"}, False),
    ({"route": "churn", "type": "connect_delay", "delay": "50ms"}, False),
]


def fault_churn(socket_path, windows, stop, period, tally_faults, errors):
    """Applies FAULTS in turn: every `period` seconds one fault for 0.6 × period; odd turns clear
    it with DELETE, even turns let its `for` expire in the daemon."""
    turn = 0
    while not stop.is_set():
        fault, destructive = FAULTS[turn % len(FAULTS)]
        hold = round(period * 0.6, 1)
        body = dict(fault, id=f"soak-{turn}")
        by_expiry = turn % 2 == 0
        if by_expiry:
            body["for"] = f"{hold}s"
        if destructive:
            windows.start(fault["route"])
        status, text = control(socket_path, "POST", "/v1/faults", body)
        if status != 201:
            errors.append(f"POST /v1/faults {body}: {status} {text[:300]!r}")
        else:
            tally_faults["applied"] += 1
        stop.wait(hold)
        if not by_expiry:
            status, text = control(socket_path, "DELETE", f"/v1/faults/soak-{turn}")
            if status != 204:
                errors.append(f"DELETE soak-{turn}: {status} {text[:200]!r}")
        else:
            # The daemon clears it on its own timer, within milliseconds; check it is gone.
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                status, _ = control(socket_path, "GET", f"/v1/faults/soak-{turn}")
                if status == 404:
                    break
                time.sleep(0.05)
            else:
                errors.append(f"soak-{turn} (for {hold}s) still in force 2 s after its expiry")
        tally_faults["cleared"] += 1
        if destructive:
            windows.end(fault["route"])
        turn += 1
        stop.wait(period - hold)
    control(socket_path, "DELETE", "/v1/faults")


# ---------------------------------------------------------------- sampling

def proc_sample(pid):
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu_ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return {
        "rss_bytes": int(status["VmRSS"].split()[0]) * 1024,
        "threads": int(status["Threads"]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "cpu_ticks": cpu_ticks,
    }


COLUMNS = ["elapsed_s", "phase", "rss_bytes", "fds", "threads", "cpu_percent", "load_cpu_percent",
           "connections_active", "connections_accepted", "bytes_relayed", "fault_injections",
           "faults_applied", "journal_events", "ok", "injected", "unexpected", "mismatch", "ops_per_s", "relayed_mib_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faultlined", required=True)
    parser.add_argument("--minutes", type=float, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples (10)")
    parser.add_argument("--fault-period", type=float, default=5.0, help="seconds between fault changes (5)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds left out of the growth check (default: 60, at most a tenth of the run)")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    duration = args.minutes * 60
    warmup = args.warmup if args.warmup is not None else min(60.0, duration / 10)
    ticks = os.sysconf("SC_CLK_TCK")

    echo = ThreadingTCP(("127.0.0.1", 0), EchoHandler)
    web = ThreadingHTTP(("127.0.0.1", 0), HTTPHandler)
    echo_port, web_port = serve(echo), serve(web)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        metrics_port = s.getsockname()[1]
    socket_path = os.path.join(args.out, "control.sock")
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    config = {
        "version": 1, "seed": args.seed, "workers": 2,
        "control": {"unix_socket": socket_path},
        "metrics_listen": f"127.0.0.1:{metrics_port}",
        # A request log of 500 entries fills within the warm-up, so its memory is not read as growth.
        # The in-memory journal (100,000 events kept) is not configurable: its count is a column,
        # to read RSS against.
        "limits": {"connect_timeout": "2s", "shutdown_grace": "3s", "request_log": REQUEST_LOG_ENTRIES},
        "routes": [
            {"name": "bulk", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{echo_port}"},
            {"name": "echo", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{echo_port}"},
            {"name": "churn", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{echo_port}"},
            {"name": "web", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{web_port}", "protocol": "http"},
        ],
    }
    config_path = os.path.join(args.out, "faultline.json")
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)
    log = open(os.path.join(args.out, "daemon.log"), "w")
    daemon = subprocess.Popen([args.faultlined, "--config", config_path, "--log-format", "json"],
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    endpoints = {}
    deadline = time.monotonic() + 20
    while len(endpoints) < 4 or not os.path.exists(socket_path):
        if daemon.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"faultlined did not start; see {args.out}/daemon.log")
        time.sleep(0.1)
        with open(os.path.join(args.out, "daemon.log")) as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("event") == "route.listening":
                    host, _, port = entry["address"].rpartition(":")
                    endpoints[entry["route"]] = (host, int(port))
    time.sleep(0.5)
    idle_before = proc_sample(daemon.pid)

    kinds = ["bulk", "pingpong", "churn", "http"]
    tally, windows, stop = Tally(kinds), FaultWindows(), threading.Event()
    load = Load(endpoints, tally, windows, stop, args.seed)
    fault_counts, control_errors = {"applied": 0, "cleared": 0}, []
    threads = [threading.Thread(target=getattr(load, k), name=k) for k in kinds]
    threads.append(threading.Thread(target=fault_churn, name="faults",
                                    args=(socket_path, windows, stop, args.fault_period, fault_counts, control_errors)))
    started = time.monotonic()
    for t in threads:
        t.start()

    rows = []
    csv_path = os.path.join(args.out, "soak.csv")
    csv = open(csv_path, "w")
    csv.write(",".join(COLUMNS) + "\n")
    previous = (time.monotonic(), idle_before["cpu_ticks"], os.times())
    last_totals = {"ok": 0, "bytes_relayed": 0, "journal_seq": 0}

    def sample(phase):
        nonlocal previous, last_totals
        now, proc, me = time.monotonic(), proc_sample(daemon.pid), os.times()
        m = metrics(metrics_port)
        counts = tally.snapshot()
        wall = now - previous[0]
        row = {
            "elapsed_s": round(now - started, 1), "phase": phase,
            "rss_bytes": proc["rss_bytes"], "fds": proc["fds"], "threads": proc["threads"],
            "cpu_percent": round(100 * (proc["cpu_ticks"] - previous[1]) / ticks / wall, 1),
            "load_cpu_percent": round(100 * ((me.user + me.system) - (previous[2].user + previous[2].system)) / wall, 1),
            "connections_active": int(m.get("faultline_connections_active", 0)),
            "connections_accepted": int(m.get("faultline_connections_accepted_total", 0)),
            "bytes_relayed": int(m.get("faultline_bytes_total", 0)),
            "fault_injections": int(m.get("faultline_fault_injections_total", 0)),
            "faults_applied": fault_counts["applied"],
        }
        for field in ["ok", "injected", "unexpected", "mismatch"]:
            row[field] = sum(c[field] for c in counts.values())
        # Only the events since the last sample: a few KiB, so sampling itself adds no memory.
        status, text = control(socket_path, "GET", f"/v1/journal?since={last_totals['journal_seq']}")
        lines = text.decode().strip().splitlines() if status == 200 else []
        if lines:
            last_totals["journal_seq"] = json.loads(lines[-1])["seq"]
        row["journal_events"] = last_totals["journal_seq"]
        row["ops_per_s"] = round((row["ok"] - last_totals["ok"]) / wall, 1)
        row["relayed_mib_per_s"] = round((row["bytes_relayed"] - last_totals["bytes_relayed"]) / wall / 2**20, 2)
        last_totals.update(ok=row["ok"], bytes_relayed=row["bytes_relayed"])
        previous = (now, proc["cpu_ticks"], me)
        rows.append(row)
        csv.write(",".join(str(row[c]) for c in COLUMNS) + "\n")
        csv.flush()
        print(f"[soak] {row['elapsed_s']:7.0f} s  rss {row['rss_bytes'] / 2**20:6.1f} MiB  fds {row['fds']:4}  "
              f"cpu {row['cpu_percent']:5.1f} %  conns {row['connections_active']:3}  ok {row['ok']}  "
              f"injected {row['injected']}  unexpected {row['unexpected']}  mismatch {row['mismatch']}",
              file=sys.stderr, flush=True)
        return row

    crashed = False
    next_sample = started + args.interval
    while time.monotonic() < started + duration:
        if daemon.poll() is not None:
            crashed = True
            break
        time.sleep(max(0.0, min(next_sample, started + duration) - time.monotonic()))
        if time.monotonic() >= next_sample:
            sample("load")
            next_sample += args.interval
    stop.set()
    for t in threads:
        t.join(timeout=60)
    failures = []
    if crashed or daemon.poll() is not None:
        failures.append(f"faultlined exited during the run (status {daemon.returncode})")
        idle_after = None
    else:
        # Idle again: every relay closed, the daemon back at its starting descriptor count.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            idle_after = proc_sample(daemon.pid)
            if idle_after["fds"] <= idle_before["fds"] + IDLE_FD_MARGIN and metrics(metrics_port).get("faultline_connections_active", 0) == 0:
                break
            time.sleep(0.5)
        sample("idle")
        daemon.send_signal(signal.SIGTERM)
        try:
            status = daemon.wait(timeout=15)
            if status != 0:
                failures.append(f"faultlined exited with status {status} after SIGTERM")
        except subprocess.TimeoutExpired:
            daemon.kill()
            failures.append("faultlined did not exit within 15 s of SIGTERM")
    csv.close()

    counts = tally.snapshot()
    steady = [r for r in rows if r["phase"] == "load" and r["elapsed_s"] >= warmup]
    third = len(steady) // 3
    growth = {}
    if third >= 1:
        first, last = steady[:third], steady[-third:]
        for key in ["rss_bytes", "fds", "threads"]:
            growth[key] = {"first_third_median": statistics.median(r[key] for r in first),
                           "last_third_median": statistics.median(r[key] for r in last),
                           "max": max(r[key] for r in steady)}
        rss = growth["rss_bytes"]
        rss["limit"] = rss["first_third_median"] * (1 + RSS_MARGIN_FRACTION) + RSS_MARGIN_BYTES
        if rss["last_third_median"] > rss["limit"]:
            failures.append(f"RSS grew: last third median {rss['last_third_median'] / 2**20:.1f} MiB > limit {rss['limit'] / 2**20:.1f} MiB")
        fds = growth["fds"]
        fds["limit"] = fds["first_third_median"] + FD_MARGIN
        if fds["last_third_median"] > fds["limit"]:
            failures.append(f"descriptors grew: last third median {fds['last_third_median']} > limit {fds['limit']}")
        if growth["threads"]["last_third_median"] > growth["threads"]["first_third_median"]:
            failures.append("threads grew")
    else:
        failures.append(f"too few samples after the {warmup:.0f} s warm-up for a growth check ({len(steady)}; need 3)")
    if idle_after is not None and idle_after["fds"] > idle_before["fds"] + IDLE_FD_MARGIN:
        failures.append(f"descriptors after the load {idle_after['fds']} > before it {idle_before['fds']} + {IDLE_FD_MARGIN}")
    for kind, c in counts.items():
        if c["mismatch"]:
            failures.append(f"{kind}: {c['mismatch']} transfers with different bytes")
        if c["unexpected"]:
            failures.append(f"{kind}: {c['unexpected']} errors outside any destructive fault")
        if c["ok"] == 0:
            failures.append(f"{kind}: no operation completed")
    failures += control_errors[:10]
    cpu = [r["cpu_percent"] for r in rows if r["phase"] == "load"]
    load_cpu = [r["load_cpu_percent"] for r in rows if r["phase"] == "load"]
    summary = {
        "minutes": round((rows[-1]["elapsed_s"] if rows else 0) / 60, 1),
        "samples": len(rows), "warmup_s": warmup,
        "idle_before": {k: idle_before[k] for k in ["rss_bytes", "fds", "threads"]},
        "idle_after": None if idle_after is None else {k: idle_after[k] for k in ["rss_bytes", "fds", "threads"]},
        "growth": growth, "load": counts, "faults": fault_counts,
        "daemon_cpu_percent": {"mean": round(statistics.mean(cpu), 1), "max": max(cpu)} if cpu else None,
        "load_cpu_percent": {"mean": round(statistics.mean(load_cpu), 1), "max": max(load_cpu)} if load_cpu else None,
        "connections_accepted": rows[-1]["connections_accepted"] if rows else 0,
        "bytes_relayed": rows[-1]["bytes_relayed"] if rows else 0,
        "fault_injections": rows[-1]["fault_injections"] if rows else 0,
        "unexpected_examples": tally.examples,
        "failures": failures, "csv": csv_path,
    }
    json.dump(summary, sys.stdout, indent=2)
    print()
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
