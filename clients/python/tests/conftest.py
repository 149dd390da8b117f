"""Starts a real faultlined for the client's tests: a tiny HTTP upstream in a thread, and the
daemon ($FAULTLINED, else <repo>/.build/debug/faultlined) with a control socket, an http route
`web` to the upstream and a tcp route `link` (n1 -> n2) so partitions have nodes to cut."""

from __future__ import annotations

import http.server
import json
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

import faultline

pytest_plugins = ["pytester"]

REPO = pathlib.Path(__file__).resolve().parents[3]


class _Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


class Daemon:
    def __init__(self, directory: pathlib.Path, upstream_port: int) -> None:
        binary = os.environ.get("FAULTLINED") or str(REPO / ".build/debug/faultlined")
        if not os.access(binary, os.X_OK):
            pytest.fail(f"no faultlined at {binary}: build it (swift build --product faultlined) or set FAULTLINED")
        self.socket = str(directory / "control.sock")
        self.token = "py-client-token"
        token_file = directory / "token"
        token_file.write_text(self.token + "\n")
        self.token_file = str(token_file)
        config = {
            "version": 1, "seed": 7, "workers": 1,
            "control": {"unix_socket": self.socket, "http_listen": "127.0.0.1:0", "token_file": self.token_file},
            "limits": {"connect_timeout": "2s", "shutdown_grace": "1s"},
            "routes": [
                {"name": "web", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{upstream_port}", "protocol": "http"},
                {"name": "link", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{upstream_port}", "from": "n1", "to": "n2"},
            ],
        }
        config_path = directory / "faultline.json"
        config_path.write_text(json.dumps(config))
        self.log_path = directory / "faultlined.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen([binary, "--config", str(config_path)], stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        self.client = faultline.Client(socket=self.socket, timeout=5)
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"faultlined exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                self.client.status()
                break
            except faultline.UnreachableError:
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"faultlined did not answer on {self.socket} within 15 s:\n{self.log_path.read_text()}")
                time.sleep(0.05)
        bound = {r["name"]: r["bound"] for r in self.client.routes()}
        host, port = bound["web"].rsplit(":", 1)
        self.web = (host, int(port))
        # The TCP control listener's port, from its control.listening log line.
        self.url = None
        for line in self.log_path.read_text().splitlines():
            if "control.listening" in line and "kind=tcp" in line:
                address = next(word.split("=", 1)[1] for word in line.split() if word.startswith("address="))
                self.url = f"http://{address}"
        if self.url is None:
            self.stop()
            pytest.fail(f"no control.listening line for the TCP listener:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


@pytest.fixture(scope="session", autouse=True)
def daemon():
    """One daemon for the session; the `faultline` fixture finds it through FAULTLINE_SOCKET."""
    directory = pathlib.Path(tempfile.mkdtemp(prefix="fl-py-"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    running = Daemon(directory, server.server_address[1])
    saved = os.environ.get("FAULTLINE_SOCKET")
    os.environ["FAULTLINE_SOCKET"] = running.socket
    try:
        yield running
    finally:
        if saved is None:
            os.environ.pop("FAULTLINE_SOCKET", None)
        else:
            os.environ["FAULTLINE_SOCKET"] = saved
        alive = running.process.poll() is None
        running.stop()
        server.shutdown()
        server.server_close()
        log = running.log_path.read_text()
        shutil.rmtree(directory, ignore_errors=True)
        assert alive, f"faultlined died during the tests:\n{log}"


def http_get(address, path="/", headers=None, timeout=5.0):
    """One GET through the proxy on a fresh connection: (status, body), or the exception's class
    name when the connection broke."""
    import http.client

    connection = http.client.HTTPConnection(*address, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__, b""
    finally:
        connection.close()


@pytest.fixture
def client(daemon):
    c = faultline.Client(socket=daemon.socket)
    c.clear()
    yield c
    c.clear()
