import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// Real HTTP clients and a real HTTP server through an `http` route: curl, Python's
/// `http.client` and `requests`, nginx as the upstream; and the config check of `protocol`.
final class HTTPClientToolTests: HTTPRouteTestCase {
    private static let curl = "/usr/bin/curl"
    private static let nginx = "/usr/sbin/nginx"

    /// Issue acceptance: `curl -v` with two URLs in one invocation reuses its connection, and
    /// the proxy keeps that one upstream connection for both.
    func testCurlKeepAliveOfTwoURLsInOneInvocation() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.curl) else { throw XCTSkip("needs \(Self.curl)") }
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let web = try daemon.route()
        let stderrPath = daemon.process.directory + "/curl.err"
        let run = try runProcess(["/bin/sh", "-c", "\(Self.curl) -sv --max-time 10 http://\(web)/one http://\(web)/two?x=2 2>'\(stderrPath)'"], timeout: .seconds(20))
        let verbose = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        XCTAssertEqual(run.status, 0, verbose)
        XCTAssertEqual(run.output, "GET /one\nGET /two?x=2\n")
        XCTAssertTrue(verbose.contains("Re-using existing connection"), "curl opened a second connection:\n\(verbose)")
        XCTAssertEqual(verbose.components(separatedBy: "< HTTP/1.1 200 OK").count - 1, 2, verbose)
        XCTAssertEqual(upstream.requests.map(\.target), ["/one", "/two?x=2"])
        XCTAssertEqual(upstream.requests.map(\.connection), [0, 0])
        XCTAssertEqual(upstream.requests.map { $0.header("user-agent")?.hasPrefix("curl/") }, [true, true])
    }

    /// curl uploads 2 MB (it sends `Expect: 100-continue` for a body that large) and reads back
    /// the echo; both hashes match.
    func testCurlLargeUploadWithExpectContinue() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.curl) else { throw XCTSkip("needs \(Self.curl)") }
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let web = try daemon.route()
        let payload = SplitMix64.bytes(count: 2_000_000, seed: 31)
        let input = daemon.process.directory + "/upload.bin"
        let output = daemon.process.directory + "/echo.bin"
        try Data(payload).write(to: URL(fileURLWithPath: input))
        let run = try runProcess([Self.curl, "-sS", "--max-time", "20", "-H", "Expect: 100-continue", "--data-binary", "@" + input, "-o", output, "http://\(web)/echo"], timeout: .seconds(30))
        XCTAssertEqual(run.status, 0, run.output)
        let echoed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: output)))
        XCTAssertEqual(SHA256.hex(echoed), SHA256.hex(payload))
        XCTAssertEqual(upstream.requests.first?.header("expect"), "100-continue")
        XCTAssertEqual(upstream.requests.first?.bodySHA256, SHA256.hex(payload))
    }

    /// Python's `http.client` on one keep-alive connection: Content-Length and chunked uploads
    /// (an iterable body), a chunked download, HEAD and 204 in between; every hash matches at the
    /// client and, for uploads, at the upstream.
    func testPythonHTTPClientKeepAliveUploadsAndDownloads() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let web = try daemon.route()
        let script = #"""
        import hashlib, http.client, json, random, sys
        host, port = sys.argv[1], int(sys.argv[2])
        rng = random.Random(5)
        conn = http.client.HTTPConnection(host, port, timeout=20)
        results = []
        for i in range(24):
            size = rng.choice([0, 1, 100, 5000, 70000, 1500000])
            body = rng.randbytes(size)
            if i % 2:
                pieces = [body[j:j + 8191] for j in range(0, len(body), 8191)]
                conn.request("POST", "/echo?i=%d" % i, body=iter(pieces), headers={"X-I": str(i)})
            else:
                conn.request("POST", "/echo?i=%d" % i, body=body, headers={"X-I": str(i)})
            resp = conn.getresponse()
            got = resp.read()
            results.append({"i": i, "status": resp.status, "sent": hashlib.sha256(body).hexdigest(),
                            "got": hashlib.sha256(got).hexdigest(), "header": resp.getheader("x-body-sha256"),
                            "chunked": i % 2 == 1})
        conn.request("GET", "/chunked?size=300000&seed=11")
        resp = conn.getresponse()
        got = resp.read()
        download = {"status": resp.status, "got": hashlib.sha256(got).hexdigest(), "header": resp.getheader("x-body-sha256"), "length": len(got)}
        conn.request("HEAD", "/big?size=777")
        resp = conn.getresponse()
        head = [resp.status, resp.getheader("content-length"), resp.read()]
        conn.request("GET", "/status/204")
        resp = conn.getresponse()
        nocontent = [resp.status, resp.read()]
        conn.request("GET", "/last")
        last = conn.getresponse().read().decode()
        print(json.dumps({"uploads": results, "download": download, "head": [head[0], head[1], len(head[2])],
                          "nocontent": [nocontent[0], len(nocontent[1])], "last": last}))
        """#
        let run = try runPython(script, [web.hostText, String(web.port)])
        XCTAssertEqual(run.status, 0, run.output)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], run.output)
        let uploads = try XCTUnwrap(report["uploads"] as? [[String: Any]])
        XCTAssertEqual(uploads.count, 24)
        let seen = upstream.requests
        for upload in uploads {
            let i = upload["i"] as? Int ?? -1
            XCTAssertEqual(upload["status"] as? Int, 200, "upload \(i)")
            XCTAssertEqual(upload["got"] as? String, upload["sent"] as? String, "upload \(i): echo at the client")
            XCTAssertEqual(upload["header"] as? String, upload["sent"] as? String, "upload \(i): sha at the upstream, as it told")
            let atUpstream = seen.first { $0.header("x-i") == String(i) }
            XCTAssertEqual(atUpstream?.bodySHA256, upload["sent"] as? String, "upload \(i): body at the upstream")
            XCTAssertEqual(atUpstream?.chunked, upload["chunked"] as? Bool, "upload \(i): framing kept")
        }
        let download = try XCTUnwrap(report["download"] as? [String: Any])
        XCTAssertEqual(download["status"] as? Int, 200)
        XCTAssertEqual(download["length"] as? Int, 300_000)
        XCTAssertEqual(download["got"] as? String, SHA256.hex(SplitMix64.bytes(count: 300_000, seed: 11)))
        XCTAssertEqual(texts(report["head"]), ["200", "777", "0"])
        XCTAssertEqual(texts(report["nocontent"]), ["204", "0"])
        XCTAssertEqual(report["last"] as? String, "GET /last\n")
        XCTAssertEqual(Set(seen.map(\.connection)), [0], "one keep-alive connection end to end")
        XCTAssertEqual(seen.count, 28)
    }

    /// `requests` with a Session (urllib3's connection pool): a generator body goes chunked, an
    /// aborted answer carries the mark, and the session's connection survives the abort.
    func testPythonRequestsSessionThroughAnAbort() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint, faults: [
            #"{"id":"no-pay","type":"abort","route":"web","status":503,"body":"nope","headers":{"retry-after":"1"},"mark":true,"match":{"method":"POST","path":"/pay"}}"#,
        ])
        let web = try daemon.route()
        let script = #"""
        import hashlib, json, sys, requests
        base = "http://%s:%s" % (sys.argv[1], sys.argv[2])
        s = requests.Session()
        data = bytes(range(256)) * 4000
        def gen():
            for j in range(0, len(data), 10000):
                yield data[j:j + 10000]
        r1 = s.post(base + "/echo", data=gen(), timeout=20)
        r2 = s.post(base + "/pay", data=b"amount=1", headers={"Idempotency-Key": "py-1"}, timeout=20)
        r3 = s.get(base + "/after", timeout=20)
        print(json.dumps({"echo": [r1.status_code, hashlib.sha256(r1.content).hexdigest(), hashlib.sha256(data).hexdigest()],
                          "pay": [r2.status_code, r2.text, r2.headers.get("retry-after"), r2.headers.get("x-faultline-fault")],
                          "after": [r3.status_code, r3.text]}))
        """#
        let run = try runPython(script, [web.hostText, String(web.port)])
        XCTAssertEqual(run.status, 0, run.output)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], run.output)
        let echo = texts(report["echo"])
        XCTAssertEqual(echo.first, "200")
        XCTAssertEqual(echo.count, 3)
        XCTAssertEqual(echo.dropFirst().first, echo.last, "echo hash at the client")
        XCTAssertEqual(texts(report["pay"]), ["503", "nope", "1", "no-pay"])
        XCTAssertEqual(texts(report["after"]), ["200", "GET /after\n"])
        XCTAssertEqual(upstream.requests.map(\.path), ["/echo", "/after"])
        XCTAssertEqual(upstream.requests.first?.chunked, true)
        XCTAssertEqual(upstream.sideEffects(key: "py-1"), 0)
        XCTAssertEqual(Set(upstream.requests.map(\.connection)), [0], "the session's connection survived the abort")
    }

    /// nginx as the upstream: a static file and `return` locations on one keep-alive connection
    /// through the proxy, byte-exact; nginx's own access log shows one connection with its
    /// requests numbered 1, 2, …, and no trace of the request a fault aborted.
    func testNginxUpstreamServesStaticAndReturnLocations() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.nginx) else { throw XCTSkip("needs \(Self.nginx)") }
        let server = try NginxServer()
        let file = SplitMix64.bytes(count: 1_048_576 + 13, seed: 41)
        try Data(file).write(to: URL(fileURLWithPath: server.root + "/static.bin"))
        let daemon = try startHTTPDaemon(upstream: server.endpoint)
        let client = try HTTPTestConnection(to: try daemon.route())
        let got = try expect(200, HTTPTestRequest("GET", "/static.bin"), on: client)
        XCTAssertEqual(got.body.count, file.count)
        XCTAssertEqual(got.bodySHA256, SHA256.hex(file))
        let head = try expect(200, HTTPTestRequest("HEAD", "/static.bin"), on: client)
        XCTAssertEqual(head.header("content-length"), String(file.count))
        XCTAssertEqual(try expect(200, HTTPTestRequest("GET", "/ok"), on: client).text, "fine\n")
        XCTAssertEqual(try expect(418, HTTPTestRequest("GET", "/teapot"), on: client).text, "short and stout\n")
        try expect(404, HTTPTestRequest("GET", "/missing"), on: client)
        try daemon.apply(#"{"id":"no-ok","type":"abort","route":"web","status":503,"body":"nope","match":{"path":"/ok"}}"#)
        XCTAssertEqual(try expect(503, HTTPTestRequest("GET", "/ok"), on: client).text, "nope")
        let post = try expect(200, HTTPTestRequest("POST", "/posted", body: Array("x=1".utf8)), on: client)
        XCTAssertEqual(post.text, "posted\n")

        // nginx writes a request's log line after its answer went out: wait for the sixth.
        let lines = server.accessLog(atLeast: 6)
        XCTAssertEqual(lines.map(\.request), ["GET /static.bin", "HEAD /static.bin", "GET /ok", "GET /teapot", "GET /missing", "POST /posted"])
        XCTAssertEqual(Set(lines.map(\.connection)).count, 1, "nginx saw more than one connection: \(lines)")
        XCTAssertEqual(lines.map(\.connectionRequest), Array(1...6))
        XCTAssertEqual(lines.map(\.status), [200, 200, 200, 418, 404, 200])
        XCTAssertEqual(Set(lines.map(\.httpVersion)), ["HTTP/1.1"])
    }

    /// A setting this build does not serve is a config error naming its path (never a silent
    /// fallback): translating HTTP/1.1 to HTTP/2 (`upstream_protocol` on an http route) is refused;
    /// `grpc` and `http` routes pass.
    func testWhatIsNotServedIsRejectedByCheckConfig() throws {
        let translating = #"{"version":1,"routes":[{"name":"g","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","protocol":"http","upstream_protocol":"h2"}]}"#
        let (_, rejected) = try DaemonProcess.checkConfig(translating)
        XCTAssertEqual(rejected.status, 2, "stdout: \(rejected.stdout) stderr: \(rejected.stderr)")
        let lines = rejected.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, rejected.stderr)
        XCTAssertTrue(lines.first?.hasPrefix("routes[0].upstream_protocol: translating between HTTP/1.1 and HTTP/2") == true, rejected.stderr)
        XCTAssertEqual(rejected.stdout, "")

        for kind in ["grpc", "http"] {
            let plain = #"{"version":1,"routes":[{"name":"g","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","protocol":"\#(kind)"}]}"#
            let (path, accepted) = try DaemonProcess.checkConfig(plain)
            XCTAssertEqual(accepted.status, 0, accepted.stderr)
            XCTAssertEqual(accepted.stdout, "\(path): ok\n")
        }
    }
}

/// A JSON array's elements as text (numbers in decimal), for comparing mixed arrays.
private func texts(_ value: Any?) -> [String] {
    (value as? [Any] ?? []).map { "\($0)" }
}

extension Endpoint {
    /// The address without the port, as a URL host or a Python argument wants it.
    var hostText: String {
        let text = description
        guard let colon = text.lastIndex(of: ":") else { return text }
        return String(text[..<colon])
    }
}
