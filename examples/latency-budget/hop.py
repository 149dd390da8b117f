"""One service of the chain client → A → B → C. GET /quote does `--work-ms` of processing (a
sleep: the time is known), then, if it has a downstream, calls it (through its Faultline route)
and answers 200 with the path the request took. A downstream error or timeout is a 502.
GET /stats answers how many /quote requests it served."""

import http.client
import json
import os
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402

served = 0
lock = threading.Lock()


class Handler(JSONHandler):
    arguments = {
        "--name": dict(required=True),
        "--work-ms": dict(type=float, required=True),
        "--downstream": dict(type=int, default=0, help="port of the route to the next service"),
    }

    def setup(self):
        super().setup()
        # The head and the body are two writes: without TCP_NODELAY, Nagle's algorithm holds the
        # body until the head is acknowledged, and delayed ACKs make that 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        global served
        if self.path == "/stats":
            with lock:
                return self.answer(200, {"served": served})
        if not self.path.startswith("/quote"):
            return self.answer(404, {"error": "not found"})
        time.sleep(self.args.work_ms / 1000.0)
        path = [self.args.name]
        if self.args.downstream:
            try:
                status, body = self.call_downstream()
            except (OSError, http.client.HTTPException, ValueError) as error:
                self.drop_downstream()
                return self.answer(502, {"error": type(error).__name__})
            if status != 200:
                return self.answer(502, {"error": "downstream answered %d" % status})
            path += body.get("path", [])
        with lock:
            served += 1
        self.answer(200, {"path": path})


    # One keep-alive connection to the downstream per handler thread (a handler thread serves one
    # caller connection): no connect or thread start per hop, so the chain's latency is its work.
    def call_downstream(self):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", self.args.downstream, timeout=10)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.request("GET", self.path, headers={"X-Request-Id": self.headers.get("X-Request-Id", "")})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")

    def drop_downstream(self):
        conn = getattr(local, "conn", None)
        if conn is not None:
            conn.close()
        local.conn = None


local = threading.local()


class Server(ThreadingHTTPServer):
    request_queue_size = 64  # a deeper listen backlog than the default 5: callers connect at once


if __name__ == "__main__":
    serve(Handler, server_class=Server)
