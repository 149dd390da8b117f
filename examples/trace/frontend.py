"""Service A, the frontend. GET /products/SKU asks the catalog (service B, GET /items/SKU through
the Faultline route given by --catalog-port) and answers what it said; 502 when the catalog fails.

--mode correct: propagates the W3C trace context. The incoming `traceparent`
(00-TRACEID-PARENTID-FLAGS) goes on to the catalog as a child span: same trace id, a new parent
id (A's own span), same flags.
--mode buggy: calls the catalog without a traceparent; the trace ends at A.
"""

import argparse
import http.client
import json
import os
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
config = None


def child(traceparent):
    """The traceparent of A's call to B: same trace, A's span as the parent; None when the
    incoming header is absent or malformed (then A would start a trace of its own)."""
    match = TRACEPARENT.match(traceparent or "")
    if not match:
        return None
    return "00-%s-%s-%s" % (match.group(1), os.urandom(8).hex(), match.group(3))


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
        if not self.path.startswith("/products/"):
            return self.answer(404, {"error": "not found"})
        sku = self.path[len("/products/"):]
        headers = {}
        if config.mode == "correct":
            traceparent = child(self.headers.get("traceparent"))
            if traceparent:
                headers["traceparent"] = traceparent
        conn = http.client.HTTPConnection("127.0.0.1", config.catalog_port, timeout=5)
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
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--catalog-port", type=int, required=True)
    parser.add_argument("--mode", choices=["buggy", "correct"], required=True)
    config = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", config.port), Handler).serve_forever()
