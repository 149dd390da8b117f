import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

// Fixture of the TLS tests (the daemon is HTTPDaemon with route objects): certificates made by the openssl CLI, route objects with `tls` and
// `upstream_tls` routes, and Python's ssl module as the independent client and server.

/// A CA, a server certificate for `localhost` and 127.0.0.1 signed by it, and an unrelated CA,
/// written to a temporary directory by `openssl`.
final class TestCertificates {
    let directory: String
    var caPath: String { directory + "/ca.pem" }
    var certificatePath: String { directory + "/server.pem" }
    var keyPath: String { directory + "/server.key" }
    var otherCAPath: String { directory + "/other-ca.pem" }

    init() throws {
        var template = Array((NSTemporaryDirectory() + "fl-tls-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(["req", "-x509"] + ec + ["-keyout", directory + "/ca.key", "-out", caPath, "-days", "2", "-subj", "/CN=Faultline Test CA"])
        try Self.openssl(["req", "-x509"] + ec + ["-keyout", directory + "/other-ca.key", "-out", otherCAPath, "-days", "2", "-subj", "/CN=Someone Else CA"])
        try Self.openssl(["req"] + ec + ["-keyout", keyPath, "-out", directory + "/server.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n".write(
            toFile: directory + "/ext.cnf", atomically: true, encoding: .utf8)
        try Self.openssl([
            "x509", "-req", "-in", directory + "/server.csr", "-CA", caPath, "-CAkey", directory + "/ca.key",
            "-CAcreateserial", "-out", certificatePath, "-days", "2", "-extfile", directory + "/ext.cnf",
        ])
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func openssl(_ arguments: [String]) throws {
        let (status, output) = try runProcess(["/usr/bin/openssl"] + arguments, timeout: .seconds(30))
        guard status == 0 else { throw DaemonError("openssl \(arguments.joined(separator: " ")) failed: \(output)") }
    }
}

/// A route object (JSON text).
func tlsRoute(
    _ name: String, upstream: Endpoint, protocolKind: String = "tcp", tls: String? = nil, upstreamTLS: String? = nil
) -> String {
    var members = [#""name":"\#(name)""#, #""listen":"127.0.0.1:0""#, #""upstream":"\#(upstream)""#, #""protocol":"\#(protocolKind)""#]
    if let tls { members.append(#""tls":\#(tls)"#) }
    if let upstreamTLS { members.append(#""upstream_tls":\#(upstreamTLS)"#) }
    return "{" + members.joined(separator: ",") + "}"
}

/// A Python program running in the background (a TLS server): the first line it prints is
/// its port. Ended by pid when the object goes.
final class PythonServer {
    let process: Process
    let port: UInt16
    private let scriptPath: String

    init(_ script: String, _ arguments: [String]) throws {
        scriptPath = NSTemporaryDirectory() + "fl-tls-server-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).py"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [scriptPath] + arguments
        let port = try runReadingPort(process, what: "python server")
        self.port = port
    }

    var endpoint: Endpoint { Endpoint(address: .v4(127, 0, 0, 1), port: port) }

    deinit {
        if process.isRunning {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: scriptPath)
    }
}

/// A TLS echo server on Python's ssl module: `CERT KEY`; echoes each connection until the peer
/// closes, then sends close_notify.
let pythonTLSEchoServer = #"""
import socket, ssl, sys, threading
cert, key = sys.argv[1], sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(256)
print(srv.getsockname()[1], flush=True)

def serve(raw):
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        return
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
        conn.unwrap()
    except (ssl.SSLError, OSError):
        pass
    finally:
        conn.close()

while True:
    raw, _ = srv.accept()
    threading.Thread(target=serve, args=(raw,), daemon=True).start()
"""#

/// Many TLS connections at once from one thread (nonblocking ssl sockets under a selector):
/// `HOST PORT CA CONNECTIONS MAXSIZE SEED [SERVERNAME]`. Each sends a random payload (sizes
/// log-uniform up to MAXSIZE) and reads its echo back; prints one JSON line with the results.
let pythonTLSEchoClients = #"""
import hashlib, json, math, random, selectors, socket, ssl, sys, time
host, port, ca, n, maxsize, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
name = sys.argv[7] if len(sys.argv) > 7 else "localhost"
ctx = ssl.create_default_context(cafile=ca)
rng = random.Random(seed)
sel = selectors.DefaultSelector()
conns = []
for i in range(n):
    size = max(1, int(math.exp(rng.uniform(0, math.log(maxsize)))))
    payload = rng.randbytes(size)
    raw = socket.create_connection((host, port))
    raw.setblocking(False)
    s = ctx.wrap_socket(raw, server_hostname=name, do_handshake_on_connect=False)
    c = {"i": i, "s": s, "payload": payload, "sent": 0, "got": bytearray(), "hs": False, "done": False, "error": None}
    conns.append(c)
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)

def step(c):
    s = c["s"]
    try:
        if not c["hs"]:
            s.do_handshake()
            c["hs"] = True
        while c["sent"] < len(c["payload"]):
            c["sent"] += s.send(c["payload"][c["sent"]:c["sent"] + 65536])
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
        pass
    if not c["hs"]:
        return
    try:
        while len(c["got"]) < len(c["payload"]):
            data = s.recv(65536)
            if not data:
                c["error"] = "closed after %d of %d bytes" % (len(c["got"]), len(c["payload"]))
                break
            c["got"] += data
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
        pass
    if len(c["got"]) >= len(c["payload"]) or c["error"]:
        c["done"] = True

deadline = time.time() + float(120)
open_count = n
while open_count and time.time() < deadline:
    for key, _ in sel.select(timeout=1):
        c = key.data
        if c["done"]:
            continue
        try:
            step(c)
        except (ssl.SSLError, OSError) as e:
            c["error"] = "%s: %s" % (type(e).__name__, e)
            c["done"] = True
        if c["done"]:
            sel.unregister(c["s"])
            c["s"].close()
            open_count -= 1
        elif c["sent"] >= len(c["payload"]) and c["hs"]:
            sel.modify(c["s"], selectors.EVENT_READ, c)

failures = []
total = 0
for c in conns:
    total += len(c["payload"])
    if c["error"] or not c["done"]:
        failures.append("%d: %s" % (c["i"], c["error"] or "unfinished (%d of %d back)" % (len(c["got"]), len(c["payload"]))))
    elif hashlib.sha256(c["got"]).digest() != hashlib.sha256(c["payload"]).digest():
        failures.append("%d: echo differs" % c["i"])
print(json.dumps({"connections": n, "bytes": total, "max": max(len(c["payload"]) for c in conns), "failures": failures[:10], "failed": len(failures)}))
"""#

/// `openssl s_client` against `endpoint`, sending one line and then EOF (so a TLS 1.3 client
/// reads on after the handshake and sees the session tickets): its output. Arguments must not
/// hold spaces (they go through sh).
func sClient(_ endpoint: Endpoint, _ extra: [String]) throws -> (status: Int32, output: String) {
    try runProcess(["/bin/sh", "-c", "(printf 'ping\\n'; sleep 0.2) | /usr/bin/openssl s_client -connect \(endpoint) " + extra.joined(separator: " ") + " 2>&1"], timeout: .seconds(20))
}
