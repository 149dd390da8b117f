#!/usr/bin/env python3
"""h2probe.py — an HTTP/2 client (PyPI `h2` 4.x) that sends several requests as concurrent streams
on ONE connection and prints, as one JSON object, what became of each stream and of the connection.
The integration tests run it with the project's Python (.build/venv, Scripts/test installs h2).

  h2probe.py --target HOST:PORT [--tls [--cafile CA] [--server-name NAME]] [--repeat N]
             [--window BYTES] [--body-size BYTES | --body-file PATH] [--header NAME:VALUE ...]
             [--timeout SECONDS]
             METHOD:PATH [METHOD:PATH ...]

Without --tls the connection is h2c with prior knowledge (the client preface straight away); with
--tls it is TLS with ALPN h2 (certificate checked against CA when --cafile is given, else not
checked). Every METHOD:PATH (e.g. GET:/a POST:/c) is one stream, the list sent --repeat times; all
are opened at once, up to the server's SETTINGS_MAX_CONCURRENT_STREAMS (the rest as streams end).
A request with a body (POST, PUT, PATCH) carries --body-size seeded bytes (default 1024), or the
bytes of --body-file (e.g. a gRPC length-prefixed message, with --header content-type:application/grpc
--header te:trailers), sent within the server's flow-control windows. --window sets SETTINGS_INITIAL_WINDOW_SIZE (each stream's
receive window; the connection window stays at the protocol's 65,535); received data is
acknowledged (WINDOW_UPDATE) as it is read.

Reads until every stream has ended or been reset, or the connection is closed, or --timeout
(default 10 s) passes. A GOAWAY is recorded; the streams it lets finish (id <= last_stream_id) are
still read to their end, the ones it refuses are not, and queued requests are not sent.

Output (stdout, one line):
  {"streams": [{"stream_id": 1, "method": "GET", "path": "/a", "status": 200, "headers": {...},
                "body_bytes": 1, "body_sha256": "...", "trailers": {...} | null,
                "informational": [{":status": "103", ...}, ...],
                "ended": true, "reset_error_code": null | int}, ...],
   "goaway": {"error_code": int, "last_stream_id": int} | null,
   "connection_closed": bool, "timed_out": bool, "elapsed_seconds": float}
Streams are in request order; one never sent has "stream_id": null. Header names are lower case,
repeated ones joined with ", ". Exit 0 once connected (the JSON tells the rest), 2 when the
connection cannot be made.
"""

import argparse
import hashlib
import json
import random
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

BODY_METHODS = {"POST", "PUT", "PATCH"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", required=True, help="HOST:PORT")
    parser.add_argument("--tls", action="store_true", help="TLS with ALPN h2 instead of h2c")
    parser.add_argument("--cafile", help="verify the server certificate against this CA")
    parser.add_argument("--server-name", help="SNI and :authority host (default: the target host)")
    parser.add_argument("--repeat", type=int, default=1, help="send the request list N times")
    parser.add_argument("--window", type=int, help="SETTINGS_INITIAL_WINDOW_SIZE to announce")
    parser.add_argument("--body-size", type=int, default=1024, help="body bytes of POST/PUT/PATCH")
    parser.add_argument("--body-file", help="send this file's bytes as the body of POST/PUT/PATCH")
    parser.add_argument("--header", action="append", default=[], help="NAME:VALUE added to every request")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for the whole exchange")
    parser.add_argument("requests", nargs="+", metavar="METHOD:PATH")
    return parser.parse_args()


class Connection(h2.connection.H2Connection):
    """h2 closes its state machine on GOAWAY and then rejects the frames of the streams the GOAWAY
    lets finish (RFC 9113 §6.8); this one stays open for them. The probe opens no stream after it."""

    def _receive_goaway_frame(self, frame):
        frames, events = super()._receive_goaway_frame(frame)
        self.state_machine.state = h2.connection.ConnectionState.CLIENT_OPEN
        return frames, events


class Stream:
    def __init__(self, method, path):
        self.method, self.path = method, path
        self.stream_id = None
        self.status = None
        self.headers = {}
        self.trailers = None
        self.informational = []  # the 1xx heads before the answer, in order
        self.body = hashlib.sha256()
        self.body_bytes = 0
        self.ended = False
        self.reset_error_code = None
        self.pending = b""  # request body bytes not sent yet

    @property
    def done(self):
        return self.ended or self.reset_error_code is not None

    def report(self):
        return {
            "stream_id": self.stream_id, "method": self.method, "path": self.path, "status": self.status,
            "headers": self.headers, "body_bytes": self.body_bytes, "body_sha256": self.body.hexdigest(),
            "trailers": self.trailers, "informational": self.informational, "ended": self.ended,
            "reset_error_code": self.reset_error_code,
        }


def header_map(pairs):
    out = {}
    for name, value in pairs:
        name, value = name.decode("latin-1").lower(), value.decode("latin-1")
        out[name] = out[name] + ", " + value if name in out else value
    return out


def main():
    args = parse_args()
    host, _, port = args.target.rpartition(":")
    host = host.strip("[]")
    authority = f"{args.server_name or host}:{port}"
    specs = []
    for text in args.requests:
        method, sep, path = text.partition(":")
        if not sep or not path.startswith("/"):
            sys.exit(f"h2probe: bad request {text!r} (want METHOD:/path)")
        specs.append((method.upper(), path))
    streams = [Stream(m, p) for _ in range(args.repeat) for m, p in specs]
    extra = [tuple(h.split(":", 1)) for h in args.header]
    seed = random.Random(13)
    body_file = open(args.body_file, "rb").read() if args.body_file else None

    started = time.monotonic()
    deadline = started + args.timeout
    try:
        sock = socket.create_connection((host, int(port)), timeout=args.timeout)
        if args.tls:
            context = ssl.create_default_context(cafile=args.cafile) if args.cafile else ssl._create_unverified_context()
            context.set_alpn_protocols(["h2"])
            sock = context.wrap_socket(sock, server_hostname=args.server_name or host)
            if sock.selected_alpn_protocol() != "h2":
                sys.exit(f"h2probe: ALPN chose {sock.selected_alpn_protocol()!r}, not h2")
    except OSError as error:
        print(f"h2probe: cannot connect to {args.target}: {error}", file=sys.stderr)
        sys.exit(2)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    conn = Connection(config=h2.config.H2Configuration(client_side=True, header_encoding=None))
    conn.initiate_connection()
    if args.window is not None:
        conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: args.window})
    by_id = {}
    queue = list(streams)
    goaway = None
    closed = False
    got_settings = False
    timed_out = False

    def start_streams():
        limit = conn.remote_settings.max_concurrent_streams
        while queue and goaway is None and conn.open_outbound_streams < limit:
            stream = queue.pop(0)
            stream.stream_id = conn.get_next_available_stream_id()
            by_id[stream.stream_id] = stream
            has_body = stream.method in BODY_METHODS
            headers = [(":method", stream.method), (":scheme", "https" if args.tls else "http"),
                       (":authority", authority), (":path", stream.path)] + extra
            if has_body:
                stream.pending = body_file if body_file is not None else seed.randbytes(args.body_size)
                headers.append(("content-length", str(len(stream.pending))))
            conn.send_headers(stream.stream_id, headers, end_stream=not has_body)
            if has_body and not stream.pending:
                conn.end_stream(stream.stream_id)

    def send_bodies():
        for stream in by_id.values():
            while stream.pending and not stream.done:
                try:
                    room = min(conn.local_flow_control_window(stream.stream_id), conn.max_outbound_frame_size)
                except h2.exceptions.StreamClosedError:
                    stream.pending = b""
                    break
                if room <= 0:
                    break
                piece, stream.pending = stream.pending[:room], stream.pending[room:]
                conn.send_data(stream.stream_id, piece, end_stream=not stream.pending)

    def flush():
        data = conn.data_to_send()
        if data:
            sock.sendall(data)

    flush()
    while not closed:
        if got_settings:
            start_streams()
            send_bodies()
        try:
            flush()
        except OSError:
            closed = True
            break
        if got_settings and not queue and all(s.done for s in by_id.values()):
            break
        if goaway is not None and all(s.done for s in by_id.values() if s.stream_id <= goaway["last_stream_id"]):
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            timed_out = True
            break
        except OSError:
            closed = True
            break
        if not data:
            closed = True
            break
        try:
            events = conn.receive_data(data)
        except h2.exceptions.ProtocolError as error:
            print(f"h2probe: protocol error: {error}", file=sys.stderr)
            closed = True
            break
        for event in events:
            stream = by_id.get(getattr(event, "stream_id", None))
            if isinstance(event, h2.events.RemoteSettingsChanged):
                got_settings = True
            elif isinstance(event, h2.events.InformationalResponseReceived) and stream:
                stream.informational.append(header_map(event.headers))
            elif isinstance(event, h2.events.ResponseReceived) and stream:
                stream.headers = header_map(event.headers)
                stream.status = int(stream.headers.pop(":status", "0"))
            elif isinstance(event, h2.events.DataReceived):
                if stream:
                    stream.body.update(event.data)
                    stream.body_bytes += len(event.data)
                if event.flow_controlled_length:
                    try:
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    except h2.exceptions.StreamClosedError:
                        pass
            elif isinstance(event, h2.events.TrailersReceived) and stream:
                stream.trailers = header_map(event.headers)
            elif isinstance(event, h2.events.StreamEnded) and stream:
                stream.ended = True
            elif isinstance(event, h2.events.StreamReset) and stream:
                stream.reset_error_code = int(event.error_code)
            elif isinstance(event, h2.events.ConnectionTerminated):
                goaway = {"error_code": int(event.error_code), "last_stream_id": event.last_stream_id or 0}
    try:
        sock.close()
    except OSError:
        pass
    print(json.dumps({
        "streams": [s.report() for s in streams], "goaway": goaway, "connection_closed": closed,
        "timed_out": timed_out, "elapsed_seconds": round(time.monotonic() - started, 3),
    }))


if __name__ == "__main__":
    main()
