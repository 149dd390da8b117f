"""A two-node key-value store: a primary that takes writes and a replica that serves reads.

    kv.py --port P --role replica
    kv.py --port P --role primary --replica-port R --mode buggy|correct

The primary replicates each write to the replica (POST /replicate, through Faultline, on one
keep-alive connection as replication links usually are).
  buggy:   it acknowledges the write first and replicates afterwards, once, from a background
           queue; a replication that fails is forgotten. A partition at the wrong moment loses
           acknowledged writes.
  correct: it acknowledges only once the replica has the write, and answers 503 otherwise (the
           client knows the write did not happen).
Both: PUT /kv/KEY {"value": V}; GET /kv/KEY; POST /reset clears the store.
"""

import json
import os
import sys
import threading
import http.client
import queue

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402

STORE = {}
LOCK = threading.Lock()


class ReplicationLink:
    """One keep-alive connection to the replica; a failed request drops it (the next one dials
    again)."""

    def __init__(self, port):
        self.port = port
        self.conn = None
        self.lock = threading.Lock()

    def send(self, key, value):
        """One POST /replicate; True when the replica answered 200 within half a second."""
        with self.lock:
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=0.5)
                self.conn.request("POST", "/replicate", body=json.dumps({"key": key, "value": value}),
                                  headers={"Content-Type": "application/json"})
                response = self.conn.getresponse()
                response.read()
                return response.status == 200
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                return False


LINK = None
QUEUE = queue.Queue()


def replicator():
    """The buggy primary's background sender: each write once, failures forgotten."""
    while True:
        key, value = QUEUE.get()
        LINK.send(key, value)


class Handler(JSONHandler):
    arguments = {
        "--role": dict(choices=["primary", "replica"], required=True),
        "--replica-port": dict(type=int),
        "--mode": dict(choices=["buggy", "correct"], default="correct"),
    }

    def do_GET(self):
        key = self.path[len("/kv/"):] if self.path.startswith("/kv/") else None
        with LOCK:
            value = STORE.get(key)
        if value is None:
            self.answer(404, {"error": "no such key"})
        else:
            self.answer(200, {"key": key, "value": value})

    def do_PUT(self):
        if self.args.role != "primary" or not self.path.startswith("/kv/"):
            return self.answer(404, {"error": "PUT /kv/KEY on the primary"})
        key, value = self.path[len("/kv/"):], self.json_body().get("value")
        if self.args.mode == "buggy":
            with LOCK:
                STORE[key] = value
            self.answer(200, {"key": key, "acknowledged": True})
            QUEUE.put((key, value))
        elif LINK.send(key, value):
            with LOCK:
                STORE[key] = value
            self.answer(200, {"key": key, "acknowledged": True})
        else:
            self.answer(503, {"error": "the replica did not confirm; the write did not happen"})

    def do_POST(self):
        body = self.json_body()
        if self.path == "/replicate" and self.args.role == "replica":
            with LOCK:
                STORE[body["key"]] = body["value"]
            return self.answer(200, {"replicated": body["key"]})
        if self.path == "/reset":
            with LOCK:
                STORE.clear()
            return self.answer(200, {"reset": True})
        self.answer(404, {"error": "unknown path"})


def main():
    import sys as _sys
    global LINK
    argv = _sys.argv[1:]
    if "--replica-port" in argv:
        LINK = ReplicationLink(int(argv[argv.index("--replica-port") + 1]))
        threading.Thread(target=replicator, daemon=True).start()
    serve(Handler)


if __name__ == "__main__":
    main()
