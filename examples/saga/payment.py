"""The payment service. POST /capture {"order", "amount"} captures the amount for an order;
POST /refund {"order"} gives a captured amount back. GET /state lists every payment and its
status (captured or refunded)."""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

payments = {}  # order id -> {"order", "amount", "status"}
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
        if self.path != "/state":
            return self.answer(404, {"error": "not found"})
        with lock:
            self.answer(200, {"payments": list(payments.values())})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        order = request.get("order")
        with lock:
            if self.path == "/capture":
                payment = {"order": order, "amount": request["amount"], "status": "captured"}
                payments[order] = payment  # the customer's money is taken
                return self.answer(200, payment)
            if self.path == "/refund":
                payment = payments.get(order)
                if payment is None or payment["status"] != "captured":
                    return self.answer(409, {"error": "nothing to refund for %s" % order})
                payment["status"] = "refunded"
                return self.answer(200, payment)
        self.answer(404, {"error": "not found"})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
