import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// HTTP/2 through an `http` route (SPEC §3.5, docs/HTTP2.md) with real peers: curl, h2load and
/// h2probe.py (Python `h2`) as clients, nginx's h2c and TLS h2 listeners as the upstream.
final class HTTP2RouteTests: HTTPRouteTestCase {
    private static let curl = "/usr/bin/curl"
    private static let h2load = "/usr/bin/h2load"

    private func curlH2(_ url: String, _ extra: [String] = [], output: String? = nil) throws -> String {
        var arguments = [Self.curl, "-sS", "--max-time", "20", "-w", " %{http_version} %{http_code}"] + extra
        if let output { arguments += ["-o", output] }
        let run = try runProcess(arguments + [url], timeout: .seconds(30))
        XCTAssertEqual(run.status, 0, run.output)
        return run.output
    }

    /// curl with prior knowledge through the route to nginx's h2c listener: a `return` body and an
    /// 8 MiB file byte-exact; nginx saw HTTP/2 requests; the requests are counted and logged.
    func testCurlPriorKnowledgeThroughTheRouteToH2cNginx() throws {
        let size = 8 << 20
        let nginx = try NginxServer(.h2c, largeFileSize: size)
        let daemon = try startHTTPDaemon(upstream: nginx.endpoint)
        let route = try daemon.route()
        XCTAssertEqual(try curlH2("http://\(route)/a", ["--http2-prior-knowledge"]), "a 2 200")
        let file = NSTemporaryDirectory() + "fl-h2-large-\(getpid()).bin"
        defer { unlink(file) }
        XCTAssertEqual(try curlH2("http://\(route)/large.bin", ["--http2-prior-knowledge"], output: file), " 2 200")
        let body = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        XCTAssertEqual(body.count, size)
        XCTAssertEqual(SHA256.hex(body), SHA256.hex(NginxServer.largeFile(size: size)))
        let lines = nginx.accessLog(atLeast: 2)
        XCTAssertEqual(lines.map(\.request), ["GET /a", "GET /large.bin"])
        XCTAssertEqual(lines.map(\.httpVersion), ["HTTP/2.0", "HTTP/2.0"])
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "200"], settlesAt: 2), 2)
        let log = try daemon.control.expect(200, "GET", "/v1/requests?route=web").text
        XCTAssertTrue(log.contains(#""path":"/large.bin""#), log)
    }

    /// curl --http2 over TLS: the listener offers h2 by ALPN, the upstream is nginx's TLS h2
    /// listener (ALPN h2 offered by the route's upstream_tls); an HTTP/1.1 client on the same
    /// route still gets HTTP/1.1 (to an upstream that then also speaks HTTP/1.1 over ALPN).
    func testCurlHTTP2OverTLSToAnH2Upstream() throws {
        let certificates = try TestCertificates()
        let nginx = try NginxServer(.h2TLS(certificates))
        let tls = #"{"cert":"\#(certificates.certificatePath)","key":"\#(certificates.keyPath)","alpn":["h2","http/1.1"]}"#
        let upstreamTLS = #"{"ca":"\#(certificates.caPath)","sni":"localhost"}"#
        let daemon = try HTTPDaemon(routeObjects: [
            tlsRoute("web", upstream: nginx.endpoint, protocolKind: "http", tls: tls, upstreamTLS: upstreamTLS),
        ])
        let route = try daemon.route()
        let url = "https://localhost:\(route.port)/b"
        let resolve = ["--resolve", "localhost:\(route.port):127.0.0.1", "--cacert", certificates.caPath]
        XCTAssertEqual(try curlH2(url, ["--http2"] + resolve), "bb 2 200")
        XCTAssertEqual(try curlH2(url, ["--http1.1"] + resolve), "bb 1.1 200")
        let lines = nginx.accessLog(atLeast: 2)
        XCTAssertEqual(lines.map(\.httpVersion), ["HTTP/2.0", "HTTP/1.1"])
    }

    /// h2load: 20,000 requests on 10 connections, 10 streams each at a time, all answered, none
    /// failed; the daemon counted each one.
    func testH2loadManyStreamsNoErrors() throws {
        let nginx = try NginxServer(.h2c)
        let daemon = try startHTTPDaemon(upstream: nginx.endpoint)
        let run = try runProcess(
            [Self.h2load, "-n", "20000", "-c", "10", "-m", "10", "http://\(try daemon.route())/a"], timeout: .seconds(120))
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed, 0 errored, 0 timeout"), run.output)
        XCTAssertTrue(run.output.contains("status codes: 20000 2xx, 0 3xx, 0 4xx, 0 5xx"), run.output)
        // "a" each: the data bytes h2load counted are the bodies, exactly.
        XCTAssertTrue(run.output.contains("(20000) data"), run.output)
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "200"], settlesAt: 20000), 20000)
    }

    /// An abort on one path while streams to other paths run on the same connection: only that
    /// stream gets the proxy's 503 (marked); the others are byte-exact; nginx never saw /a.
    func testAbortOnOneStreamWhileConcurrentStreamsSucceed() throws {
        let size = 2 << 20
        let nginx = try NginxServer(.h2c, largeFileSize: size)
        let daemon = try startHTTPDaemon(upstream: nginx.endpoint, faults: [
            #"{"id":"down","route":"web","type":"abort","status":503,"body":"injected","match":{"path":"/a"},"mark":true}"#,
        ])
        let result = try h2probe(try daemon.route(), ["GET:/b", "GET:/a", "GET:/large.bin", "GET:/c"])
        XCTAssertFalse(result.timedOut)
        XCTAssertEqual(result.streams.map(\.status), [200, 503, 200, 200])
        XCTAssertEqual(result.streams("/a").first?.headers["x-faultline-fault"], "down")
        XCTAssertEqual(result.streams("/a").first?.bodySha256, SHA256.hex(Array("injected".utf8)))
        XCTAssertEqual(result.streams("/b").first?.bodySha256, SHA256.hex(Array("bb".utf8)))
        XCTAssertEqual(result.streams("/c").first?.bodySha256, SHA256.hex(Array("ccc".utf8)))
        XCTAssertEqual(result.streams("/large.bin").first?.bodySha256, SHA256.hex(NginxServer.largeFile(size: size)))
        let lines = nginx.accessLog(atLeast: 3)
        XCTAssertEqual(Set(lines.map(\.request)), ["GET /b", "GET /large.bin", "GET /c"])
        XCTAssertEqual(Set(lines.map(\.connection)).count, 1, "\(lines)")
        let events = try daemon.journal("http.fault", atLeast: 1)
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events.first?["path"] as? String, "/a")
        XCTAssertEqual(events.first?["stream"] as? Int, 3)
        XCTAssertEqual(try daemon.metric("faultline_fault_injections_total", ["route": "web", "fault": "down", "type": "abort"]), 1)
    }

    /// rst_stream resets its stream with the configured code; the streams beside it finish.
    func testRstStreamReachesTheClientWithItsCode() throws {
        let nginx = try NginxServer(.h2c)
        let daemon = try startHTTPDaemon(upstream: nginx.endpoint, faults: [
            #"{"id":"rst","route":"web","type":"rst_stream","error_code":"REFUSED_STREAM","match":{"path":"/b"}}"#,
        ])
        let result = try h2probe(try daemon.route(), ["GET:/a", "GET:/b", "GET:/c"])
        XCTAssertEqual(result.streams.map(\.resetErrorCode), [nil, 7, nil])
        XCTAssertEqual(result.streams.map(\.status), [200, nil, 200])
        XCTAssertNil(result.goaway)
        XCTAssertEqual(Set(nginx.accessLog(atLeast: 2).map(\.request)), ["GET /a", "GET /c"])
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "reset"], settlesAt: 1), 1)
    }

    /// An upstream's 1xx heads (103 Early Hints) reach the client ahead of its answer, with their
    /// fields, also on a stream whose answer a response delay holds: faults act on the final
    /// answer, as on HTTP/1.1. The log counts one request per stream, by its final status.
    func testInformationalAnswersArePassedOnAheadOfTheAnswer() throws {
        let upstream = try h2Server(informational: ["103"], hints: ["link:</app.css>; rel=preload"])
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint, faults: [
            #"{"id":"late","type":"delay","route":"web","delay":"300ms","phase":"response","match":{"path":"/late"}}"#,
        ])
        let result = try h2probe(try daemon.route(), ["GET:/a", "GET:/late"])
        XCTAssertEqual(result.streams.count, 2)
        for stream in result.streams {
            XCTAssertEqual(stream.status, 200, "\(stream)")
            XCTAssertEqual(stream.informational, [[":status": "103", "link": "</app.css>; rel=preload"]], "\(stream)")
            XCTAssertEqual(stream.bodyBytes, stream.path.utf8.count, "\(stream)")
            XCTAssertTrue(stream.ended, "\(stream)")
        }
        XCTAssertGreaterThanOrEqual(result.elapsedSeconds, 0.3, "the delay held the final answer")
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "200"], settlesAt: 2), 2)
    }

    /// goaway (graceful) names the stream before the matched one as the last processed: the
    /// earlier stream finishes, the matched one is not processed, and the code is the configured one.
    func testGracefulGoawayLetsEarlierStreamsFinish() throws {
        let size = 1 << 20
        let nginx = try NginxServer(.h2c, largeFileSize: size)
        let daemon = try startHTTPDaemon(upstream: nginx.endpoint, faults: [
            #"{"id":"bye","route":"web","type":"goaway","error_code":"ENHANCE_YOUR_CALM","match":{"path":"/c"}}"#,
        ])
        let result = try h2probe(try daemon.route(), ["GET:/large.bin", "GET:/c"])
        XCTAssertEqual(result.goaway?.errorCode, 11)
        XCTAssertEqual(result.goaway?.lastStreamId, 1)
        XCTAssertEqual(result.streams("/large.bin").first?.status, 200)
        XCTAssertEqual(result.streams("/large.bin").first?.bodySha256, SHA256.hex(NginxServer.largeFile(size: size)))
        XCTAssertNil(result.streams("/c").first?.status)
        XCTAssertEqual(nginx.accessLog(atLeast: 1).map(\.request), ["GET /large.bin"])
    }

    /// window_stall holds a large download once the upstream used its window; clearing the fault
    /// lets it finish, every byte in place.
    func testWindowStallStallsADownloadUntilCleared() throws {
        let size = 8 << 20
        let nginx = try NginxServer(.h2c, largeFileSize: size)
        let daemon = try startHTTPDaemon(upstream: nginx.endpoint, faults: [
            #"{"id":"stall","route":"web","type":"window_stall","match":{"path":"/large.bin"}}"#,
        ])
        let file = NSTemporaryDirectory() + "fl-h2-stall-\(getpid()).bin"
        defer { unlink(file) }
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: Self.curl)
        curl.arguments = ["-sS", "--max-time", "60", "--http2-prior-knowledge", "-o", file, "http://\(try daemon.route())/large.bin"]
        try curl.run()
        defer { if curl.isRunning { kill(curl.processIdentifier, SIGKILL) } }
        func received() -> Int { (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0 }
        // It stalls: the size stops growing well short of the file.
        var stalledAt = -1
        let deadline = Deadline(after: .seconds(10))
        while !deadline.hasPassed {
            usleep(300_000)
            let now = received()
            if now > 0 && now == stalledAt { break }
            stalledAt = now
        }
        XCTAssertGreaterThan(stalledAt, 0)
        XCTAssertLessThan(stalledAt, 2 << 20, "the download should stall within a few windows")
        usleep(500_000)
        XCTAssertEqual(received(), stalledAt, "nothing moves while the stall holds")
        XCTAssertTrue(curl.isRunning)
        try daemon.clear("stall")
        curl.waitUntilExit()
        XCTAssertEqual(curl.terminationStatus, 0)
        let body = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        XCTAssertEqual(body.count, size)
        XCTAssertEqual(SHA256.hex(body), SHA256.hex(NginxServer.largeFile(size: size)))
    }

    /// A bad frame after a good preface, a SETTINGS flood and a truncated preface each end their
    /// own connection (GOAWAY, then close; the truncated one is no HTTP/2 and gets HTTP/1.1's
    /// 400), counted and journaled; a connection beside them relays on.
    func testMalformedHTTP2EndsOnlyTheOffendingConnection() throws {
        let nginx = try NginxServer(.h2c)
        let daemon = try startHTTPDaemon(upstream: nginx.endpoint)
        let route = try daemon.route()
        let beside = try TestSocket.connect(to: route)
        try beside.send(H2Frames.preface + H2Frames.emptySettings)

        // DATA on stream 0 is a connection error (RFC 9113 §6.1): GOAWAY PROTOCOL_ERROR.
        let bad = try TestSocket.connect(to: route)
        try bad.send(H2Frames.preface + H2Frames.emptySettings + [0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41])
        let answer = try bad.readAll(timeout: .seconds(5), "the connection with a bad frame")
        XCTAssertTrue(H2Frames.containsGoaway(answer, errorCode: 1), "no GOAWAY PROTOCOL_ERROR in \(answer)")

        let truncated = try TestSocket.connect(to: route)
        try truncated.send(Array("PRI * HTTP/2.0\r\n".utf8))
        try truncated.shutdownWrite()
        let refused = String(decoding: try truncated.readAll(timeout: .seconds(5), "the truncated preface"), as: UTF8.self)
        XCTAssertTrue(refused.hasPrefix("HTTP/1.1 400") || refused.hasPrefix("HTTP/1.1 505"), refused)

        // The preface, then 30,000 empty SETTINGS frames whose ACKs are never read.
        let flood = try TestSocket.connect(to: route)
        var frames = H2Frames.preface
        for _ in 0..<30_000 { frames += [0, 0, 0, 4, 0, 0, 0, 0, 0] }
        try? flood.send(frames, timeout: .seconds(10))
        _ = try? flood.readAll(timeout: .seconds(5))

        let result = try h2probe(route, ["GET:/a", "GET:/b"])
        XCTAssertEqual(result.streams.map(\.status), [200, 200])
        let metric = "faultline_http2_protocol_errors_total"
        XCTAssertEqual(try daemon.metric(metric, ["route": "web", "side": "client", "reason": "protocol_error"], settlesAt: 1), 1)
        XCTAssertEqual(try daemon.metric(metric, ["route": "web", "side": "client", "reason": "flood"], settlesAt: 1), 1)
        let rejected = try daemon.journal("http.rejected", atLeast: 2)
        XCTAssertEqual(rejected.filter { $0["protocol"] as? String == "h2" }.count, 2, "\(rejected)")
        // The connection opened before them is still served.
        try beside.send(H2Frames.settingsAck)
        guard case .data = beside.read(timeout: .seconds(2)) else { return XCTFail("the earlier connection was closed") }
    }
}

extension TestSocket {
    /// `readAll`, its failure naming `what`.
    fileprivate func readAll(timeout: Duration, _ what: String) throws -> [UInt8] {
        do {
            return try readAll(timeout: timeout)
        } catch {
            throw DaemonError("\(what): \(error)")
        }
    }
}

/// Raw HTTP/2 bytes for the malformed-input tests.
enum H2Frames {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    static let emptySettings: [UInt8] = [0, 0, 0, 4, 0, 0, 0, 0, 0]
    static let settingsAck: [UInt8] = [0, 0, 0, 4, 1, 0, 0, 0, 0]

    /// Whether `bytes` (frames from a server, after no preface) hold a GOAWAY with `errorCode`.
    static func containsGoaway(_ bytes: [UInt8], errorCode: UInt32) -> Bool {
        var offset = 0
        while offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            let type = bytes[offset + 3]
            let payload = offset + 9
            if type == 7, payload + 8 <= bytes.count {
                let code = bytes[payload + 4..<payload + 8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                if code == errorCode { return true }
            }
            offset = payload + length
        }
        return false
    }
}
