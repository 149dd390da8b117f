"""A payment service with a ledger. POST /charge {"customer", "amount"} records a charge and
answers with it; a request carrying Idempotency-Key is charged once per key, and a retry gets the
first answer again. GET /ledger lists the charges."""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ledger = []
answers = {}  # idempotency key -> the answer given the first time
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
        if self.path == "/ledger":
            with lock:
                self.answer(200, {"charges": list(ledger)})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/charge":
            return self.answer(404, {"error": "not found"})
        key = self.headers.get("Idempotency-Key")
        with lock:
            if key is not None and key in answers:
                return self.answer(200, answers[key])
            charge = {"id": "ch_%d" % (len(ledger) + 1), "customer": request["customer"], "amount": request["amount"]}
            ledger.append(charge)  # committed: the card is charged
            if key is not None:
                answers[key] = charge
        self.answer(200, charge)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
