"""What every example service shares: an HTTP/1.1 handler that speaks JSON, and a main that
parses --port (plus whatever the service declares) and serves on 127.0.0.1. Standard library
only; everything a scenario is about (a ledger, a breaker, a worker pool) stays in the service.

    class Handler(JSONHandler):
        arguments = {"--mode": dict(choices=["buggy", "correct"], required=True)}

        def do_GET(self):
            self.answer(200, {"mode": self.args.mode})

    if __name__ == "__main__":
        serve(Handler)
"""

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JSONHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, no access log, JSON in and out."""

    protocol_version = "HTTP/1.1"
    arguments = {}  # extra command-line options: {"--name": argparse keyword arguments}
    args = None     # the parsed command line (args.port and the service's own), set by serve()

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=None):
        """Answers `status` with `body` as JSON (Content-Type, Content-Length), then `headers`."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def json_body(self):
        """The request's body (Content-Length bytes) parsed as JSON; {} when there is none."""
        length = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(length) or b"{}")


def serve(handler_class, argv=None, server_class=ThreadingHTTPServer):
    """Parses --port and `handler_class.arguments` from argv (default: sys.argv), stores the
    result in `handler_class.args`, and serves on 127.0.0.1:port for ever."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    for flag, options in handler_class.arguments.items():
        parser.add_argument(flag, **options)
    handler_class.args = parser.parse_args(argv)
    server_class(("127.0.0.1", handler_class.args.port), handler_class).serve_forever()
