"""A small inventory service: GET /stock/ITEM answers the stock of ITEM (200, JSON), and
GET /stats the number of requests it handled. It never fails by itself: the outage is
Faultline's (a scheduled `abort` 503 in front of it)."""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

handled = 0
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
        global handled
        if self.path == "/stats":
            with lock:
                return self.answer(200, {"handled": handled})
        if self.path.startswith("/stock/"):
            with lock:
                handled += 1
            return self.answer(200, {"item": self.path[len("/stock/"):], "stock": 7})
        self.answer(404, {"error": "not found"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    Server(("127.0.0.1", args.port), Handler).serve_forever()
