"""A payment service with a ledger. POST /charge {"customer", "amount"} records a charge and
answers with it; a request carrying Idempotency-Key is charged once per key, and a retry gets the
first answer again. GET /ledger lists the charges."""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402

ledger = []
answers = {}  # idempotency key -> the answer given the first time
lock = threading.Lock()


class Handler(JSONHandler):
    def do_GET(self):
        if self.path == "/ledger":
            with lock:
                self.answer(200, {"charges": list(ledger)})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        request = self.json_body()
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
    serve(Handler)
