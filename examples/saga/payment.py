"""The payment service. POST /capture {"order", "amount"} captures the amount for an order;
POST /refund {"order"} gives a captured amount back. GET /state lists every payment and its
status (captured or refunded)."""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402

payments = {}  # order id -> {"order", "amount", "status"}
lock = threading.Lock()


class Handler(JSONHandler):
    def do_GET(self):
        if self.path != "/state":
            return self.answer(404, {"error": "not found"})
        with lock:
            self.answer(200, {"payments": list(payments.values())})

    def do_POST(self):
        request = self.json_body()
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
    serve(Handler)
