"""The harness every scenario runs on: free ports, a real faultlined in front of small Python
services, the control API over its Unix socket, and a teardown that ends every process it
started (by pid) and removes its temporary directory, also on Ctrl-C.

Standard library only, so a reader of any stack can follow it and nothing needs installing.

    h = Harness("idempotency")
    pay = h.service(["python3", "examples/idempotency/payments.py", "--port", "{port}"])
    fl = h.faultline("Config/scenarios/idempotency.json", PAYMENTS=pay.port)
    fl.route_port("pay")       # where the clients connect
    fl.report("pay")           # GET /v1/report, parsed
    h.check(charges == 1, "charged once")
    sys.exit(h.finish())
"""

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def free_port():
    """A loopback port nobody listens on now (bound to 0, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=10.0, process=None):
    """Waits until 127.0.0.1:port accepts a connection; False on timeout or if process exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket: the control API's default listener."""

    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class ControlError(Exception):
    pass


class Faultline:
    """A running faultlined and its control API."""

    def __init__(self, process, socket_path, log_path):
        self.process = process
        self.socket_path = socket_path
        self.log_path = log_path

    def call(self, method, path, body=None):
        """One control request: (status, parsed JSON or text)."""
        conn = UnixHTTPConnection(self.socket_path)
        try:
            payload = None if body is None else json.dumps(body)
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            kind = response.getheader("Content-Type", "")
            if kind.startswith("application/json") and text:
                return response.status, json.loads(text)
            return response.status, text
        finally:
            conn.close()

    def expect(self, status, method, path, body=None):
        got, answer = self.call(method, path, body)
        if got != status:
            raise ControlError("%s %s answered %d, expected %d: %s" % (method, path, got, status, answer))
        return answer

    def apply(self, fault):
        return self.expect(201, "POST", "/v1/faults", fault)["id"]

    def clear(self, fault_id):
        self.expect(204, "DELETE", "/v1/faults/" + urllib.parse.quote(fault_id, safe=""))

    def route_port(self, name):
        """The port a route listens on (port 0 in the config is resolved by the daemon)."""
        route = self.expect(200, "GET", "/v1/routes/" + name)
        return int((route.get("bound") or route["listen"]).rsplit(":", 1)[1])

    def journal(self, event=None, since=0):
        text = self.expect(200, "GET", "/v1/journal?since=%d" % since)
        events = [json.loads(line) for line in text.splitlines() if line]
        return [e for e in events if event is None or e["event"] == event]

    def requests(self, route, since=0):
        text = self.expect(200, "GET", "/v1/requests?" + urllib.parse.urlencode({"route": route, "since": since}))
        return [json.loads(line) for line in text.splitlines() if line]

    def report(self, route, since=0, group_by="auto"):
        query = urllib.parse.urlencode({"route": route, "since": since, "group_by": group_by})
        return self.expect(200, "GET", "/v1/report?" + query)

    def metrics(self):
        return self.expect(200, "GET", "/metrics")

    def metric(self, name, **labels):
        """The value of one series of GET /metrics (0 when absent)."""
        wanted = ",".join('%s="%s"' % (k, v) for k, v in sorted(labels.items()))
        for line in self.metrics().splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$", line)
            if not match or match.group(1) != name:
                continue
            got = ",".join(sorted(p for p in (match.group(3) or "").split(",") if p))
            if got == wanted:
                return float(match.group(4))
        return 0.0

    def http_codes(self, route):
        """faultline_http_requests_total of a route, by code."""
        codes = {}
        for line in self.metrics().splitlines():
            match = re.match(r'^faultline_http_requests_total\{(.*)\} (\S+)$', line)
            if match and ('route="%s"' % route) in match.group(1):
                code = re.search(r'code="([^"]*)"', match.group(1)).group(1)
                codes[code] = int(float(match.group(2)))
        return codes

    def wait_requests(self, route, count, timeout=5.0):
        """Waits until the route's log holds `count` entries (each is logged a moment after the
        client read its answer); returns them."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.requests(route)
            if len(records) >= count or time.monotonic() > deadline:
                return records
            time.sleep(0.02)


class Service:
    def __init__(self, process, port, name):
        self.process = process
        self.port = port
        self.name = name


class Harness:
    """Starts processes for one scenario and ends them all, whatever happens."""

    def __init__(self, name, argv=None):
        self.name = name
        self.args = parse_args(argv if argv is not None else sys.argv[1:])
        self.directory = tempfile.mkdtemp(prefix="faultline-%s-" % name)
        self.processes = []
        self.failures = []
        self.results = {}
        self.faultlined = self.args.get("faultlined") or os.environ.get("FAULTLINED") or default_faultlined()
        atexit.register(self.teardown)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._interrupted)

    def _interrupted(self, signum, frame):
        self.say("\ninterrupted: stopping everything")
        self.teardown()
        os._exit(130)

    # --- processes ---------------------------------------------------------------------

    def service(self, argv, name=None, port=None, wait=True):
        """Starts a service; `{port}` in argv becomes a free port, which it must listen on."""
        port = port or free_port()
        argv = [a.replace("{port}", str(port)) for a in argv]
        name = name or os.path.basename(argv[1] if len(argv) > 1 else argv[0])
        log = open(os.path.join(self.directory, "%s-%d.log" % (name, port)), "w")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        self.processes.append(process)
        if wait and not wait_listening(port, 10, process):
            raise RuntimeError("%s did not start listening on %d:\n%s" % (name, port, self._log(log.name)))
        return Service(process, port, name)

    def faultline(self, config, **values):
        """Starts faultlined with `config` (a path under the repository), `${NAME}` placeholders
        replaced by `values`, its control socket and journal in the scenario's directory."""
        with open(os.path.join(ROOT, config)) as f:
            text = f.read()
        for key, value in values.items():
            text = text.replace("${%s}" % key, str(value))
        missing = re.findall(r"\$\{([A-Z0-9_]+)\}", text)
        if missing:
            raise RuntimeError("%s: no value for %s" % (config, ", ".join(sorted(set(missing)))))
        document = json.loads(text)
        self.daemons_started = getattr(self, "daemons_started", 0) + 1
        run = self.daemons_started
        sock = os.path.join(self.directory, "control-%d.sock" % run)
        document.setdefault("control", {})["unix_socket"] = sock
        document["journal"] = os.path.join(self.directory, "journal-%d.jsonl" % run)
        path = os.path.join(self.directory, "faultline-%d.json" % run)
        with open(path, "w") as f:
            json.dump(document, f, indent=2)
        log_path = os.path.join(self.directory, "faultlined-%d.log" % run)
        log = open(log_path, "w")
        process = subprocess.Popen([self.faultlined, "--config", path], stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        deadline = time.monotonic() + 15
        daemon = Faultline(process, sock, log_path)
        while True:
            if process.poll() is not None:
                raise RuntimeError("faultlined exited:\n" + self._log(log_path))
            if os.path.exists(sock):
                try:
                    daemon.expect(200, "GET", "/v1/status")
                    return daemon
                except (OSError, ControlError):
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError("faultlined did not answer on %s:\n%s" % (sock, self._log(log_path)))
            time.sleep(0.02)

    def stop(self, thing):
        """Ends one service or daemon (SIGTERM, then SIGKILL), by pid."""
        process = thing.process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def teardown(self):
        self.stop_all()
        if self.directory and os.path.isdir(self.directory):
            if self.args.get("keep"):
                print("kept %s" % self.directory, file=sys.stderr)
            else:
                shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

    def faultctl(self, daemon, *arguments):
        """Runs faultctl (next to faultlined) against `daemon`; its output."""
        binary = os.path.join(os.path.dirname(self.faultlined), "faultctl")
        run = subprocess.run([binary, "--socket", daemon.socket_path] + list(arguments),
                             capture_output=True, text=True, timeout=30)
        return run.stdout if run.returncode == 0 else run.stdout + run.stderr

    def _log(self, path):
        try:
            with open(path) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # --- the story ---------------------------------------------------------------------

    def say(self, text=""):
        if not self.args.get("quiet"):
            print(text, flush=True)

    def check(self, condition, message):
        """One claim of the story; a false one fails the scenario."""
        self.say(("  ok    " if condition else "  FAIL  ") + message)
        if not condition:
            self.failures.append(message)
        return condition

    def record(self, variant, **numbers):
        """Numbers a test asserts on (printed as one JSON line with --json)."""
        self.results.setdefault(variant, {}).update(numbers)

    def finish(self):
        """Prints the verdict (and the numbers with --json); the exit status."""
        if self.args.get("json"):
            print("SCENARIO-RESULT " + json.dumps({"scenario": self.name, "passed": not self.failures,
                                                   "failures": self.failures, "results": self.results}), flush=True)
        if self.failures:
            self.say("\n%s: FAILED (%d claim%s did not hold)" % (self.name, len(self.failures), "" if len(self.failures) == 1 else "s"))
            return 1
        self.say("\n%s: both variants showed what they should" % self.name)
        return 0


def parse_args(argv):
    """--faultlined PATH, --json, --quiet, --keep, --report (print faultctl's report tables)."""
    args, i = {}, 0
    while i < len(argv):
        a = argv[i]
        if a == "--faultlined" and i + 1 < len(argv):
            args["faultlined"] = argv[i + 1]
            i += 1
        elif a in ("--json", "--quiet", "--keep", "--report"):
            args[a[2:]] = True
        else:
            raise SystemExit("unknown argument %r (expected --faultlined PATH, --json, --quiet, --keep, --report)" % a)
        i += 1
    return args


def default_faultlined():
    for mode in ("release", "debug"):
        path = os.path.join(ROOT, ".build", mode, "faultlined")
        if os.access(path, os.X_OK):
            return path
    raise SystemExit("no faultlined: build it (swift build --product faultlined) or pass --faultlined PATH")


def http_call(port, method, path, body=None, headers=None, timeout=5.0):
    """One HTTP request on a new connection: (status, parsed JSON body or text), or
    (None, reason) when the connection failed or timed out."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body)
        all_headers = dict(headers or {})
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        text = response.read().decode()
        try:
            return response.status, json.loads(text) if text else None
        except ValueError:
            return response.status, text
    except socket.timeout:
        return None, "timeout"
    except (OSError, http.client.HTTPException) as error:
        return None, type(error).__name__
    finally:
        conn.close()
