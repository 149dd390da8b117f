#!/usr/bin/env python3
"""Writes the seed corpora in Fuzz/Corpus/<target>/ (checked in; run again after changing this file).

Seeds are small valid and near-valid inputs from the config examples, the schema test cases and
the shapes the unit tests use; file names are the SHA-1 of the content, as libFuzzer names its own.

    python3 Fuzz/make-corpus.py            every target
    python3 Fuzz/make-corpus.py tls ...    only the named targets

The `tls` seeds are real handshake messages made here (Python's ssl module, which is the same
OpenSSL, over memory BIOs), so they carry fresh randoms: rewriting them changes their names, not
what they cover. Write only the targets you changed.
"""
import hashlib, json, os, re, shutil, ssl, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fuzz", "Corpus")


def write(target, items):
    directory = os.path.join(OUT, target)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for data in items:
        with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
    print(f"{target}: {len(set(items))} seeds", file=sys.stderr)


def config_seeds():
    items = []
    for sub in ["Config/examples", "Config/scenarios"]:
        for name in sorted(os.listdir(os.path.join(ROOT, sub))):
            if name.endswith(".json"):
                items.append(open(os.path.join(ROOT, sub, name), "rb").read())
    items.append(open(os.path.join(ROOT, "Config/demo.json"), "rb").read())
    # Every fourth invalid case of the schema tests (one of each kind of error, roughly).
    with open(os.path.join(ROOT, "Tests/SchemaCases/invalid-configs.jsonl")) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    items += [json.dumps(case["config"]).encode() for case in cases[::4]]
    # Finding (docs/HARDENING.md): a "$schema" that is not a string.
    items += [b'{"$schema": 3, "version": 1}']
    items += [b'{"version": 1, "version": 1}', b'{"version": 1,}', b'[1, 2', b'"\\ud800"', b'{"version": 1e400}']
    return items


def http1_seeds():
    REQ, RESP, FIN, NOHOST, SMALL = 0, 1, 2, 4, 64
    def methods(i): return i << 3
    requests = [
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"\r\nGET /x?y=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n",
        b"PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
        b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET / HTTP/1.1\nHost: a\n\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n",
    ]
    responses = [
        (0, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        (0, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
        (0, b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"),
        (1, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
        (2, b"HTTP/1.1 200 Connection established\r\n\r\ntunnelled bytes"),
        (0, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00"),
        (0, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        (0, b"HTTP/1.0 200 OK\r\n\r\nbody until close"),
        (3, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nHTTP/1.1 200\r\nContent-Length: 1\r\n\r\nb"),
        (0, b"HTTP/1.1 999 Nope\r\n\r\n"),
        (0, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
        (0, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n"),
    ]
    items = []
    for body in requests:
        items.append(bytes([REQ]) + body)
        items.append(bytes([REQ | FIN | SMALL]) + body)
    items.append(bytes([REQ | NOHOST]) + b"GET / HTTP/1.1\r\n\r\n")
    # Findings (docs/HARDENING.md): a bare CR / LF past the (small) head limit.
    pad = b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 70
    items += [bytes([REQ | SMALL]) + pad + b"\r\r\n\r\n", bytes([REQ | SMALL]) + pad + b"\n\r\n"]
    for m, body in responses:
        items.append(bytes([RESP | methods(m)]) + body)
        items.append(bytes([RESP | FIN | methods(m) | SMALL]) + body)
    return items


def control_seeds():
    def req(method, target, body=None, headers=""):
        head = f"{method} {target} HTTP/1.1\r\nHost: fuzz\r\n{headers}"
        if body is not None:
            data = body.encode()
            return head.encode() + f"Content-Length: {len(data)}\r\n\r\n".encode() + data
        return head.encode() + b"\r\n"
    unix, tcp, metrics = b"\x00", b"\x01", b"\x02"
    fault_bodies = [
        '{"id": "drop", "type": "blackhole", "route": "b"}',
        '{"id": "lag", "type": "stall", "for": "10s"}',
        '{"type": "abort", "route": "h", "status": 503, "match": {"path_prefix": "/pay"}}',
        '{"type": "delay", "route": ["h"], "delay": "1s"}',
        '{"type": "latency", "route": "*", "delay": "5ms", "jitter": "1ms", "direction": "upstream", "probability": 0.5}',
        '{"type": "partition", "groups": [["n1"], ["n2"]]}',
        '{"type": "reset", "after_bytes": 10}',
        '{"type": "slicer", "average_size": 10, "size_variation": 2}',
    ]
    items = []
    for body in fault_bodies:
        items.append(unix + req("POST", "/v1/faults", body) + req("GET", "/v1/faults"))
    items += [
        unix + req("GET", "/v1/status") + req("GET", "/v1/routes") + req("GET", "/v1/routes/a"),
        unix + req("POST", "/v1/routes", '{"name": "c", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}')
             + req("PATCH", "/v1/routes/c", '{"enabled": false}') + req("DELETE", "/v1/routes/c"),
        unix + req("POST", "/v1/routes", '{"name": "x", "listen": "127.0.0.1:1", "upstream": "127.0.0.1:9"}'),
        unix + req("PATCH", "/v1/routes/a", '{"upstream": "localhost:9"}') + req("PATCH", "/v1/routes/b", '{"listen": "127.0.0.1:1"}'),
        unix + req("DELETE", "/v1/faults/slow") + req("DELETE", "/v1/faults") + req("DELETE", "/v1/faults/nope"),
        unix + req("POST", "/v1/partitions", '{"groups": [["n1"], ["n2"]]}') + req("DELETE", "/v1/partitions"),
        unix + req("POST", "/v1/reload") + req("GET", "/v1/journal?after=1"),
        unix + req("PUT", "/v1/schedule", '{"steps": [{"at": "1s", "apply": {"type": "stall", "route": "a"}}, {"at": "2s", "clear": "stall-0"}]}')
             + req("POST", "/v1/schedule/start") + req("POST", "/v1/schedule/pause") + req("DELETE", "/v1/schedule"),
        unix + req("GET", "/v1/requests?route=h") + req("GET", "/v1/report?route=h"),
        unix + req("POST", "/v1/faults", '{"type": "latency"'),
        unix + req("GET", "/ui") + req("GET", "/metrics"),
        metrics + req("GET", "/metrics") + req("GET", "/v1/status"),
        tcp + req("GET", "/version") + req("GET", "/proxies"),
        tcp + req("POST", "/proxies", '{"name": "p", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9", "enabled": true}')
            + req("POST", "/proxies/p/toxics", '{"type": "latency", "stream": "downstream", "toxicity": 1, "attributes": {"latency": 100, "jitter": 10}}')
            + req("GET", "/proxies/p/toxics") + req("DELETE", "/proxies/p/toxics/latency_downstream"),
        tcp + req("POST", "/proxies/p", '{"enabled": false}') + req("POST", "/reset") + req("DELETE", "/proxies/p"),
        tcp + req("POST", "/populate", '[{"name": "q", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}]'),
    ]
    return items


def parser_seeds():
    durations = ["250ms", "2s", "1m30s", "1.5s", "1h0.25s", "7ns", "1500us", "3µs", "0s", "", "-1s", "5", "30s1m", "1.s",
                 "9223372036s", "106751d", "2562047h47m16.854775807s", "0.000000000001s"]
    times = ["2026-11-24T10:00:00Z", "2026-11-24t10:00:00.5+01:00", "2024-02-29T23:59:60z", "2023-02-29T00:00:00Z",
             "1677-09-21T00:12:43.145224192Z", "2262-04-11T23:47:16.854775807Z", "2026-12-02T18:00:00.123456789123-23:59",
             "2026-13-01T00:00:00Z", "2026-11-24T10:00:00"]
    addresses = ["127.0.0.1:8080", "[::1]:443", "localhost:9", "[fe80::1:2]:0", "db.internal:5432", "10.0.0:80",
                 "1.2.3.4", "::ffff:1.2.3.4", "[::ffff:1.2.3.4]:1", "a_b-c:65535", "x:65536", "[1:2:3:4:5:6:7:8]:9"]
    items = [b"\x00" + d.encode() for d in durations]
    items += [b"\x01" + t.encode() for t in times]
    items += [b"\x02" + a.encode() for a in addresses]
    items += [b"\x03" + v.to_bytes(8, "big", signed=True) for v in [0, -1, 1_764_700_000_123_456_789, -(2**63), 2**63 - 1]]
    return items


def tls_seeds():
    """Flags and split bytes (see Fuzz/Sources/FuzzTLS/main.swift), then what the peer sends."""
    SERVER, CLIENT, EOF, BYTEWISE, PIECES16 = 0, 1, 2, 1, 16
    VERIFY, TLS12 = 1 << 2, 2 << 2
    DRAIN_SOME, DRAIN_NONE, SHUTDOWN = 1 << 4, 3 << 4, 64
    # The fuzz target's own certificate and key, from its source (fuzz-only, not a secret).
    source = open(os.path.join(ROOT, "Fuzz/Sources/FuzzTLS/FuzzOnlyCertificate.swift")).read()
    pem = re.findall(r"-----BEGIN [A-Z ]+-----\n.*?-----END [A-Z ]+-----\n", source, re.S)
    with tempfile.TemporaryDirectory() as directory:
        chain = os.path.join(directory, "fuzz-only.pem")
        with open(chain, "w") as f:
            f.write("".join(pem))

        def capture(maximum):
            """A client's first flight and a server's answer to it, through memory BIOs."""
            client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            client_context.check_hostname, client_context.verify_mode = False, ssl.CERT_NONE
            client_context.maximum_version = maximum
            client_context.set_alpn_protocols(["h2", "http/1.1"])
            server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            server_context.load_cert_chain(chain)
            server_context.maximum_version = maximum
            c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
            client = client_context.wrap_bio(c_in, c_out, server_hostname="localhost")
            server = server_context.wrap_bio(s_in, s_out, server_side=True)
            try:
                client.do_handshake()
            except ssl.SSLWantReadError:
                pass
            hello = c_out.read()
            s_in.write(hello)
            try:
                server.do_handshake()
            except ssl.SSLWantReadError:
                pass
            return hello, s_out.read()

        hello13, flight13 = capture(ssl.TLSVersion.TLSv1_3)
        hello12, flight12 = capture(ssl.TLSVersion.TLSv1_2)
    # An SSLv2-format ClientHello (RFC 5246 appendix E.2) offering TLS 1.2: two cipher specs, no
    # session id, a 16-byte challenge.
    specs = bytes([0x00, 0xC0, 0x2F, 0x00, 0x00, 0x2F])
    body = bytes([0x01, 0x03, 0x03, 0x00, len(specs), 0x00, 0x00, 0x00, 0x10]) + specs + bytes(range(16))
    sslv2 = bytes([0x80 | (len(body) >> 8), len(body) & 0xFF]) + body
    http = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    alert = bytes([21, 3, 3, 0, 2, 2, 40])  # fatal handshake_failure
    return [
        bytes([SERVER, 0]) + hello13,                                # a real TLS 1.3 ClientHello, whole
        bytes([SERVER | DRAIN_SOME, PIECES16]) + hello13,            # in pieces, a slow socket
        bytes([SERVER | EOF, BYTEWISE]) + hello13[:len(hello13) // 2],  # truncated, then EOF
        bytes([SERVER | (1 << 2) | DRAIN_NONE, 0]) + hello12,        # TLS 1.2 only, no ALPN context
        bytes([SERVER, 0]) + sslv2,
        bytes([SERVER | EOF, 0]) + http,                             # plaintext HTTP to a TLS port
        bytes([SERVER | SHUTDOWN, 0]) + hello13[:9],                 # a record header and a bit
        # Finding (harness, docs/HARDENING.md): a hello with legacy_version 0.0 is refused with an
        # alert in record version 0.0.
        bytes([SERVER, 0]) + hello13[:9] + b"\0\0" + hello13[11:],
        bytes([CLIENT, 0]) + flight13,                               # a TLS 1.3 server's answer (to another hello)
        bytes([CLIENT | TLS12 | EOF, PIECES16]) + flight12,          # a TLS 1.2 server's flight
        bytes([CLIENT | VERIFY, 0]) + flight12,
        bytes([CLIENT, 0]) + alert,
        bytes([CLIENT | EOF, 0]) + b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    ]


def http2_seeds():
    """Flags and split bytes (see Fuzz/Sources/FuzzHTTP2/main.swift), then the peer's frames:
    hand-made, with HPACK by hand (static-table indexes and literals without Huffman), so that no
    HTTP/2 package is needed. Without the RAW flag the harness puts the side's preface first."""
    SERVER, CLIENT, RAW, SMALL, WITHHOLD = 0, 1, 2, 16, 32
    RESET2, RESET3, RESET_GOAWAY = 1 << 2, 2 << 2, 3 << 2
    SEND1, SEND100 = 1 << 6, 2 << 6
    WHOLE, BYTEWISE, PIECES7 = 0, 1, 7
    END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 1, 1, 4, 8, 0x20

    def frame(kind, flags, stream, payload=b""):
        return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload

    def literal(name, value, index=None):
        """Literal with incremental indexing: an indexed name (static table) or a new one."""
        if index is not None:
            return bytes([0x40 | index, len(value)]) + value
        return bytes([0x40, len(name)]) + name + bytes([len(value)]) + value

    def settings(*pairs, flags=0):
        return frame(4, flags, 0, b"".join(k.to_bytes(2, "big") + v.to_bytes(4, "big") for k, v in pairs))

    def data(stream, payload, flags=0):
        return frame(0, flags, stream, payload)

    def headers(stream, block, flags=END_HEADERS):
        return frame(1, flags, stream, block)

    def rst(stream, code):
        return frame(3, 0, stream, code.to_bytes(4, "big"))

    def goaway(last, code):
        return frame(7, 0, 0, last.to_bytes(4, "big") + code.to_bytes(4, "big"))

    def window(stream, increment):
        return frame(8, 0, stream, increment.to_bytes(4, "big"))

    ping = frame(6, 0, 0, b"fuzzping")
    client_settings = settings((2, 0), (3, 100), (4, 65535))   # ENABLE_PUSH, MAX_CONCURRENT, INITIAL_WINDOW
    # :method GET (2), :scheme http (6), :path / (4), :authority (1) literal; then POST (3).
    get = b"\x82\x86\x84" + literal(None, b"localhost", 1)
    post = b"\x83\x86" + literal(None, b"/upload", 4) + literal(None, b"localhost", 1) + literal(b"content-type", b"application/grpc")
    again = b"\x82\x86\x84\xbf"                                 # :authority from the dynamic table (62)
    trailers = literal(b"grpc-status", b"0")
    hello = client_settings + settings(flags=ACK)
    # The server's side, for the client session: SETTINGS, then answers on stream 1.
    status200 = b"\x88" + literal(b"content-type", b"application/grpc")
    upstream = settings((3, 100), (4, 65535)) + settings(flags=ACK)
    continuation_head = headers(1, get[:3], flags=0) + frame(9, 0, 1, get[3:7]) + frame(9, END_HEADERS, 1, get[7:])
    priority = frame(2, 0, 3, (1).to_bytes(4, "big") + b"\x10")
    padded_head = headers(5, bytes([4]) + (1).to_bytes(4, "big") + b"\x20" + get + b"\0" * 4,
                          flags=END_HEADERS | PADDED | PRIORITY | END_STREAM)
    return [
        bytes([SERVER, WHOLE]) + hello + headers(1, get, END_HEADERS | END_STREAM),
        bytes([SERVER, BYTEWISE]) + hello + headers(1, get, END_HEADERS | END_STREAM),
        bytes([SERVER, PIECES7]) + hello + headers(1, post) + data(1, b"hello ") + window(0, 1000)
        + ping + data(1, b"world", END_STREAM),
        bytes([SERVER | RESET_GOAWAY, WHOLE]) + hello + b"".join(
            headers(s, get if s == 1 else again, END_HEADERS | END_STREAM) for s in range(1, 16, 2)),
        bytes([SERVER | RESET2 | SEND1, PIECES7]) + hello + headers(1, post) + headers(3, get, END_HEADERS | END_STREAM)
        + rst(1, 8) + data(1, b"late"),
        bytes([SERVER, WHOLE]) + hello + continuation_head + priority + padded_head,
        bytes([SERVER | RESET3, WHOLE]) + hello + headers(1, post) + data(1, b"body", 0)
        + headers(1, trailers, END_HEADERS | END_STREAM) + goaway(1, 0),
        bytes([SERVER | SMALL | WITHHOLD, WHOLE]) + hello + headers(1, post) + data(1, b"x" * 120),  # over the window
        bytes([SERVER | SMALL, PIECES7]) + hello + b"".join(headers(s, get) for s in (1, 3, 5)),  # past 2 streams
        bytes([SERVER | SEND100, WHOLE]) + hello + headers(2, get, END_HEADERS | END_STREAM)      # even stream
        + headers(3, get, END_HEADERS | END_STREAM),
        bytes([SERVER, WHOLE]) + settings() * 1100,                                                # SETTINGS flood
        bytes([SERVER, WHOLE]) + settings(*[(3, i) for i in range(40)]),                          # many in one
        bytes([SERVER, WHOLE]) + headers(1, get, END_HEADERS | END_STREAM),                       # no SETTINGS first
        bytes([SERVER | RAW, WHOLE]) + b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",               # not HTTP/2
        bytes([SERVER | RAW, BYTEWISE]) + b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + hello + headers(1, get, END_HEADERS | END_STREAM),
        # Finding (docs/HARDENING.md): a stray byte in the magic, byte by byte; nghttp2 skipped it
        # and parsed the request after the rest of the magic for a caller that fed on.
        bytes([SERVER | RAW, BYTEWISE]) + b"PRI * HTX" + b"TP/2.0\r\n\r\nSM\r\n\r\n" + hello + headers(1, get, END_HEADERS | END_STREAM),
        bytes([CLIENT, WHOLE]) + upstream + headers(1, status200) + data(1, b"pong")
        + headers(1, trailers, END_HEADERS | END_STREAM),
        bytes([CLIENT, PIECES7]) + upstream + headers(1, b"\x08\x03100") + headers(1, b"\x88", END_HEADERS | END_STREAM),
        bytes([CLIENT | WITHHOLD, WHOLE]) + upstream + headers(1, status200) + data(1, b"y" * 70000)[:2000],
        bytes([CLIENT, WHOLE]) + upstream + rst(1, 2) + goaway(0, 0) + ping,
        bytes([CLIENT | RAW, WHOLE]) + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ]


TARGETS = {"config": config_seeds, "http1": http1_seeds, "control": control_seeds, "parsers": parser_seeds, "tls": tls_seeds, "http2": http2_seeds}
for name in sys.argv[1:] or TARGETS:
    if name not in TARGETS:
        sys.exit(f"unknown target {name}; targets: {' '.join(TARGETS)}")
    write(name, TARGETS[name]())
