"""Service B, the downstream: GET /work answers {"result": "computed", "n": N} at once (N counts
the calls that reached it); GET /stats says how many did. In the scenario it never gets to
answer: Faultline holds every request on the way to it for 30 s (a `delay` fault)."""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

served = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        global served
        if self.path == "/work":
            with lock:
                served += 1
                n = served
            self.answer(200, {"result": "computed", "n": n})
        elif self.path == "/stats":
            with lock:
                self.answer(200, {"served": served})
        else:
            self.answer(404, {"error": "not found"})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
