"""Service B, the downstream: GET /work answers {"result": "computed", "n": N} at once (N counts
the calls that reached it); GET /stats says how many did. In the scenario it never gets to
answer: Faultline holds every request on the way to it for 30 s (a `delay` fault)."""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402

served = 0
lock = threading.Lock()


class Handler(JSONHandler):
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
    serve(Handler)
