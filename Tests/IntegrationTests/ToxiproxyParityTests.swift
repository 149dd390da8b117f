import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// Where Faultline's Toxiproxy API used to differ from Toxiproxy 2.12 (issue 17), and the
/// housekeeping a suite that makes a proxy per test runs into, against the real daemon: the PyPI
/// `toxiproxy-python` client (in .build/venv, from Scripts/test's `ensure_pip`) and raw HTTP.
final class ToxiproxyParityTests: DaemonTestCase {
    private static let browser = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

    private func start() throws -> (ControlDaemon, EchoServer) {
        let echo = try EchoServer(threads: 1)
        return (try ControlDaemon(routes: []), echo)
    }

    /// Runs `script` with the project's Python (toxiproxy-python installed), its API pointed at
    /// the daemon's TCP control listener; `ECHO` is the echo upstream. Fails on a non-zero exit.
    private func runClient(_ script: String, _ control: ControlDaemon, echo: EchoServer) throws -> String {
        let python = try projectPython()
        let path = NSTemporaryDirectory() + "toxiproxy-client-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try runTool(
            [python, path],
            environment: ["TOXIPROXY_PORT": "\(control.http.port)", "ECHO": echo.endpoint.description, "PYTHONDONTWRITEBYTECODE": "1"],
            timeout: .seconds(120))
        XCTAssertEqual(run.status, 0, "toxiproxy-python script failed:\n\(run.output)")
        return run.output
    }

    private static let clientPrelude = #"""
        import json, os, socket, sys
        import requests
        from toxiproxy import Toxiproxy
        from toxiproxy.api import APIConsumer
        from toxiproxy.exceptions import InvalidToxic

        server = Toxiproxy()
        server.update_api_consumer("127.0.0.1", int(os.environ["TOXIPROXY_PORT"]))
        assert server.running()
        ECHO = os.environ["ECHO"]
        BASE = "http://127.0.0.1:%s" % os.environ["TOXIPROXY_PORT"]

        def address(proxy):
            host, port = proxy.listen.rsplit(":", 1)
            return host, int(port)

        def echo_through(proxy, payload):
            with socket.create_connection(address(proxy), timeout=5) as s:
                s.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                return got

        """#

    /// 1. Toxiproxy refuses a browser's User-Agent with 403 `User agent not allowed`, so a web
    /// page cannot drive it; Faultline does the same on Toxiproxy's paths and refuses every
    /// change from a browser on the TCP control listener (the status page, GET only, still opens).
    func testBrowserUserAgentIsRefusedOnTheTCPListener() throws {
        let (control, echo) = try start()
        let ua = ["User-Agent": Self.browser]
        let version = try control.call("GET", "/version", on: control.tcp, headers: ua)
        XCTAssertEqual(version.status, 403, version.text)
        XCTAssertEqual(version.text, "User agent not allowed\n", "Toxiproxy's body")
        let create = try control.call("POST", "/proxies", #"{"name":"web","upstream":"\#(echo.endpoint)"}"#, on: control.tcp, headers: ua)
        XCTAssertEqual(create.status, 403)
        XCTAssertEqual(try control.call("GET", "/proxies/web", on: control.tcp).status, 404, "a refused request changes nothing")

        // The /v1 API on the same listener: no change from a browser, reads are fine.
        let fault = try control.call("POST", "/v1/faults", #"{"type":"blackhole","route":"*"}"#, on: control.tcp, headers: ua)
        XCTAssertEqual(fault.status, 403, fault.text)
        XCTAssertEqual(fault.errorCode, "forbidden")
        let partition = try control.call("POST", "/v1/partitions", #"{"between":[["a"],["b"]]}"#, on: control.tcp, headers: ua)
        XCTAssertEqual(partition.status, 403, partition.text)
        XCTAssertEqual((try control.call("GET", "/v1/faults").object["faults"] as? [Any])?.count, 0, "nothing was applied")
        XCTAssertEqual(try control.call("GET", "/v1/status", on: control.tcp, headers: ua).status, 200)
        XCTAssertEqual(try control.call("GET", "/ui", on: control.tcp, headers: ua).status, 200, "the status page opens in a browser")
        // Not a browser: served as before; the Unix socket has no such guard (no page can reach it).
        XCTAssertEqual(try control.call("GET", "/version", on: control.tcp, headers: ["User-Agent": "curl/8.5.0"]).status, 200)
        XCTAssertNotEqual(try control.call("POST", "/v1/faults", #"{"id":"b","type":"blackhole","route":"*"}"#, headers: ua).status, 403)

        // toxiproxy-python sends python-requests' agent: allowed; with a browser's: refused.
        _ = try runClient(Self.clientPrelude + #"""
            assert APIConsumer.get("/version").status_code == 200
            refused = requests.get(BASE + "/proxies", headers={"User-Agent": "Mozilla/5.0 (Macintosh)"})
            assert refused.status_code == 403, refused.status_code
            assert refused.text == "User agent not allowed\n", refused.text
            """#, control, echo: echo)
    }

    /// Upstream host names, as docker-compose and testcontainers setups write them:
    /// toxiproxy-python's `create(upstream="localhost:PORT")` makes a working proxy, shown with
    /// the name; a name that does not resolve is accepted (as in Toxiproxy) and its connections
    /// are closed.
    func testUpstreamHostNamesThroughToxiproxyPython() throws {
        let (control, echo) = try start()
        let output = try runClient(Self.clientPrelude + #"""
            upstream = "localhost:%s" % ECHO.rsplit(":", 1)[1]
            proxy = server.create(upstream=upstream, name="redis")
            assert proxy.upstream == upstream, proxy.upstream
            assert server.get_proxy("redis").upstream == upstream
            payload = os.urandom(200000)
            assert echo_through(proxy, payload) == payload
            gone = server.create(upstream="does-not-exist.invalid:6379", name="gone")
            with socket.create_connection(address(gone), timeout=5) as s:
                assert s.recv(1) == b""
            print("ok", sorted(server.proxies()))
            """#, control, echo: echo)
        XCTAssertTrue(output.contains("ok ['gone', 'redis']"), output)
        let metrics = try control.call("GET", "/metrics").text
        XCTAssertTrue(metrics.contains(#"faultline_upstream_connect_failures_total{route="gone",reason="resolve"} 1"#), metrics)
    }

    /// 2. A toxic with only `type` and `stream` (every attribute absent, so 0) is accepted for
    /// every type, as in Toxiproxy, with the zero values' behaviour: a slicer of size 0 passes the
    /// data in 1-byte slices (Toxiproxy panics on it).
    func testToxicsWithOnlyTypeAndStreamAreAccepted() throws {
        let (control, echo) = try start()
        let output = try runClient(Self.clientPrelude + #"""
            types = ["latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data"]
            for t in types:
                for stream in ["upstream", "downstream"]:
                    proxy = server.create(upstream=ECHO, name="z-%s-%s" % (t, stream))
                    proxy.add_toxic(type=t, stream=stream)   # toxiproxy-python sends "attributes": {}
                    toxics = proxy.toxics()
                    assert list(toxics) == ["%s_%s" % (t, stream)], toxics
            # Raw body with nothing but type and stream.
            raw = requests.post(BASE + "/proxies/z-latency-upstream/toxics", json={"type": "slicer", "stream": "downstream"})
            assert raw.status_code == 200, raw.text
            assert raw.json()["attributes"]["size_variation"] == 0, raw.text
            # Zero slicer and zero latency: the data arrives whole.
            payload = os.urandom(3000)
            for name in ["z-slicer-upstream", "z-slicer-downstream", "z-latency-downstream"]:
                assert echo_through(server.get_proxy(name), payload) == payload, name
            print("ok", len(server.proxies()))
            """#, control, echo: echo)
        XCTAssertTrue(output.contains("ok 14"), output)
        let fault = try control.call("GET", "/v1/faults/toxiproxy.z-slicer-upstream.slicer_upstream")
        XCTAssertEqual(fault.object["average_size"] as? Int, 1, fault.text)
    }

    /// 3. `reset_peer` with `timeout: 0` on the upstream stream resets the connection before any
    /// of the client's bytes reach the upstream, as in Toxiproxy.
    func testResetPeerZeroOnUpstreamSendsNothingUpstream() throws {
        let (control, echo) = try start()
        let created = try control.call("POST", "/proxies", #"{"name":"r","listen":"127.0.0.1:0","upstream":"\#(echo.endpoint)"}"#, on: control.tcp)
        let listen = try XCTUnwrap((created.object["listen"] as? String).flatMap(Endpoint.init(parsing:)))
        let toxic = try control.call("POST", "/proxies/r/toxics", #"{"type":"reset_peer","stream":"upstream","attributes":{"timeout":0}}"#, on: control.tcp)
        XCTAssertEqual(toxic.status, 200, toxic.text)
        for round in 1...10 {
            // The bytes are sent at once, so they are there when the upstream connection comes
            // up: the moment that used to forward them before the reset.
            var outcome: ReadOutcome = .timedOut
            do {
                let client = try TestSocket.connect(to: listen)
                try client.send(randomBytes(1000, seed: UInt64(round)))
                outcome = client.read(timeout: .seconds(3))
                while case .data = outcome { outcome = client.read(timeout: .seconds(3)) }
            } catch {
                // Reset before the client's connect or send returned.
                guard "\(error)".contains("errno \(ECONNRESET)") else { throw error }
                outcome = .reset
            }
            XCTAssertEqual(outcome, .reset, "round \(round)")
        }
        let deadline = Deadline(after: .seconds(2))
        while echo.stats.accepted < 10 && !deadline.hasPassed { usleep(5_000) }
        usleep(100_000)
        XCTAssertEqual(echo.stats.bytesReceived, 0, "the upstream saw the client's bytes (\(echo.stats.accepted) connections)")
    }

    /// Housekeeping: a suite that makes a proxy (with toxics) per test leaves no metric series
    /// behind — 50 proxies created, used and deleted through toxiproxy-python, and `/metrics`
    /// names none of them or their toxics.
    func testDeletedProxiesAndToxicsLeaveNoMetricSeries() throws {
        let (control, echo) = try start()
        let output = try runClient(Self.clientPrelude + #"""
            payload = b"ping" * 10
            for i in range(50):
                proxy = server.create(upstream=ECHO, name="churn-%d" % i)
                proxy.add_toxic(type="latency", attributes={"latency": 1})
                proxy.add_toxic(type="slicer", stream="upstream", attributes={"average_size": 8})
                assert echo_through(proxy, payload) == payload
                if i == 0:
                    metrics = APIConsumer.get("/metrics").text
                    assert 'route="churn-0"' in metrics and 'fault="toxiproxy.churn-0.latency_downstream"' in metrics, metrics
                    proxy.destroy_toxic("slicer_upstream")
                    metrics = APIConsumer.get("/metrics").text
                    assert "toxiproxy.churn-0.slicer_upstream" not in metrics, "a deleted toxic's series stayed"
                    assert 'fault="toxiproxy.churn-0.latency_downstream"' in metrics
                server.destroy(proxy)
            print("ok")
            """#, control, echo: echo)
        XCTAssertTrue(output.contains("ok"), output)
        let metrics = try control.call("GET", "/metrics").text
        let left = metrics.split(separator: "\n").filter { $0.contains("churn-") }
        XCTAssertEqual(left, [], "series of deleted proxies and toxics")
        XCTAssertTrue(metrics.contains("faultline_bytes_total"), "the families themselves stay")
        // A proxy made again with a deleted one's name counts from zero.
        let again = try control.call("POST", "/proxies", #"{"name":"churn-7","upstream":"\#(echo.endpoint)"}"#, on: control.tcp)
        XCTAssertEqual(again.status, 201)
        let fresh = try control.call("GET", "/metrics").text
        XCTAssertTrue(fresh.contains(#"faultline_connections_accepted_total{route="churn-7"} 0"#), fresh)
    }

    /// Housekeeping: names and ids have a length limit (128 bytes), with the path in the error
    /// and without the name echoed back; a misspelt attribute is 400 even on a taken toxic name.
    func testNameLengthLimitAndMisspeltAttributeOnATakenName() throws {
        let (control, echo) = try start()
        let long = String(repeating: "a", count: 100_000)
        let proxy = try control.call("POST", "/proxies", #"{"name":"\#(long)","upstream":"\#(echo.endpoint)"}"#, on: control.tcp)
        XCTAssertEqual(proxy.status, 400)
        XCTAssertEqual(proxy.object["error"] as? String, "bad request body: name: is 100000 bytes long; a name is at most 128 bytes")
        let route = try control.call("POST", "/v1/routes", #"{"name":"\#(long)","listen":"127.0.0.1:0","upstream":"\#(echo.endpoint)"}"#)
        XCTAssertEqual(route.status, 422, route.text.prefix(300).description)
        XCTAssertEqual(route.errorPath, "name")
        XCTAssertLessThan(route.body.count, 1000, "the name is not echoed back")
        XCTAssertTrue(route.text.contains("is 100000 bytes long"), route.text)
        let fault = try control.call("POST", "/v1/faults", #"{"id":"\#(String(repeating: "f", count: 129))","type":"blackhole","route":"*"}"#)
        XCTAssertEqual(fault.status, 422, fault.text)
        XCTAssertEqual(fault.errorPath, "id")
        XCTAssertTrue(fault.text.contains("is 129 bytes long; a name is at most 128 bytes"), fault.text)
        let max = String(repeating: "m", count: 128)
        XCTAssertEqual(try control.call("POST", "/proxies", #"{"name":"\#(max)","upstream":"\#(echo.endpoint)"}"#, on: control.tcp).status, 201,
                       "128 bytes is allowed")
        let toxic = try control.call("POST", "/proxies/\(max)/toxics", #"{"type":"latency"}"#, on: control.tcp)
        XCTAssertEqual(toxic.status, 400, "toxiproxy.<128 bytes>.latency_downstream is longer than an id may be")
        XCTAssertTrue((toxic.object["error"] as? String)?.hasPrefix("bad request body: name: ") == true, toxic.text)

        XCTAssertEqual(try control.call("POST", "/proxies", #"{"name":"p","upstream":"\#(echo.endpoint)"}"#, on: control.tcp).status, 201)
        XCTAssertEqual(try control.call("POST", "/proxies/p/toxics", #"{"type":"latency","attributes":{"latency":5}}"#, on: control.tcp).status, 200)
        let typo = try control.call("POST", "/proxies/p/toxics", #"{"type":"latency","attributes":{"latancy":5}}"#, on: control.tcp)
        XCTAssertEqual(typo.status, 400, typo.text)
        XCTAssertTrue((typo.object["error"] as? String)?.contains("unknown attribute \"latancy\"") == true, typo.text)
        let taken = try control.call("POST", "/proxies/p/toxics", #"{"type":"latency","attributes":{"latency":6}}"#, on: control.tcp)
        XCTAssertEqual(taken.status, 409, "a well-formed toxic on a taken name is still 409")
    }
}
