import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// Toxiproxy 2.12's documented API (README "HTTP API", `client/*.go`) against the real daemon's
/// TCP control listener, with each supported toxic observed on real traffic.
final class ToxiproxyCompatTests: DaemonTestCase {
    /// A daemon with no routes and an echo upstream, driven through the Toxiproxy API.
    private func start() throws -> (ControlDaemon, EchoServer) {
        let echo = try EchoServer(threads: 1)
        return (try ControlDaemon(routes: []), echo)
    }

    /// Creates proxy `name` to `upstream` on 127.0.0.1:0 and returns the address it listens on.
    @discardableResult
    private func createProxy(_ control: ControlDaemon, _ name: String, _ upstream: Endpoint) throws -> Endpoint {
        let reply = try control.call("POST", "/proxies", #"{"name":"\#(name)","listen":"127.0.0.1:0","upstream":"\#(upstream)"}"#, on: control.tcp)
        XCTAssertEqual(reply.status, 201, reply.text)
        guard let listen = reply.object["listen"] as? String, let endpoint = Endpoint(parsing: listen), endpoint.port != 0 else {
            throw DaemonError("no bound listen address in \(reply.text)")
        }
        return endpoint
    }

    private func addToxic(_ control: ControlDaemon, _ proxy: String, _ body: String) throws -> WireReply {
        let reply = try control.call("POST", "/proxies/\(proxy)/toxics", body, on: control.tcp)
        XCTAssertEqual(reply.status, 200, "Toxiproxy answers 200 for a new toxic: \(reply.text)")
        return reply
    }

    private func toxiproxyError(_ reply: WireReply) -> (String?, Int?) {
        (reply.object["error"] as? String, reply.object["status"] as? Int)
    }

    func testVersionProxyLifecycleAndErrors() throws {
        let (control, echo) = try start()
        let version = try control.call("GET", "/version", on: control.tcp)
        XCTAssertEqual(version.status, 200)
        XCTAssertEqual(version.object["version"] as? String, "2.12.0")

        let listen = try createProxy(control, "redis", echo.endpoint)
        try assertEchoes(listen, bytes: randomBytes(50_000, seed: 1))
        let created = try control.call("GET", "/proxies/redis", on: control.tcp)
        XCTAssertEqual(created.status, 200)
        XCTAssertEqual(Set(created.object.keys), ["name", "listen", "upstream", "enabled", "toxics"], "no stray fields (Toxiproxy's Logger)")
        XCTAssertEqual(created.object["listen"] as? String, listen.description)
        XCTAssertEqual(created.object["upstream"] as? String, echo.endpoint.description)
        XCTAssertEqual(created.object["enabled"] as? Bool, true)
        XCTAssertEqual((created.object["toxics"] as? [Any])?.count, 0)

        let again = try control.call("POST", "/proxies", #"{"name":"redis","listen":"127.0.0.1:0","upstream":"\#(echo.endpoint)"}"#, on: control.tcp)
        XCTAssertEqual(again.status, 409)
        XCTAssertTrue(toxiproxyError(again) == ("proxy already exists", 409))
        let missing = try control.call("POST", "/proxies", #"{"name":"x"}"#, on: control.tcp)
        XCTAssertTrue(toxiproxyError(missing) == ("missing required field: upstream", 400), missing.text)
        let notJSON = try control.call("POST", "/proxies", "{", on: control.tcp)
        XCTAssertEqual(notJSON.status, 400)
        XCTAssertEqual(try control.call("GET", "/proxies/nope", on: control.tcp).object["error"] as? String, "proxy not found")
        XCTAssertEqual(try control.call("GET", "/proxies/nope/toxics", on: control.tcp).status, 404)

        let index = try control.call("GET", "/proxies", on: control.tcp)
        XCTAssertEqual(index.status, 200)
        XCTAssertEqual(Array(index.object.keys), ["redis"])

        // Disable (POST, as the Go client's Proxy.Save does): the listener and connections close.
        let open = try TestSocket.connect(to: listen)
        XCTAssertLessThan(try roundTrip(open, Array("x".utf8)), 0.5)
        let disabled = try control.call("POST", "/proxies/redis", #"{"name":"redis","listen":"\#(listen)","upstream":"\#(echo.endpoint)","enabled":false,"toxics":[]}"#, on: control.tcp)
        XCTAssertEqual(disabled.status, 200, disabled.text)
        XCTAssertEqual(disabled.object["enabled"] as? Bool, false)
        XCTAssertEqual(disabled.object["listen"] as? String, listen.description)
        XCTAssertNotNil(open.waitForClose(timeout: .seconds(3)), "disabling closes open connections")
        XCTAssertThrowsError(try TestSocket.connect(to: listen, timeout: .seconds(1)))
        // Enable with PATCH: the same port again.
        let enabled = try control.call("PATCH", "/proxies/redis", #"{"enabled":true}"#, on: control.tcp)
        XCTAssertEqual(enabled.object["listen"] as? String, listen.description)
        try assertEchoes(listen)

        // The proxy is a route on the /v1 side too.
        let route = try control.call("GET", "/v1/routes/redis")
        XCTAssertEqual(route.object["origin"] as? String, "runtime")

        XCTAssertEqual(try control.call("DELETE", "/proxies/redis", on: control.tcp).status, 204)
        XCTAssertEqual(try control.call("DELETE", "/proxies/redis", on: control.tcp).status, 404)
        XCTAssertThrowsError(try TestSocket.connect(to: listen, timeout: .seconds(1)))
        XCTAssertEqual(try control.call("GET", "/proxies").status, 404, "the Unix socket does not serve Toxiproxy's API")
    }

    /// latency: the round trip grows by `latency`; toxicity 0 never acts; PATCH merges attributes.
    func testLatencyToxic() throws {
        let (control, echo) = try start()
        let listen = try createProxy(control, "p", echo.endpoint)
        let open = try TestSocket.connect(to: listen)
        XCTAssertLessThan(try roundTrip(open, Array("warm".utf8)), 0.2)

        let never = try addToxic(control, "p", #"{"name":"never","type":"latency","stream":"upstream","toxicity":0,"attributes":{"latency":1000}}"#)
        XCTAssertEqual(never.object["toxicity"] as? Double, 0)
        XCTAssertLessThan(try roundTrip(open, Array("t0".utf8)), 0.2, "toxicity 0 never acts")
        XCTAssertEqual(try control.call("DELETE", "/proxies/p/toxics/never", on: control.tcp).status, 204)

        let added = try addToxic(control, "p", #"{"type":"latency","attributes":{"latency":300}}"#)
        XCTAssertEqual(added.object["name"] as? String, "latency_downstream")
        XCTAssertEqual(added.object["stream"] as? String, "downstream")
        XCTAssertEqual(added.object["toxicity"] as? Double, 1)
        XCTAssertEqual(added.object["attributes"] as? [String: Int], ["latency": 300, "jitter": 0])
        let twice = try control.call("POST", "/proxies/p/toxics", #"{"type":"latency","attributes":{"latency":1}}"#, on: control.tcp)
        XCTAssertTrue(toxiproxyError(twice) == ("toxic already exists", 409), twice.text)
        let held = try roundTrip(open, Array("held".utf8))
        XCTAssertGreaterThanOrEqual(held, 0.29)
        XCTAssertLessThan(held, 1.5)

        // PATCH with only jitter keeps latency (merged); the fault is updated in place.
        let patched = try control.call("PATCH", "/proxies/p/toxics/latency_downstream", #"{"attributes":{"jitter":50}}"#, on: control.tcp)
        XCTAssertEqual(patched.status, 200, patched.text)
        XCTAssertEqual(patched.object["attributes"] as? [String: Int], ["latency": 300, "jitter": 50])
        let fault = try control.call("GET", "/v1/faults/toxiproxy.p.latency_downstream")
        XCTAssertEqual(fault.object["delay"] as? String, "300ms")
        XCTAssertEqual(fault.object["jitter"] as? String, "50ms")
        let jittered = try roundTrip(open, Array("jit".utf8))
        XCTAssertGreaterThanOrEqual(jittered, 0.24)
        XCTAssertLessThan(jittered, 1.5)

        let listed = try control.call("GET", "/proxies/p/toxics", on: control.tcp)
        XCTAssertEqual((listed.json as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["latency_downstream"])
        XCTAssertEqual(try control.call("DELETE", "/proxies/p/toxics/latency_downstream", on: control.tcp).status, 204)
        XCTAssertLessThan(try roundTrip(open, Array("free".utf8)), 0.2)
        XCTAssertEqual(try control.call("DELETE", "/proxies/p/toxics/latency_downstream", on: control.tcp).object["error"] as? String, "toxic not found")
    }

    /// bandwidth: rate is KB/s (1000 bytes): 30,000 bytes at 20 KB/s take about 1.5 s.
    func testBandwidthToxic() throws {
        let (control, echo) = try start()
        let listen = try createProxy(control, "p", echo.endpoint)
        _ = try addToxic(control, "p", #"{"type":"bandwidth","stream":"downstream","attributes":{"rate":20}}"#)
        let client = try TestSocket.connect(to: listen)
        let payload = randomBytes(30_000, seed: 3)
        let seconds = try roundTrip(client, payload, timeout: .seconds(10))
        XCTAssertGreaterThanOrEqual(seconds, 1.4, "30000 bytes at 20000 B/s")
        XCTAssertLessThan(seconds, 3.0)
    }

    /// limit_data: exactly `bytes` bytes pass in the direction, then the connection closes.
    func testLimitDataToxic() throws {
        let (control, echo) = try start()
        let listen = try createProxy(control, "p", echo.endpoint)
        _ = try addToxic(control, "p", #"{"type":"limit_data","stream":"downstream","attributes":{"bytes":1000}}"#)
        let client = try TestSocket.connect(to: listen)
        let payload = randomBytes(5_000, seed: 4)
        try client.send(payload)
        let back = try client.readAll(timeout: .seconds(5))
        XCTAssertEqual(back, Array(payload.prefix(1000)))
    }

    /// reset_peer: the client sees ECONNRESET `timeout` ms later. Unlike Toxiproxy, a connection
    /// that ends by itself before then closes cleanly, half-close included (no RST on every close).
    func testResetPeerToxic() throws {
        let (control, echo) = try start()
        let listen = try createProxy(control, "p", echo.endpoint)
        _ = try addToxic(control, "p", #"{"name":"rst","type":"reset_peer","stream":"downstream","attributes":{"timeout":300}}"#)
        let client = try TestSocket.connect(to: listen)
        let start = Deadline.now()
        try client.send(Array("hello".utf8))
        var outcome: ReadOutcome = .timedOut
        while true {
            outcome = client.read(timeout: .seconds(3))
            if case .data = outcome { continue }
            break
        }
        let seconds = Double(Deadline.now() - start) / 1e9
        XCTAssertEqual(outcome, .reset)
        XCTAssertGreaterThanOrEqual(seconds, 0.25)
        XCTAssertLessThan(seconds, 2.0)

        let patched = try control.call("PATCH", "/proxies/p/toxics/rst", #"{"attributes":{"timeout":5000}}"#, on: control.tcp)
        XCTAssertEqual(patched.status, 200)
        let polite = try TestSocket.connect(to: listen)
        let payload = randomBytes(20_000, seed: 5)
        try polite.send(payload)
        try polite.shutdownWrite()
        let (back, elapsed) = try timed { try polite.readAll(timeout: .seconds(3)) }
        XCTAssertEqual(back, payload, "half-close: the echo after our FIN arrives in full, then a clean FIN")
        XCTAssertLessThan(elapsed, 2.0)
    }

    /// timeout: data stops, and the connection is closed `timeout` ms after the toxic took effect.
    func testTimeoutToxic() throws {
        let (control, echo) = try start()
        let listen = try createProxy(control, "p", echo.endpoint)
        _ = try addToxic(control, "p", #"{"type":"timeout","stream":"upstream","attributes":{"timeout":400}}"#)
        let start = Deadline.now()
        let client = try TestSocket.connect(to: listen)
        try client.send(Array("lost".utf8))
        var got: [UInt8] = []
        var closed: CloseKind?
        let deadline = Deadline(after: .seconds(3))
        while closed == nil && !deadline.hasPassed {
            switch client.read(timeout: deadline.remaining) {
            case .data(let bytes): got += bytes
            case .eof: closed = .eof
            case .reset, .error: closed = .reset
            case .timedOut: break
            }
        }
        let seconds = Double(Deadline.now() - start) / 1e9
        XCTAssertEqual(got, [], "a timeout toxic drops the data")
        XCTAssertNotNil(closed, "closed after the timeout")
        XCTAssertGreaterThanOrEqual(seconds, 0.35)
        XCTAssertLessThan(seconds, 2.5)
    }

    /// slow_close: data comes at once; the FIN comes `delay` ms later.
    func testSlowCloseToxic() throws {
        let (control, echo) = try start()
        let listen = try createProxy(control, "p", echo.endpoint)
        _ = try addToxic(control, "p", #"{"type":"slow_close","stream":"downstream","attributes":{"delay":500}}"#)
        let client = try TestSocket.connect(to: listen)
        let start = Deadline.now()
        try client.send(Array("bye".utf8))
        try client.shutdownWrite()
        XCTAssertEqual(try client.read(exactly: 3, timeout: .seconds(2)), Array("bye".utf8))
        let dataSeconds = Double(Deadline.now() - start) / 1e9
        XCTAssertLessThan(dataSeconds, 0.3, "data before the FIN is not delayed")
        XCTAssertEqual(client.waitForClose(timeout: .seconds(3)), .eof)
        let finSeconds = Double(Deadline.now() - start) / 1e9
        XCTAssertGreaterThanOrEqual(finSeconds, 0.45)
        XCTAssertLessThan(finSeconds, 2.0)
    }

    /// slicer: writes come as slices of `average_size ± size_variation` bytes, `delay` µs apart.
    func testSlicerToxic() throws {
        let (control, echo) = try start()
        let listen = try createProxy(control, "p", echo.endpoint)
        _ = try addToxic(control, "p", #"{"type":"slicer","stream":"downstream","attributes":{"average_size":10,"size_variation":4,"delay":20000}}"#)
        let client = try TestSocket.connect(to: listen)
        let payload = randomBytes(200, seed: 6)
        let start = Deadline.now()
        try client.send(payload)
        var reads: [[UInt8]] = []
        var total = 0
        while total < payload.count {
            guard case .data(let bytes) = client.read(timeout: .seconds(3)) else { break }
            reads.append(bytes)
            total += bytes.count
        }
        let seconds = Double(Deadline.now() - start) / 1e9
        XCTAssertEqual(Array(reads.joined()), payload)
        XCTAssertGreaterThanOrEqual(reads.count, 10, "200 bytes in slices of 6…14: at least 15 slices, some may coalesce")
        XCTAssertLessThanOrEqual(reads.map(\.count).min() ?? 0, 14)
        // At least 14 gaps of 20 ms.
        XCTAssertGreaterThanOrEqual(seconds, 0.25)
        XCTAssertLessThan(seconds, 3.0)
    }

    /// POST /reset enables every proxy and removes every toxic; POST /populate creates, keeps and
    /// replaces; both journal ordinary route and fault events.
    func testResetAndPopulate() throws {
        let (control, echo) = try start()
        let a = try createProxy(control, "a", echo.endpoint)
        let b = try createProxy(control, "b", echo.endpoint)
        _ = try addToxic(control, "a", #"{"type":"latency","attributes":{"latency":500}}"#)
        _ = try addToxic(control, "a", #"{"type":"timeout","stream":"upstream","toxicity":0}"#)
        XCTAssertEqual(try control.call("PATCH", "/proxies/b", #"{"enabled":false}"#, on: control.tcp).status, 200)

        let reset = try control.call("POST", "/reset", on: control.tcp)
        XCTAssertEqual(reset.status, 204)
        XCTAssertEqual(reset.body, [])
        let proxies = try control.call("GET", "/proxies", on: control.tcp).object
        XCTAssertEqual((proxies["a"] as? [String: Any])?["toxics"] as? [String], [])
        XCTAssertEqual((proxies["b"] as? [String: Any])?["enabled"] as? Bool, true)
        let client = try TestSocket.connect(to: a)
        XCTAssertLessThan(try roundTrip(client, Array("quick".utf8)), 0.3)
        try assertEchoes(b)

        let other = try EchoServer(threads: 1)
        let populated = try control.call("POST", "/populate", #"""
            [{"name":"a","listen":"\#(a)","upstream":"\#(echo.endpoint)"},
             {"name":"c","listen":"127.0.0.1:0","upstream":"\#(other.endpoint)"}]
            """#, on: control.tcp)
        XCTAssertEqual(populated.status, 201, populated.text)
        let list = try XCTUnwrap(populated.object["proxies"] as? [[String: Any]])
        XCTAssertEqual(list.compactMap { $0["name"] as? String }, ["a", "c"])
        XCTAssertEqual(list[0]["listen"] as? String, a.description, "an unchanged proxy is kept")
        let c = try XCTUnwrap((list[1]["listen"] as? String).flatMap(Endpoint.init(parsing:)))
        try assertEchoes(c)
        XCTAssertEqual(other.stats.accepted, 1)
        XCTAssertLessThan(try roundTrip(client, Array("still".utf8)), 0.3, "a kept proxy keeps its connections")

        let bad = try control.call("POST", "/populate", #"[{"name":"d","upstream":"\#(echo.endpoint)"},{"upstream":"\#(echo.endpoint)"}]"#, on: control.tcp)
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(bad.object["error"] as? String, "missing required field: name at proxy 2")
        XCTAssertEqual(try control.call("GET", "/proxies/d", on: control.tcp).status, 404, "a refused populate creates nothing")

        let journal = try control.call("GET", "/v1/journal").text
        let events = journal.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        let names = events.compactMap { event -> String? in
            guard let name = event["event"] as? String else { return nil }
            return name + ":" + ((event["route"] as? String) ?? (event["id"] as? String) ?? ((event["fault"] as? [String: Any])?["id"] as? String) ?? "")
        }
        XCTAssertEqual(names, [
            "daemon.started:", "route.added:a", "route.added:b", "fault.applied:toxiproxy.a.latency_downstream",
            "fault.applied:toxiproxy.a.timeout_upstream", "route.updated:b", "route.disabled:b", "route.enabled:b",
            "fault.cleared:toxiproxy.a.latency_downstream", "fault.cleared:toxiproxy.a.timeout_upstream", "route.added:c",
        ])
    }
}
