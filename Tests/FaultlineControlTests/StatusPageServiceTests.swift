import FaultlineConfig
import FaultlineControl
import FaultlineCore
import FaultlineMetrics
import FaultlineSystem
import Synchronization
import Testing

/// The status page without sockets: `GET /ui` and its files, and the snapshot the page draws from.
@Suite struct StatusPageServiceTests {
    static let config = """
        {"version": 1, "seed": 7,
         "nodes": {"n3": {"addresses": ["10.0.0.3"]}},
         "routes": [
           {"name": "api", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9001", "from": "n1", "to": "n2", "protocol": "http"},
           {"name": "db", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9002", "from": "n2", "to": "n3"},
           {"name": "hub", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9003", "to": "n1"},
           {"name": "plain", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9004"}
         ],
         "faults": [
           {"id": "flaky", "route": "api", "type": "abort", "status": 503, "probability": 0.5},
           {"id": "cut", "type": "partition", "groups": [["n1"], ["n2", "n3"]], "one_way": true}
         ],
         "schedule": {"start": "manual", "steps": [
           {"at": "1s", "apply": {"id": "lag", "route": "db", "type": "latency", "delay": "10ms"}, "for": "30s"}
         ]}}
        """

    /// A started service on `config`, with the proxy's metric families registered under their
    /// SPEC §5 names (as `ProxyMetrics` registers them) and a clock the test moves.
    final class Harness {
        let plane = FakeDataPlane()
        let journal: Journal
        let registry = MetricsRegistry()
        let service: ControlService
        let clock = TestClock()
        let bytes = CounterFamily(name: "faultline_bytes_total", help: "b", labelNames: ["route", "direction"])
        let accepted = CounterFamily(name: "faultline_connections_accepted_total", help: "a", labelNames: ["route"])
        let active = GaugeFamily(name: "faultline_connections_active", help: "o", labelNames: ["route"])
        let http = CounterFamily(name: "faultline_http_requests_total", help: "h", labelNames: ["route", "code"])
        let injections = CounterFamily(name: "faultline_fault_injections_total", help: "i", labelNames: ["route", "fault", "type"])

        init(json: String = StatusPageServiceTests.config, proxyFamilies: Bool = true) throws {
            journal = try Journal(path: nil, log: Logger(minimumLevel: .error), clock: { 1_700_000_000_123_456_000 })
            let metrics = ControlMetrics()
            metrics.register(into: registry)
            if proxyFamilies {
                for family in [bytes, accepted, http, injections] { registry.register(family) }
                registry.register(active)
            }
            let clock = self.clock
            service = ControlService(
                config: decodeConfig(json), configPath: "/etc/f.json", dataPlane: plane, journal: journal,
                registry: registry, metrics: metrics, version: "1.2.3", log: Logger(minimumLevel: .error),
                monotonicClock: { clock.now }, realtimeClock: { 1_700_000_000_000_000_000 }
            )
            try service.start()
        }

        func advance(_ duration: Duration) {
            clock.advance(duration)
        }

        func call(_ method: String, _ target: String, _ text: String = "", on listener: ControlListenerKind = .unix) -> ControlResponse {
            service.handle(ControlRequest(method: method, target: target, body: Array(text.utf8))!, on: listener)
        }
    }

    /// Every part of the snapshot, exactly: links with their cuts (a one-way partition cuts `api`
    /// n1 → n2 on the way there and the learned caller n3's link to n1 on the way back), routes with
    /// their running totals summed over worker shards and HTTP codes by class, faults with their
    /// injections and the time the schedule's `for` leaves `lag`.
    @Test func theSnapshotIsTheAPIsStateWithTheCounters() throws {
        let harness = try Harness()
        harness.bytes.shard(labels: ["api", "upstream"], worker: 0).add(100)
        harness.bytes.shard(labels: ["api", "upstream"], worker: 1).add(50)
        harness.bytes.shard(labels: ["api", "downstream"], worker: 0).add(400)
        harness.accepted.shard(labels: ["api"], worker: 1).add(3)
        harness.active.shard(labels: ["api"], worker: 0).add(1)
        harness.http.shard(labels: ["api", "200"], worker: 0).add(5)
        harness.http.shard(labels: ["api", "503"], worker: 1).add(2)
        harness.http.shard(labels: ["api", "reset"], worker: 0).add(1)
        harness.injections.shard(labels: ["api", "flaky", "abort"], worker: 0).add(2)
        harness.bytes.shard(labels: ["db", "downstream"], worker: 1).add(7)

        #expect(harness.call("POST", "/v1/schedule/start").status == 200)
        harness.advance(.seconds(1))
        harness.service.scheduleTick()
        harness.advance(.seconds(10))

        let response = harness.call("GET", "/v1/ui/snapshot")
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.headers["Cache-Control"] == "no-store")
        let expected = #"""
            {"version":"1.2.3","uptime_ms":11000,"time":"2023-11-14T22:13:20.000000Z","seed":7,"plan_version":2,"workers":2,\#
            "open_connections":7,"journal_last":4,"nodes":["n1","n2","n3"],\#
            "links":[\#
            {"route":"api","from":"n1","to":"n2","learned":false,"enabled":true,"cut":"upstream","partitions":["cut"]},\#
            {"route":"db","from":"n2","to":"n3","learned":false,"enabled":true,"cut":null,"partitions":[]},\#
            {"route":"hub","from":"n3","to":"n1","learned":true,"enabled":true,"cut":"downstream","partitions":["cut"]}],\#
            "routes":[\#
            {"name":"api","listen":"127.0.0.1:0","bound":"127.0.0.1:40000","upstream":"127.0.0.1:9001","protocol":"http","from":"n1",\#
            "to":"n2","enabled":true,"tls":null,"upstream_tls":null,"upstream_protocol":null,"origin":"config","traffic":{"bytes_upstream":150,"bytes_downstream":400,"connections_accepted":3,\#
            "connections_active":1,"http":{"1xx":0,"2xx":5,"3xx":0,"4xx":0,"5xx":2,"other":1}}},\#
            {"name":"db","listen":"127.0.0.1:0","bound":"127.0.0.1:40001","upstream":"127.0.0.1:9002","protocol":"tcp","from":"n2",\#
            "to":"n3","enabled":true,"tls":null,"upstream_tls":null,"upstream_protocol":null,"origin":"config","traffic":{"bytes_upstream":0,"bytes_downstream":7,"connections_accepted":0,\#
            "connections_active":0}},\#
            {"name":"hub","listen":"127.0.0.1:0","bound":"127.0.0.1:40002","upstream":"127.0.0.1:9003","protocol":"tcp","from":null,\#
            "to":"n1","enabled":true,"tls":null,"upstream_tls":null,"upstream_protocol":null,"origin":"config","traffic":{"bytes_upstream":0,"bytes_downstream":0,"connections_accepted":0,\#
            "connections_active":0}},\#
            {"name":"plain","listen":"127.0.0.1:0","bound":"127.0.0.1:40003","upstream":"127.0.0.1:9004","protocol":"tcp","from":null,\#
            "to":null,"enabled":true,"tls":null,"upstream_tls":null,"upstream_protocol":null,"origin":"config","traffic":{"bytes_upstream":0,"bytes_downstream":0,"connections_accepted":0,\#
            "connections_active":0}}],\#
            "faults":[\#
            {"fault":{"id":"flaky","type":"abort","route":"api","probability":0.5,"status":503,"body":"","headers":{},"mark":false},\#
            "origin":"config","injections":2,"ends":null},\#
            {"fault":{"id":"cut","type":"partition","route":"*","groups":[["n1"],["n2","n3"]],"mode":"blackhole","one_way":true},\#
            "origin":"config","injections":0,"ends":null},\#
            {"fault":{"id":"lag","type":"latency","route":"db","direction":"both","probability":1.0,"delay":"10ms","jitter":"0s",\#
            "distribution":"uniform"},"origin":"runtime","injections":0,"ends":{"in_ms":20000,"step":0,"by":"for","paused":false}}],\#
            "schedule":{"state":"running","start":"manual","steps_run":1,"steps_total":2,"elapsed_ms":11000,\#
            "started_at":"2023-11-14T22:13:09.000000Z","next":{"step":0,"iteration":0,"action":"clear","fault":"lag","automatic":true,\#
            "due":"31s","due_at":"2023-11-14T22:13:40.000000Z","due_in_ms":20000},"applied":["lag"]}}

            """#
        #expect(response.bodyText == expected)
        // Every link the snapshot shows cut is one the plan counts as blocked.
        #expect(harness.service.state.partitionLinksBlocked == 2)
    }

    /// While the schedule is paused its clock stands still, and so does the time a fault has left.
    @Test func timeLeftStandsStillWhileTheScheduleIsPaused() throws {
        let harness = try Harness()
        #expect(harness.call("POST", "/v1/schedule/start").status == 200)
        harness.advance(.seconds(5))
        harness.service.scheduleTick()
        #expect(harness.call("POST", "/v1/schedule/pause").status == 200)
        harness.advance(.seconds(100))
        let lag = harness.service.uiSnapshotJSON().objectValue?["faults"]?.arrayValue?.last?.objectValue
        #expect(lag?["ends"] == ["in_ms": 26000, "step": 0, "by": "for", "paused": true])
        #expect(harness.call("DELETE", "/v1/faults/lag").status == 204)
        let faults = harness.service.uiSnapshotJSON().objectValue?["faults"]?.arrayValue ?? []
        #expect(faults.compactMap { $0.objectValue?["fault"]?.objectValue?["id"]?.stringValue } == ["flaky", "cut"])
    }

    /// A registry without the proxy's families (a control server alone) reads as zeros, and a two-way
    /// partition cuts both ways.
    @Test func withoutCountersTrafficIsZeroAndATwoWayCutIsBoth() throws {
        let harness = try Harness(json: """
            {"version": 1, "routes": [{"name": "r", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "from": "a", "to": "b"}],
             "faults": [{"id": "split", "type": "partition", "groups": [["a"], ["b"]]}]}
            """, proxyFamilies: false)
        let snapshot = harness.service.uiSnapshotJSON().objectValue
        #expect(snapshot?["links"] == [["route": "r", "from": "a", "to": "b", "learned": false, "enabled": true, "cut": "both",
                                        "partitions": ["split"]]])
        #expect(snapshot?["schedule"] == ["state": "none"])
        #expect(snapshot?["routes"]?.arrayValue?.first?.objectValue?["traffic"] == [
            "bytes_upstream": 0, "bytes_downstream": 0, "connections_accepted": 0, "connections_active": 0,
        ])
    }

    @Test func thePageAndItsFilesAreServedFromTheBinary() throws {
        let harness = try Harness()
        for listener in [ControlListenerKind.unix, .tcp] {
            let page = harness.call("GET", "/ui", on: listener)
            #expect(page.status == 200)
            #expect(page.headers["Content-Type"] == "text/html; charset=utf-8")
            #expect(page.headers["Content-Security-Policy"]?.hasPrefix("default-src 'none'; script-src 'self'; style-src 'self';") == true)
            #expect(page.headers["X-Content-Type-Options"] == "nosniff")
            #expect(page.bodyText.contains(#"<script src="/ui/app.js" defer></script>"#))
            #expect(!page.bodyText.contains("http://") && !page.bodyText.contains("https://"), "the page loads nothing from elsewhere")
        }
        let script = harness.call("GET", "/ui/app.js")
        #expect(script.headers["Content-Type"] == "text/javascript; charset=utf-8")
        #expect(script.bodyText.contains(#"fetch("/v1/ui/snapshot""#))
        #expect(!script.bodyText.contains("innerHTML"), "daemon text goes into the DOM as text only")
        #expect(harness.call("GET", "/ui/app.css").headers["Content-Type"] == "text/css; charset=utf-8")
        // Small enough to serve from the binary: a few tens of KB together.
        let total = ["/ui", "/ui/app.js", "/ui/app.css"].map { harness.call("GET", $0).body.count }.reduce(0, +)
        #expect(total > 10_000 && total < 80_000, "\(total) bytes")
    }

    @Test(arguments: [
        ("POST", "/ui", 405, "GET"),
        ("DELETE", "/ui/app.js", 405, "GET"),
        ("PUT", "/v1/ui/snapshot", 405, "GET"),
        ("GET", "/ui/nope", 404, nil as String?),
        ("GET", "/ui?x=1", 400, nil),
        ("GET", "/v1/ui/snapshot?since=1", 400, nil),
        ("GET", "/v1/ui", 404, nil),
    ])
    func onlyGETsOfThePageExist(method: String, target: String, status: Int, allow: String?) throws {
        let response = try Harness().call(method, target)
        #expect(response.status == status)
        #expect(response.headers["Allow"] == allow)
    }

    @Test func theMetricsListenerHasNoPage() throws {
        let harness = try Harness()
        #expect(harness.call("GET", "/ui", on: .metrics).status == 404)
        #expect(harness.call("GET", "/v1/ui/snapshot", on: .metrics).status == 404)
    }
}

/// Monotonic nanoseconds the test moves, readable from the service's clock closure.
final class TestClock: Sendable {
    private let value = Mutex<UInt64>(5_000_000_000)
    var now: UInt64 { value.withLock { $0 } }
    func advance(_ duration: Duration) { value.withLock { $0 += duration.nanosecondsClamped } }
}
