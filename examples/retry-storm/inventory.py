"""A small inventory service: GET /stock/ITEM answers the stock of ITEM (200, JSON), and
GET /stats the number of requests it handled. It never fails by itself: the outage is
Faultline's (a scheduled `abort` 503 in front of it)."""

import os
import sys
import threading
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402

handled = 0
lock = threading.Lock()


class Handler(JSONHandler):
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
    request_queue_size = 128  # a deeper listen backlog than the default 5: the storm connects at once


if __name__ == "__main__":
    serve(Handler, server_class=Server)
