#!/usr/bin/env python3
"""h2server.py — an h2c upstream (PyPI h2 4.x, prior knowledge) for the integration tests. Every
request gets, as soon as its head arrives, the 1xx heads of --informational (each with the --hint
fields), and once its END_STREAM arrived, 200 with its path as the body.

  h2server.py [--host 127.0.0.1] [--port 0] [--informational STATUS ...] [--hint NAME:VALUE ...]

Prints one line on stdout, {"port": PORT} (the port it bound), then nothing else; serves each
connection on a thread of its own until killed (SIGTERM or SIGINT stop it).
"""

import argparse
import json
import signal
import socket
import sys
import threading

import h2.config
import h2.connection
import h2.events


def serve(sock, informational, hints):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    paths = {}
    try:
        sock.sendall(conn.data_to_send())
        while True:
            data = sock.recv(65536)
            if not data:
                return
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    paths[event.stream_id] = dict(event.headers).get(":path", "/")
                    for status in informational:
                        conn.send_headers(event.stream_id, [(":status", status)] + hints)
                elif isinstance(event, h2.events.DataReceived):
                    if event.flow_controlled_length:
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    body = paths.pop(event.stream_id, "/").encode()
                    conn.send_headers(event.stream_id, [(":status", "200"), ("content-length", str(len(body)))])
                    conn.send_data(event.stream_id, body, end_stream=True)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    sock.sendall(conn.data_to_send())
                    return
            sock.sendall(conn.data_to_send())
    except OSError:
        pass
    finally:
        sock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--informational", action="append", default=[], help="a 1xx status sent before each answer")
    parser.add_argument("--hint", action="append", default=[], help="NAME:VALUE in every 1xx head")
    args = parser.parse_args()
    for status in args.informational:
        if not (status.isdigit() and len(status) == 3 and status.startswith("1") and status != "101"):
            sys.exit(f"h2server: --informational {status!r} is not a 1xx status other than 101")
    hints = [tuple(h.split(":", 1)) for h in args.hint]

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(64)
    print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
    try:
        while True:
            sock, _ = listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=serve, args=(sock, args.informational, hints), daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
