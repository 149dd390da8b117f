import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import Glibc
import Synchronization
import XCTest

/// TLS termination and origination through the real daemon (SPEC §3.6, docs/TLS.md), against
/// peers that are not ours: openssl s_client, curl, Python's ssl module.
final class TLSTests: DaemonTestCase {
    private var certificates: TestCertificates!

    override func setUpWithError() throws {
        try super.setUpWithError()
        certificates = try TestCertificates()
    }

    override func tearDown() {
        certificates = nil
        super.tearDown()
    }

    private var serverTLS: String {
        #"{"cert":"\#(certificates.certificatePath)","key":"\#(certificates.keyPath)","alpn":["h2","http/1.1"]}"#
    }

    // MARK: Termination

    /// s_client verifies the chain against the test CA, sends SNI, and is offered h2 (a tcp route
    /// passes any protocol through); without ALPN it gets none.
    func testSClientVerifiesAndSeesALPNOnATCPRoute() throws {
        let echo = try EchoServer()
        let daemon = try HTTPDaemon(routeObjects: [tlsRoute("secure", upstream: echo.endpoint, tls: serverTLS)])
        let endpoint = try daemon.route("secure")
        let h2 = try sClient(endpoint, ["-CAfile", certificates.caPath, "-servername", "localhost", "-alpn", "h2,http/1.1", "-verify_return_error"])
        XCTAssertEqual(h2.status, 0, h2.output)
        XCTAssertTrue(h2.output.contains("ALPN protocol: h2"), h2.output)
        XCTAssertTrue(h2.output.contains("Verify return code: 0 (ok)"), h2.output)
        let http11 = try sClient(endpoint, ["-CAfile", certificates.caPath, "-alpn", "http/1.1"])
        XCTAssertTrue(http11.output.contains("ALPN protocol: http/1.1"), http11.output)
        let none = try sClient(endpoint, ["-CAfile", certificates.caPath, "-tls1_2"])
        XCTAssertTrue(none.output.contains("No ALPN negotiated"), none.output)
        XCTAssertTrue(none.output.contains("Protocol  : TLSv1.2") || none.output.contains("TLSv1.2"), none.output)
        // Resumption: a session saved by one s_client is resumed by the next (tickets, 1.2 and 1.3).
        for version in ["-tls1_2", "-tls1_3"] {
            let saved = certificates.directory + "/session\(version)"
            let first = try sClient(endpoint, ["-CAfile", certificates.caPath, version, "-sess_out", saved])
            XCTAssertTrue(first.output.contains("New, TLSv1."), first.output)
            let second = try sClient(endpoint, ["-CAfile", certificates.caPath, version, "-sess_in", saved])
            XCTAssertTrue(second.output.contains("Reused, TLSv1."), "\(version): \(second.output)")
        }
        // s_time resets each connection right after its Finished: completed handshakes, no failures.
        let timed = try runProcess(["/usr/bin/openssl", "s_time", "-connect", "\(endpoint)", "-new", "-time", "1"], timeout: .seconds(20))
        XCTAssertTrue(timed.output.contains("connections"), timed.output)
        XCTAssertEqual(try daemon.metric("faultline_tls_handshake_failures_total", ["route": "secure"]), nil, "no failure series")
        XCTAssertEqual(try daemon.journal("tls.failed").count, 0)
    }

    /// Issue acceptance: 200 concurrent TLS connections (Python's ssl) with random payloads of up to
    /// 4 MB each, every echo byte-exact through a terminating tcp route; the byte counters count
    /// the plaintext.
    func testTwoHundredConcurrentTLSConnectionsByteExact() throws {
        let echo = try EchoServer(threads: 4)
        let daemon = try HTTPDaemon(routeObjects: [tlsRoute("secure", upstream: echo.endpoint, tls: serverTLS)])
        let endpoint = try daemon.route("secure")
        let (result, seconds) = try timed {
            try runPython(pythonTLSEchoClients, ["127.0.0.1", "\(endpoint.port)", certificates.caPath, "200", "\(4 << 20)", "12"], timeout: .seconds(180))
        }
        XCTAssertEqual(result.status, 0, result.output)
        let report = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        XCTAssertEqual(report?["failed"] as? Int, 0, result.output)
        XCTAssertEqual(report?["connections"] as? Int, 200)
        let total = try XCTUnwrap(report?["bytes"] as? Int)
        XCTAssertGreaterThan(report?["max"] as? Int ?? 0, 1 << 20, "some payloads are megabytes")
        XCTAssertEqual(try daemon.metric("faultline_bytes_total", ["route": "secure", "direction": "upstream"], settlesAt: Double(total), timeout: .seconds(3)), Double(total))
        XCTAssertEqual(try daemon.metric("faultline_bytes_total", ["route": "secure", "direction": "downstream"], settlesAt: Double(total), timeout: .seconds(3)), Double(total))
        print("[tls] 200 connections, \(total) bytes each way, \(String(format: "%.1f", seconds)) s")
    }

    /// Plain text, a half handshake, random bytes and a wrong-version hello at the TLS port: each
    /// is closed and counted with its reason while a long-lived TLS connection keeps relaying.
    func testBadHandshakesTouchNoOtherConnection() throws {
        let echo = try EchoServer()
        let daemon = try HTTPDaemon(
            routeObjects: [tlsRoute("secure", upstream: echo.endpoint, tls: serverTLS)], limits: #""tls_handshake_timeout":"500ms""#)
        let endpoint = try daemon.route("secure")
        // The bystander: 2 MB through TLS, in flight while the bad clients come and go.
        let caPath = certificates.caPath
        let bystander = Threads.spawn(name: "bystander") {
            let result = try? runPython(pythonTLSEchoClients, ["127.0.0.1", "\(endpoint.port)", caPath, "4", "\(2 << 20)", "5"], timeout: .seconds(60))
            bystanderResult.withLock { $0 = result?.output ?? "python failed" }
        }
        let plain = try TestSocket.connect(to: endpoint)
        try plain.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        XCTAssertNotNil(plain.waitForClose(timeout: .seconds(5)), "plain HTTP to the TLS port is closed")
        let garbage = try TestSocket.connect(to: endpoint)
        try garbage.send(randomBytes(4096, seed: 3))
        XCTAssertNotNil(garbage.waitForClose(timeout: .seconds(5)), "random bytes are closed")
        // A record header promising a ClientHello, then nothing: the deadline closes it.
        let half = try TestSocket.connect(to: endpoint)
        try half.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])
        XCTAssertNotNil(half.waitForClose(timeout: .seconds(5)), "a half handshake is closed at the deadline")
        let silent = try TestSocket.connect(to: endpoint)
        XCTAssertNotNil(silent.waitForClose(timeout: .seconds(5)), "a silent client is closed at the deadline")
        // SSLv3 only, which the listener (TLS 1.2+) refuses.
        let old = try sClient(endpoint, ["-tls1_1"])
        XCTAssertNotEqual(old.status, 0, old.output)
        bystander.join()
        let output = bystanderResult.withLock { $0 }
        XCTAssertTrue(output.contains(#""failed": 0"#), output)
        let failures = try daemon.journal("tls.failed")
        let reasons = failures.compactMap { $0["reason"] as? String }
        XCTAssertEqual(try daemon.metric("faultline_tls_handshake_failures_total", ["route": "secure", "side": "client", "reason": "handshake_timeout"]), 2, "\(reasons)")
        XCTAssertGreaterThanOrEqual(reasons.count, 5, "\(reasons)")
        XCTAssertTrue(reasons.contains("not_tls"), "\(reasons)")
        XCTAssertTrue(failures.allSatisfy { $0["route"] as? String == "secure" && $0["side"] as? String == "client" }, "\(failures)")
        var total = 0.0
        for reason in Set(reasons) {
            total += try daemon.metric("faultline_tls_handshake_failures_total", ["route": "secure", "side": "client", "reason": reason]) ?? 0
        }
        XCTAssertEqual(Int(total), reasons.count, "counters and journal agree")
    }

    /// curl with --cacert through an https http route (whose listener offers http/1.1 by default:
    /// the upstream speaks HTTP/1.1 only, and the proxy does not translate): answered by the
    /// upstream; an abort fault on one path answers HTTPS requests from the proxy, inside the TLS
    /// session.
    func testCurlAndAnAbortOnAnHTTPSRoute() throws {
        let upstream = try HTTPUpstream()
        let tls = #"{"cert":"\#(certificates.certificatePath)","key":"\#(certificates.keyPath)"}"#
        let daemon = try HTTPDaemon(routeObjects: [tlsRoute("web", upstream: upstream.endpoint, protocolKind: "http", tls: tls)])
        let port = try daemon.route("web").port
        func curl(_ path: String) throws -> (status: Int32, output: String) {
            try runProcess([
                "/usr/bin/curl", "-sS", "--http1.1", "--cacert", certificates.caPath, "--resolve", "localhost:\(port):127.0.0.1",
                "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result} %{http_version}", "https://localhost:\(port)\(path)",
            ], timeout: .seconds(20))
        }
        let ok = try curl("/hello")
        XCTAssertEqual(ok.output, "200 0 1.1", ok.output)
        _ = try daemon.control.expect(201, "POST", "/v1/faults", json: #"{"type":"abort","route":"web","status":503,"match":{"path":"/pay"}}"#)
        let aborted = try curl("/pay")
        XCTAssertEqual(aborted.output, "503 0 1.1", aborted.output)
        let after = try curl("/hello")
        XCTAssertEqual(after.output, "200 0 1.1", after.output)
        XCTAssertEqual(upstream.count(path: "/pay"), 0, "the aborted request never reached the upstream")
        XCTAssertEqual(upstream.count(path: "/hello"), 2)
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "503"], settlesAt: 1, timeout: .seconds(3)), 1)
        // The API shows the route's TLS settings, never the key.
        let routes = try daemon.control.expect(200, "GET", "/v1/routes").text
        XCTAssertTrue(routes.contains(#""cert":"\#(certificates.certificatePath.replacingOccurrences(of: "/", with: "\\/"))""#) || routes.contains(certificates.certificatePath), routes)
        XCTAssertFalse(routes.contains(certificates.keyPath), routes)
        let table = try FaultctlRun(["--socket", daemon.socketPath, "routes"])
        XCTAssertTrue(table.stdout.contains("in:\(certificates.certificatePath)[http/1.1]"), table.stdout)
        XCTAssertFalse(table.stdout.contains(certificates.keyPath), table.stdout)
    }

    /// Python's ssl module (the client of many test suites): requests through an https route,
    /// with keep-alive, and the request log sees them.
    func testPythonSSLThroughAnHTTPSRoute() throws {
        let upstream = try HTTPUpstream()
        let tls = #"{"cert":"\#(certificates.certificatePath)","key":"\#(certificates.keyPath)"}"#
        let daemon = try HTTPDaemon(routeObjects: [tlsRoute("web", upstream: upstream.endpoint, protocolKind: "http", tls: tls)])
        let port = try daemon.route("web").port
        let script = #"""
        import http.client, ssl, sys
        ctx = ssl.create_default_context(cafile=sys.argv[2])
        conn = http.client.HTTPSConnection("localhost", int(sys.argv[1]), context=ctx)
        codes = []
        for i in range(20):
            conn.request("POST", "/echo", body=b"x" * (i * 1000))
            r = conn.getresponse()
            body = r.read()
            codes.append((r.status, len(body)))
        print(codes == [(200, i * 1000) for i in range(20)], conn.sock.version(), flush=True)
        """#
        let result = try runPython(script, ["\(port)", certificates.caPath])
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "True TLSv1.3", result.output)
        XCTAssertEqual(upstream.count(path: "/echo"), 20)
        XCTAssertEqual(upstream.connectionsAccepted, 1, "one TLS connection, one upstream connection")
    }

    /// Byte faults act on the plaintext: `limit_data` passes exactly N plaintext bytes to the
    /// client, whatever the records around them weighed.
    func testByteFaultsActOnThePlaintext() throws {
        let echo = try EchoServer()
        let daemon = try HTTPDaemon(routeObjects: [tlsRoute("secure", upstream: echo.endpoint, tls: serverTLS)])
        let port = try daemon.route("secure").port
        _ = try daemon.control.expect(201, "POST", "/v1/faults", json: #"{"type":"limit_data","route":"secure","direction":"downstream","bytes":1000}"#)
        let script = #"""
        import socket, ssl, sys
        ctx = ssl.create_default_context(cafile=sys.argv[2])
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="localhost")
        s.sendall(b"y" * 5000)
        got = b""
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                got += data
        except (ssl.SSLError, OSError) as e:
            pass
        print(len(got), flush=True)
        """#
        let result = try runPython(script, ["\(port)", certificates.caPath])
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "1000", result.output)
    }

    /// Half-close under TLS: socat sends its bytes, then close_notify; the upstream gets a FIN,
    /// answers, closes, and the client gets everything and then the proxy's close_notify.
    func testCloseNotifyIsAHalfClose() throws {
        let echo = try EchoServer()
        let daemon = try HTTPDaemon(routeObjects: [tlsRoute("secure", upstream: echo.endpoint, tls: serverTLS)])
        let endpoint = try daemon.route("secure")
        let input = certificates.directory + "/in.bin"
        try Data(randomBytes(1_500_000, seed: 77)).write(to: URL(fileURLWithPath: input))
        let (result, seconds) = try timed {
            try runProcess(["/bin/sh", "-c", "socat -t 10 - OPENSSL:\(endpoint),cafile=\(certificates.caPath),commonname=localhost < \(input) | sha256sum"], timeout: .seconds(30))
        }
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.hasPrefix(SHA256.hex(randomBytes(1_500_000, seed: 77))), result.output)
        XCTAssertLessThan(seconds, 9, "the client saw the end by close_notify, not by its own timeout")
        XCTAssertEqual(try daemon.metric("faultline_bytes_total", ["route": "secure", "direction": "upstream"], settlesAt: 1_500_000, timeout: .seconds(3)), 1_500_000)
    }

    /// Latency on a terminating tcp route queues plaintext (LatencyQueueTests' queue, fed to
    /// the session on the way out): 4 MB with 20 ms each way and close_notify as the half-close
    /// come back byte-exact, and the queues end empty.
    func testLatencyQueueUnderTLSKeepsBytesAndHalfClose() throws {
        let echo = try EchoServer()
        let daemon = try HTTPDaemon(routeObjects: [tlsRoute("secure", upstream: echo.endpoint, tls: serverTLS)])
        let endpoint = try daemon.route("secure")
        _ = try daemon.control.expect(201, "POST", "/v1/faults", json: #"{"type":"latency","route":"secure","delay":"20ms"}"#)
        let input = certificates.directory + "/lag.bin"
        let payload = randomBytes(4_000_000, seed: 78)
        try Data(payload).write(to: URL(fileURLWithPath: input))
        let result = try runProcess(["/bin/sh", "-c", "socat -t 10 - OPENSSL:\(endpoint),cafile=\(certificates.caPath),commonname=localhost < \(input) | sha256sum"], timeout: .seconds(60))
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.hasPrefix(SHA256.hex(payload)), result.output)
        for direction in ["upstream", "downstream"] {
            XCTAssertEqual(try daemon.metric("faultline_bytes_total", ["route": "secure", "direction": direction], settlesAt: 4_000_000, timeout: .seconds(3)), 4_000_000)
            XCTAssertEqual(try daemon.metric("faultline_latency_queued_bytes", ["route": "secure", "direction": direction], settlesAt: 0, timeout: .seconds(3)), 0)
        }
    }

    /// Certificates are read again on SIGHUP: a broken file fails the reload and the old
    /// certificate keeps serving; a new valid one is served from then on.
    func testReloadReadsCertificatesAgain() throws {
        let echo = try EchoServer()
        let certificate = certificates.directory + "/live.pem"
        let key = certificates.directory + "/live.key"
        try FileManager.default.copyItem(atPath: certificates.certificatePath, toPath: certificate)
        try FileManager.default.copyItem(atPath: certificates.keyPath, toPath: key)
        let daemon = try HTTPDaemon(routeObjects: [tlsRoute("secure", upstream: echo.endpoint, tls: #"{"cert":"\#(certificate)","key":"\#(key)"}"#)])
        let endpoint = try daemon.route("secure")
        func verifies(with ca: String) throws -> Bool {
            try sClient(endpoint, ["-CAfile", ca, "-servername", "localhost", "-verify_return_error"]).status == 0
        }
        XCTAssertTrue(try verifies(with: certificates.caPath))

        try "not a certificate\n".write(toFile: certificate, atomically: true, encoding: .utf8)
        let before = daemon.process.logText.count
        daemon.process.signal(SIGHUP)
        XCTAssertNotNil(daemon.process.waitForLog(event: "config.reload_rejected", timeout: .seconds(5)), daemon.process.logText)
        XCTAssertTrue(String(daemon.process.logText.dropFirst(before)).contains("routes[0].tls.cert"), daemon.process.logText)
        XCTAssertTrue(try verifies(with: certificates.caPath), "the old certificate still serves")

        // A certificate from another CA, for the same name.
        let dir = certificates.directory
        try TestCertificates.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir + "/new.key", "-out", dir + "/new.csr", "-subj", "/CN=localhost"])
        try TestCertificates.openssl(["x509", "-req", "-in", dir + "/new.csr", "-CA", certificates.otherCAPath, "-CAkey", dir + "/other-ca.key", "-CAcreateserial", "-out", dir + "/new.pem", "-days", "2", "-extfile", dir + "/ext.cnf"])
        try FileManager.default.removeItem(atPath: certificate)
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: dir + "/new.pem", toPath: certificate)
        try FileManager.default.copyItem(atPath: dir + "/new.key", toPath: key)
        daemon.process.signal(SIGHUP)
        XCTAssertNotNil(daemon.process.waitForLog(event: "config.reloaded", timeout: .seconds(5)), daemon.process.logText)
        XCTAssertTrue(try verifies(with: certificates.otherCAPath), "the new certificate serves")
        XCTAssertFalse(try verifies(with: certificates.caPath))
    }

    // MARK: Origination

    /// A plain client through a route that originates TLS to Python's ssl server: verified
    /// against the test CA (by IP when no sni is set, by name with sni); a wrong CA and a wrong
    /// name fail the handshake, close the client and are counted with their reasons.
    func testOriginationVerifiesTheUpstream() throws {
        let server = try PythonServer(pythonTLSEchoServer, [certificates.certificatePath, certificates.keyPath])
        let daemon = try HTTPDaemon(routeObjects: [
            tlsRoute("by-ip", upstream: server.endpoint, upstreamTLS: #"{"ca":"\#(certificates.caPath)"}"#),
            tlsRoute("by-name", upstream: server.endpoint, upstreamTLS: #"{"ca":"\#(certificates.caPath)","sni":"localhost"}"#),
            tlsRoute("wrong-ca", upstream: server.endpoint, upstreamTLS: #"{"ca":"\#(certificates.otherCAPath)"}"#),
            tlsRoute("wrong-name", upstream: server.endpoint, upstreamTLS: #"{"ca":"\#(certificates.caPath)","sni":"db.example.test"}"#),
            tlsRoute("unverified", upstream: server.endpoint, upstreamTLS: #"{"verify":false,"sni":"db.example.test"}"#),
        ])
        for name in ["by-ip", "by-name", "unverified"] {
            try assertEchoes(try daemon.route(name), bytes: randomBytes(300_000, seed: 9))
        }
        for (name, reason) in [("wrong-ca", "certificate_verify_failed"), ("wrong-name", "hostname_mismatch")] {
            let client = try TestSocket.connect(to: try daemon.route(name))
            try client.send(Array("hello".utf8))
            XCTAssertNotNil(client.waitForClose(timeout: .seconds(5)), "\(name): the client is closed")
            XCTAssertEqual(try daemon.metric("faultline_tls_handshake_failures_total", ["route": name, "side": "upstream", "reason": reason], settlesAt: 1, timeout: .seconds(3)), 1, name)
        }
        let failures = try daemon.journal("tls.failed")
        XCTAssertEqual(failures.map { $0["route"] as? String ?? "" }.sorted(), ["wrong-ca", "wrong-name"])
        XCTAssertTrue(failures.allSatisfy { $0["side"] as? String == "upstream" }, "\(failures)")
    }

    /// Terminate and originate on one route: Python's client → TLS → the proxy → TLS → Python's
    /// server, megabytes byte-exact both ways.
    func testTerminateAndOriginateOnOneRoute() throws {
        let server = try PythonServer(pythonTLSEchoServer, [certificates.certificatePath, certificates.keyPath])
        let daemon = try HTTPDaemon(routeObjects: [
            tlsRoute("both", upstream: server.endpoint, tls: serverTLS, upstreamTLS: #"{"ca":"\#(certificates.caPath)","sni":"localhost"}"#),
        ])
        let port = try daemon.route("both").port
        let result = try runPython(pythonTLSEchoClients, ["127.0.0.1", "\(port)", certificates.caPath, "20", "\(2 << 20)", "4"], timeout: .seconds(120))
        XCTAssertTrue(result.output.contains(#""failed": 0"#), result.output)
    }

    /// An HTTPS upstream that drops an idle keep-alive connection without close_notify (as
    /// Python's close() and many servers on idle timeout do) ends it cleanly: the client of the
    /// http route gets a FIN, not a reset the proxy made up.
    func testAnUpstreamDroppingAnIdleTLSConnectionIsNoReset() throws {
        let script = #"""
        import socket, ssl, sys, threading, time
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        print(srv.getsockname()[1], flush=True)
        def serve(raw):
            conn = ctx.wrap_socket(raw, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            time.sleep(0.3)
            conn.close()  # no close_notify
        while True:
            raw, _ = srv.accept()
            threading.Thread(target=serve, args=(raw,), daemon=True).start()
        """#
        let server = try PythonServer(script, [certificates.certificatePath, certificates.keyPath])
        let daemon = try HTTPDaemon(routeObjects: [
            tlsRoute("api", upstream: server.endpoint, protocolKind: "http", upstreamTLS: #"{"ca":"\#(certificates.caPath)","sni":"localhost"}"#),
        ])
        let client = try HTTPTestConnection(to: try daemon.route("api"))
        let answer = try client.exchange(HTTPTestRequest("GET", "/idle"))
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(client.socket.waitForClose(timeout: .seconds(5)), .eof, "a FIN, not an RST")
    }

    /// A client that sends its request and then close_notify (Python's ssl over memory BIOs,
    /// which tells the two endings apart) reads the answer and then the proxy's close_notify —
    /// not a bare FIN, which would make a close-delimited answer look cut short.
    func testAClientsCloseNotifyIsAnsweredWithOurs() throws {
        let upstream = try HTTPUpstream()
        let tls = #"{"cert":"\#(certificates.certificatePath)","key":"\#(certificates.keyPath)"}"#
        let daemon = try HTTPDaemon(routeObjects: [tlsRoute("web", upstream: upstream.endpoint, protocolKind: "http", tls: tls)])
        let endpoint = try daemon.route("web")
        let script = #"""
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
def flush():
    data = out.read()
    if data: sock.sendall(data)
def pump():
    data = sock.recv(65536)
    if data: inc.write(data)
    else: inc.write_eof()
while True:
    try:
        obj.do_handshake(); break
    except ssl.SSLWantReadError:
        flush(); pump()
obj.write(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
try:
    obj.unwrap()
except ssl.SSLWantReadError:
    pass
flush()
got, result = b"", None
while result is None:
    try:
        got += obj.read(65536)
    except ssl.SSLWantReadError:
        flush(); pump()
    except ssl.SSLZeroReturnError:
        result = "close_notify"
    except ssl.SSLEOFError:
        result = "bare_eof"
    except ssl.SSLError as e:
        result = "error:%s" % e
print(result, got.split(b"\r\n")[0].decode())
"""#
        for attempt in 0..<3 {
            let result = try runPython(script, ["\(endpoint.port)", certificates.caPath], timeout: .seconds(20))
            XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "close_notify HTTP/1.1 200 OK", "attempt \(attempt)")
        }
        XCTAssertEqual(upstream.count(path: "/x"), 3)
    }

    // MARK: Files

    /// A certificate the daemon cannot read: --check-config and the API name the setting; a
    /// reload to a broken key keeps the old certificate serving.
    func testBadFilesAreConfigErrorsWithTheirPath() throws {
        let missing = certificates.directory + "/nope.pem"
        let config = #"{"version":1,"routes":[{"name":"s","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","tls":{"cert":"\#(missing)","key":"\#(certificates.keyPath)"}}]}"#
        let (_, check) = try DaemonProcess.checkConfig(config)
        XCTAssertEqual(check.status, 2)
        XCTAssertTrue(check.stderr.contains("routes[0].tls.cert: cannot read \(missing)"), check.stderr)

        let echo = try EchoServer()
        let daemon = try HTTPDaemon(routeObjects: [tlsRoute("secure", upstream: echo.endpoint, tls: serverTLS)])
        let added = try daemon.control.request("POST", "/v1/routes", json: #"{"name":"bad","listen":"127.0.0.1:0","upstream":"\#(echo.endpoint)","tls":{"cert":"\#(certificates.certificatePath)","key":"\#(certificates.caPath)"}}"#)
        XCTAssertEqual(added.status, 422, added.text)
        XCTAssertTrue(added.text.contains("routes[1].tls.key"), added.text)
        XCTAssertEqual(try daemon.control.expect(200, "GET", "/v1/routes").text.contains(#""bad""#), false, "a refused route changes nothing")
        // Still serving with the certificate it had.
        let port = try daemon.route("secure").port
        let result = try runPython(pythonTLSEchoClients, ["127.0.0.1", "\(port)", certificates.caPath, "2", "1000", "1"])
        XCTAssertTrue(result.output.contains(#""failed": 0"#), result.output)
    }
}

private let bystanderResult = Mutex<String>("")
