"""Service B, the catalog. GET /items/SKU answers the item's price, and the traceparent it was
called with (null when none came)."""

import os
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from service import JSONHandler, serve  # noqa: E402


class Handler(JSONHandler):
    def do_GET(self):
        if not self.path.startswith("/items/"):
            return self.answer(404, {"error": "not found"})
        sku = self.path[len("/items/"):]
        self.answer(200, {"sku": sku, "price": 10 + zlib.crc32(sku.encode()) % 90,
                          "traceparent": self.headers.get("traceparent")})


if __name__ == "__main__":
    serve(Handler)
