#!/usr/bin/env python3
"""HTTP helpers for Scripts/bench (the http7, idle-http and tls tests). Standard library only.

  bench-http.py check --target H:P --expect PATH=FILE [--expect PATH=FILE ...] [--cafile CA]
      One keep-alive connection; GET every PATH in turn; each answer must be 200 with exactly
      the bytes of FILE as its body. Exit 0 or print why not and exit 1. With --cafile the
      connection is HTTPS, and the certificate must verify against CA for the target's host.

  bench-http.py tls-echo --target H:P --cafile CA [--size 64]
      One TLS connection to an echo service behind a TLS listener: the certificate must verify
      against CA, SIZE random bytes sent must come back unchanged; then close_notify. Exit 0 or 1.

  bench-http.py idle --target H:P --pid PID [--conns 9900] [--hold-seconds 2] [--settle-seconds 1]
      RSS per idle connection on an HTTP listener: reads VmRSS of PID, opens CONNS connections and
      sends nothing on them, waits until PID holds CONNS more file descriptors (so the proxy has
      accepted every one), waits SETTLE seconds, reads VmRSS again, checks that no connection was
      closed by the proxy, holds them for the rest of HOLD seconds, and prints one JSON line:
      rss_per_conn_bytes = (after - before) / CONNS.
"""

import argparse
import http.client
import json
import os
import resource
import socket
import ssl
import sys
import time


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def tls_context(cafile):
    context = ssl.create_default_context(cafile=cafile)
    context.check_hostname = True
    return context


def check(args):
    host, port = endpoint(args.target)
    if args.cafile:
        conn = http.client.HTTPSConnection(host, port, timeout=5, context=tls_context(args.cafile))
    else:
        conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        for spec in args.expect:
            path, _, file = spec.partition("=")
            want = open(file, "rb").read()
            conn.request("GET", path, headers={"Host": "bench"})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                sys.exit(f"GET {path}: status {resp.status} (body {body[:120]!r})")
            if body != want:
                sys.exit(f"GET {path}: body of {len(body)} bytes differs from the {len(want)} bytes of {file}")
            if resp.will_close:
                sys.exit(f"GET {path}: the connection was not kept alive")
    except (OSError, http.client.HTTPException) as error:
        sys.exit(f"{args.target}: {type(error).__name__}: {error}")
    finally:
        conn.close()


def tls_echo(args):
    host, port = endpoint(args.target)
    payload = os.urandom(args.size)
    try:
        with socket.create_connection((host, port), timeout=5) as raw:
            with tls_context(args.cafile).wrap_socket(raw, server_hostname=host) as s:
                s.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    chunk = s.recv(len(payload) - len(got))
                    if not chunk:
                        sys.exit(f"{args.target}: the connection ended after {len(got)} of {len(payload)} echoed bytes")
                    got += chunk
                if got != payload:
                    sys.exit(f"{args.target}: the echo differs from the {len(payload)} bytes sent")
                try:
                    s.unwrap()  # close_notify, so the proxy sees a clean end
                except (OSError, ssl.SSLError):
                    pass
    except (OSError, ssl.SSLError) as error:
        sys.exit(f"{args.target}: {type(error).__name__}: {error}")


def resident_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    sys.exit(f"/proc/{pid}/status: no VmRSS line")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def idle(args):
    host, port = endpoint(args.target)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.conns + 64 > hard:
        sys.exit(f"{args.conns} connections need more than the file limit {hard}")
    before = resident_bytes(args.pid)
    fds_before = open_fds(args.pid)
    start = time.monotonic()
    socks = []
    for index in range(args.conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect((host, port))
        except OSError as error:
            sys.exit(f"connection {index + 1} of {args.conns}: {error}")
        s.setblocking(False)  # with a timeout set, recv() would wait for data first
        socks.append(s)
    # connect() returns once the kernel has queued the connection; wait for the proxy to accept.
    deadline = time.monotonic() + 10 + args.conns / 1000
    while open_fds(args.pid) < fds_before + args.conns:
        if time.monotonic() > deadline:
            sys.exit(f"the proxy accepted only {open_fds(args.pid) - fds_before} of {args.conns} connections")
        time.sleep(0.05)
    opened = time.monotonic() - start
    settle = min(args.settle_seconds, args.hold_seconds)
    time.sleep(settle)
    after = resident_bytes(args.pid)
    closed = 0
    for s in socks:
        try:
            if s.recv(1, socket.MSG_PEEK) == b"":
                closed += 1
            else:
                sys.exit("the proxy sent bytes on a connection that sent no request")
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    if closed:
        sys.exit(f"the proxy closed {closed} of {args.conns} idle connections within {opened + settle:.1f} s")
    time.sleep(max(0.0, args.hold_seconds - settle))
    for s in socks:
        s.close()
    print(json.dumps({
        "test": "idle-http", "target": args.target, "pid": args.pid, "conns": args.conns,
        "open_seconds": round(opened, 3), "rss_before_bytes": before, "rss_after_bytes": after,
        "rss_per_conn_bytes": (after - before) / args.conns,
    }))


def main():
    parser = argparse.ArgumentParser(prog="bench-http.py")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check")
    p.add_argument("--target", required=True)
    p.add_argument("--expect", action="append", required=True, metavar="PATH=FILE")
    p.add_argument("--cafile", help="HTTPS, verifying the certificate against this CA file")
    p = sub.add_parser("tls-echo")
    p.add_argument("--target", required=True)
    p.add_argument("--cafile", required=True)
    p.add_argument("--size", type=int, default=64)
    p = sub.add_parser("idle")
    p.add_argument("--target", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--conns", type=int, default=9900)
    p.add_argument("--hold-seconds", type=float, default=2)
    p.add_argument("--settle-seconds", type=float, default=1)
    args = parser.parse_args()
    {"check": check, "idle": idle, "tls-echo": tls_echo}[args.command](args)


if __name__ == "__main__":
    main()
