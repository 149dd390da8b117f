"""Service A, the frontend: a fixed pool of worker threads (like a sync web server's workers)
serves every connection, GET /work and GET /health alike. GET /work calls B's GET /work
(through Faultline: --downstream is the route's port) and answers with B's result.

--mode buggy: the call to B has no timeout and no breaker. When B hangs, every worker waits on
it, and nothing is left to answer anything, not even /health.

--mode correct: the call to B times out after 300 ms, and a breaker counts failures: after 3 in
a row it opens and /work skips B for 1 s, answering at once with a fallback ("degraded"); then
one call is let through (half-open) to see whether B is back. /health never waits on B.

GET /stats: calls made to B, their failures, fallbacks answered, times the breaker opened."""

import http.client
import json
import os
import queue
import socket
import socketserver
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402

TIMEOUT_S = 0.3        # correct: the budget for one call to B
FAILURES_TO_OPEN = 3   # correct: consecutive failures that open the breaker
OPEN_S = 1.0           # correct: how long an open breaker skips B

stats = {"calls": 0, "failures": 0, "fallbacks": 0, "opened": 0}
lock = threading.Lock()


class Breaker:
    """closed → (3 failures in a row) → open for 1 s → half-open: one trial call; its success
    closes the breaker, its failure opens it again for 1 s."""

    def __init__(self):
        self.failures = 0
        self.opened_at = None
        self.trial = False

    def allow(self):
        with lock:
            if self.opened_at is None:
                return True
            if time.monotonic() - self.opened_at < OPEN_S or self.trial:
                return False
            self.trial = True  # half-open: this caller is the one trial call
            return True

    def success(self):
        with lock:
            self.failures, self.opened_at, self.trial = 0, None, False

    def failure(self):
        with lock:
            self.failures += 1
            if self.trial or (self.opened_at is None and self.failures >= FAILURES_TO_OPEN):
                self.opened_at, self.trial = time.monotonic(), False
                stats["opened"] += 1


breaker = Breaker()


def call_b(port, timeout):
    """GET /work on B through Faultline (the route's port): its JSON body; raises on any failure.
    timeout None waits for ever."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/work")
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise OSError("B answered %d" % response.status)
        return json.loads(body)
    except socket.timeout:
        # Abandon the call with a reset rather than a FIN: the connection is dead to A, and
        # Faultline (which holds the request) sees a reset at once, while a FIN would only be
        # noticed when the held request is let go (see README: "what the proxy sees").
        if conn.sock is not None:
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raise
    finally:
        conn.close()


class Handler(JSONHandler):
    arguments = {
        "--downstream": dict(type=int, required=True, help="the port of the Faultline route to B"),
        "--mode": dict(choices=["buggy", "correct"], required=True),
        "--workers": dict(type=int, default=4),
    }

    def answer(self, status, body):
        # One request per connection: a worker is given back after each answer, and every
        # request (a health check too) waits its turn in the pool's queue.
        super().answer(status, body, {"Connection": "close"})
        self.close_connection = True

    def do_GET(self):
        if self.path == "/health":
            return self.answer(200, {"status": "ok"})
        if self.path == "/stats":
            with lock:
                return self.answer(200, dict(stats))
        if self.path != "/work":
            return self.answer(404, {"error": "not found"})
        if self.args.mode == "correct" and not breaker.allow():
            with lock:
                stats["fallbacks"] += 1
            return self.answer(200, {"result": "fallback", "degraded": True})
        with lock:
            stats["calls"] += 1
        timeout = TIMEOUT_S if self.args.mode == "correct" else None  # buggy: wait for ever
        try:
            result = call_b(self.args.downstream, timeout)
        except (OSError, ValueError, http.client.HTTPException):
            with lock:
                stats["failures"] += 1
                stats["fallbacks"] += 1
            breaker.failure()
            return self.answer(200, {"result": "fallback", "degraded": True})
        breaker.success()
        self.answer(200, {"result": result["result"], "degraded": False})


class PooledServer(socketserver.TCPServer):
    """Accepts connections and hands them to a fixed pool of workers (--workers): when every
    worker is busy, a connection waits in the queue, however urgent (a health check) it is."""

    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, handler):
        super().__init__(address, handler)
        self.pending = queue.Queue()
        for _ in range(handler.args.workers):
            threading.Thread(target=self.work, daemon=True).start()

    def process_request(self, request, client_address):
        self.pending.put((request, client_address))

    def work(self):
        while True:
            request, client_address = self.pending.get()
            try:
                self.finish_request(request, client_address)
            except Exception:
                pass
            finally:
                self.shutdown_request(request)


if __name__ == "__main__":
    serve(Handler, server_class=PooledServer)
