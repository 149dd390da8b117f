"""The inventory service. POST /reserve {"order", "sku", "qty"} reserves stock for an order.
GET /state lists the reservations and what is left in stock."""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402

stock = {"sku-lamp": 100}
reservations = {}  # order id -> {"order", "sku", "qty"}
lock = threading.Lock()


class Handler(JSONHandler):
    def do_GET(self):
        if self.path != "/state":
            return self.answer(404, {"error": "not found"})
        with lock:
            self.answer(200, {"reservations": list(reservations.values()), "stock": dict(stock)})

    def do_POST(self):
        request = self.json_body()
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
    serve(Handler)
