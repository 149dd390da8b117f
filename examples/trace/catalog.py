"""Service B, the catalog. GET /items/SKU answers the item's price, and the traceparent it was
called with (null when none came)."""

import argparse
import json
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
        if not self.path.startswith("/items/"):
            return self.answer(404, {"error": "not found"})
        sku = self.path[len("/items/"):]
        self.answer(200, {"sku": sku, "price": 10 + zlib.crc32(sku.encode()) % 90,
                          "traceparent": self.headers.get("traceparent")})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
