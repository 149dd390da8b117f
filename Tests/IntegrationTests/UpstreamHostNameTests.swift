import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// Routes whose upstream is a DNS name (`localhost:PORT`, `does-not-exist.invalid:80`): resolved
/// off the workers' loops, shown as written, and a name that does not resolve fails the connect.
final class UpstreamHostNameTests: DaemonTestCase {
    private func sample(_ text: String, _ series: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return String(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// A tcp route to `localhost:PORT` relays byte-exact, and the API shows the name as written.
    func testTCPRouteToLocalhostRelaysByteExact() throws {
        let echo = try EchoServer(threads: 1)
        let control = try ControlDaemon(routes: [])
        let upstream = "localhost:\(echo.endpoint.port)"
        let created = try control.call("POST", "/v1/routes", #"{"name":"r","listen":"127.0.0.1:0","upstream":"\#(upstream)"}"#)
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.object["upstream"] as? String, upstream)
        let route = try control.bound("r")
        for seed in 0..<3 {
            try assertEchoes(route, bytes: randomBytes(300_000, seed: UInt64(seed)))
        }
        let listed = try control.call("GET", "/v1/routes/r")
        XCTAssertEqual(listed.object["upstream"] as? String, upstream, listed.text)
    }

    /// An http route to a name that cannot resolve (.invalid never does, RFC 6761) answers 502
    /// and counts `reason="resolve"`; the route itself was accepted.
    func testHTTPRouteToUnresolvableNameAnswers502() throws {
        let control = try ControlDaemon(routes: [])
        let created = try control.call(
            "POST", "/v1/routes", #"{"name":"web","listen":"127.0.0.1:0","upstream":"does-not-exist.invalid:80","protocol":"http"}"#)
        XCTAssertEqual(created.status, 201, created.text)
        let route = try control.bound("web")
        for _ in 0..<2 {
            let client = try TestSocket.connect(to: route)
            try client.send(Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8))
            guard case .data(let bytes) = client.read(timeout: .seconds(5)) else { return XCTFail("no answer") }
            let head = String(decoding: bytes, as: UTF8.self)
            XCTAssertTrue(head.hasPrefix("HTTP/1.1 502 "), head)
        }
        let series = #"faultline_upstream_connect_failures_total{route="web",reason="resolve"}"#
        let deadline = Deadline(after: .seconds(5))
        var text = ""
        repeat {
            text = try control.call("GET", "/metrics").text
            if sample(text, series) == "2" { break }
            usleep(20_000)
        } while !deadline.hasPassed
        XCTAssertEqual(sample(text, series), "2")
        XCTAssertEqual(sample(text, #"faultline_upstream_connect_failures_total{route="web",reason="timeout"}"#), "0")
    }

    /// Toxiproxy's `POST /proxies` with `"upstream": "localhost:PORT"` makes a working proxy that
    /// shows the upstream as written.
    func testToxiproxyProxyToLocalhost() throws {
        let echo = try EchoServer(threads: 1)
        let control = try ControlDaemon(routes: [])
        let upstream = "localhost:\(echo.endpoint.port)"
        let reply = try control.call("POST", "/proxies", #"{"name":"redis","listen":"127.0.0.1:0","upstream":"\#(upstream)"}"#, on: control.tcp)
        XCTAssertEqual(reply.status, 201, reply.text)
        XCTAssertEqual(reply.object["upstream"] as? String, upstream)
        guard let listen = reply.object["listen"] as? String, let endpoint = Endpoint(parsing: listen) else {
            return XCTFail("no listen address in \(reply.text)")
        }
        try assertEchoes(endpoint, bytes: randomBytes(100_000, seed: 5))
        let shown = try control.call("GET", "/proxies/redis", on: control.tcp)
        XCTAssertEqual(shown.object["upstream"] as? String, upstream, shown.text)
        let bad = try control.call("POST", "/proxies", #"{"name":"bad","listen":"127.0.0.1:0","upstream":"-bad-:1"}"#, on: control.tcp)
        XCTAssertEqual(bad.status, 400, bad.text)
    }
}
