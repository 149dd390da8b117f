"""The inventory service. POST /reserve {"order", "sku", "qty"} reserves stock for an order.
GET /state lists the reservations and what is left in stock."""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

stock = {"sku-lamp": 100}
reservations = {}  # order id -> {"order", "sku", "qty"}
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
            self.answer(200, {"reservations": list(reservations.values()), "stock": dict(stock)})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/reserve":
            return self.answer(404, {"error": "not found"})
        sku, qty = request["sku"], request["qty"]
        with lock:
            if stock.get(sku, 0) < qty:
                return self.answer(409, {"error": "out of stock"})
            stock[sku] -= qty
            reservation = {"order": request["order"], "sku": sku, "qty": qty}
            reservations[request["order"]] = reservation
        self.answer(200, reservation)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
