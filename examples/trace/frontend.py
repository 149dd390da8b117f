"""Service A, the frontend. GET /products/SKU asks the catalog (service B, GET /items/SKU through
the Faultline route given by --catalog-port) and answers what it said; 502 when the catalog fails.

--mode correct: propagates the W3C trace context. The incoming `traceparent`
(00-TRACEID-PARENTID-FLAGS) goes on to the catalog as a child span: same trace id, a new parent
id (A's own span), same flags.
--mode buggy: calls the catalog without a traceparent; the trace ends at A.
"""

import http.client
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def child(traceparent):
    """The traceparent of A's call to B: same trace, A's span as the parent; None when the
    incoming header is absent or malformed (then A would start a trace of its own)."""
    match = TRACEPARENT.match(traceparent or "")
    if not match:
        return None
    return "00-%s-%s-%s" % (match.group(1), os.urandom(8).hex(), match.group(3))


class Handler(JSONHandler):
    arguments = {
        "--catalog-port": dict(type=int, required=True),
        "--mode": dict(choices=["buggy", "correct"], required=True),
    }

    def do_GET(self):
        if not self.path.startswith("/products/"):
            return self.answer(404, {"error": "not found"})
        sku = self.path[len("/products/"):]
        headers = {}
        if self.args.mode == "correct":
            traceparent = child(self.headers.get("traceparent"))
            if traceparent:
                headers["traceparent"] = traceparent
        conn = http.client.HTTPConnection("127.0.0.1", self.args.catalog_port, timeout=5)
        try:
            conn.request("GET", "/items/" + sku, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException) as error:
            return self.answer(502, {"sku": sku, "error": "catalog: %s" % type(error).__name__})
        finally:
            conn.close()
        if response.status != 200:
            return self.answer(502, {"sku": sku, "error": "catalog answered %d" % response.status})
        self.answer(200, {"sku": sku, "item": json.loads(text)})


if __name__ == "__main__":
    serve(Handler)
