import FaultlineConfig
import FaultlineControl
import FaultlineCore
import FaultlineMetrics
import FaultlineSystem
import Synchronization
import Testing

/// The API's routing, without sockets.
@Suite struct ControlServiceTests {
    final class Harness {
        let plane = FakeDataPlane()
        let journal: Journal
        let registry = MetricsRegistry()
        let metrics = ControlMetrics()
        let service: ControlService
        var fileConfig: Result<DaemonConfig, ConfigErrors>

        init() throws {
            journal = try Journal(path: nil, log: Logger(minimumLevel: .error), clock: { 1_700_000_000_123_456_000 })
            metrics.register(into: registry)
            fileConfig = .success(decodeConfig(baseConfigJSON))
            var clock: UInt64 = 1_000_000_000
            let box = Box()
            service = ControlService(
                config: decodeConfig(baseConfigJSON), configPath: "/etc/f.json", dataPlane: plane, journal: journal,
                registry: registry, metrics: metrics, version: "1.2.3", log: Logger(minimumLevel: .error),
                monotonicClock: { clock += 1_500_000_000; return clock },
                loadConfig: { _ in box.harness!.fileConfig }
            )
            box.harness = self
            try service.start()
        }

        final class Box { weak var harness: Harness? }

        func call(_ method: String, _ target: String, _ text: String = "", on listener: ControlListenerKind = .unix) -> ControlResponse {
            service.handle(ControlRequest(method: method, target: target, body: Array(text.utf8))!, on: listener)
        }
    }

    @Test func startJournalsDaemonStarted() throws {
        let harness = try Harness()
        #expect(harness.journal.entries(after: 0).entries.map(\.line) == [
            #"{"seq":1,"ts":"2023-11-14T22:13:20.123456Z","event":"daemon.started","version":"1.2.3","seed":7,"workers":2}"#,
        ])
        #expect(harness.service.state.planVersion == 1)
    }

    @Test func statusReportsTheEnvironment() throws {
        let harness = try Harness()
        let status = harness.call("GET", "/v1/status").json.objectValue
        #expect(status?["version"] == "1.2.3")
        #expect(status?["uptime_seconds"] == .double(1.5))
        #expect(status?["workers"] == 2)
        #expect(status?["open_connections"] == 7)
        #expect(status?["schedule"] == ["state": "none"])
    }

    @Test(arguments: [
        ("GET", "/v1/nope", 404, nil as String?),
        ("GET", "/", 404, nil),
        ("PUT", "/v1/status", 405, "GET"),
        ("DELETE", "/v1/routes", 405, "GET, POST"),
        ("POST", "/v1/routes/a", 405, "GET, PATCH, DELETE"),
        ("PUT", "/v1/faults", 405, "GET, POST, DELETE"),
        ("PATCH", "/v1/faults/slow", 405, "GET, DELETE"),
        ("GET", "/v1/reload", 405, "POST"),
        ("POST", "/v1/journal", 405, "GET"),
        ("GET", "/v1/partitions", 405, "POST, DELETE"),
        ("POST", "/v1/partitions", 400, nil),
        ("DELETE", "/v1/partitions", 200, nil),
        ("GET", "/v1/report", 400, nil),
        ("POST", "/v1/report", 405, "GET"),
        ("GET", "/v1/requests?route=zz", 404, nil),
        ("GET", "/v1/schedule", 200, nil),
        ("PUT", "/v1/schedule", 400, nil),
        ("POST", "/v1/schedule/start", 404, nil),
        ("POST", "/v1/schedule/resume", 404, nil),
        ("GET", "/v1/schedule/start", 405, "POST"),
        ("POST", "/v1/schedule/jump", 404, nil),
        ("GET", "/v1/routes/zz", 404, nil),
        ("GET", "/v1/faults/zz", 404, nil),
        ("GET", "/v1/status?verbose=1", 400, nil),
        ("GET", "/version", 404, nil),
    ])
    func statusCodes(method: String, target: String, status: Int, allow: String?) throws {
        let response = try Harness().call(method, target)
        #expect(response.status == status)
        #expect(response.headers["Allow"] == allow)
        if status == 501 {
            #expect(response.errorCode == "not_implemented")
            #expect(response.errorMessage == "\(method) \(target) is not implemented yet")
        }
    }

    @Test func toxiproxyPathsBelongToTheTCPListenerOnly() throws {
        let harness = try Harness()
        let tcp = harness.call("GET", "/proxies", on: .tcp)
        #expect(tcp.status == 200)
        #expect(tcp.json.objectValue != nil)
        #expect(harness.call("GET", "/version", on: .tcp).status == 200)
        #expect(harness.call("GET", "/proxies", on: .unix).status == 404)
    }

    @Test func theMetricsListenerServesOnlyMetrics() throws {
        let harness = try Harness()
        #expect(harness.call("GET", "/v1/status", on: .metrics).status == 404)
        let metrics = harness.call("GET", "/metrics", on: .metrics)
        #expect(metrics.status == 200)
        #expect(metrics.headers["Content-Type"] == "text/plain; version=0.0.4")
        #expect(metrics.bodyText.contains("faultline_faults_active{type=\"latency\"} 1\n"))
        #expect(metrics.bodyText.contains("faultline_schedule_steps_total 0\n"))
        #expect(metrics.bodyText.contains("faultline_partition_links_blocked 0\n"))
    }

    @Test func faultLifecycleThroughTheAPI() throws {
        let harness = try Harness()
        let created = harness.call("POST", "/v1/faults", #"{"id": "drop", "type": "blackhole", "route": "b"}"#)
        #expect(created.status == 201)
        #expect(harness.call("GET", "/v1/faults/drop").json == created.json)
        #expect(harness.call("GET", "/v1/faults").json.objectValue?["faults"]?.arrayValue?.count == 2)
        #expect(harness.call("GET", "/metrics").bodyText.contains("faultline_faults_active{type=\"blackhole\"} 1\n"))
        #expect(harness.call("DELETE", "/v1/faults/drop").status == 204)
        #expect(harness.call("GET", "/v1/faults/drop").status == 404)
        #expect(harness.call("DELETE", "/v1/faults").status == 200)
        #expect(harness.call("GET", "/metrics").bodyText.contains("faultline_faults_active{type=\"latency\"} 0\n"))
    }

    @Test func routeLifecycleThroughTheAPI() throws {
        let harness = try Harness()
        #expect(harness.call("POST", "/v1/routes", #"{"name": "c", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}"#).status == 201)
        #expect(harness.call("GET", "/v1/routes/c").json.objectValue?["bound"] == "127.0.0.1:40001")
        #expect(harness.call("PATCH", "/v1/routes/c", #"{"enabled": false}"#).json.objectValue?["enabled"] == false)
        #expect(harness.call("DELETE", "/v1/routes/c").status == 204)
        #expect(harness.call("GET", "/v1/routes").json.objectValue?["routes"]?.arrayValue?.count == 2)
        #expect(harness.call("GET", "/v1/routes/%7a").status == 404)
    }

    @Test func journalSinceReturnsLaterEventsAsJSONLines() throws {
        let harness = try Harness()
        _ = harness.call("POST", "/v1/faults", #"{"id": "x", "type": "stall"}"#)
        _ = harness.call("DELETE", "/v1/faults/x")
        let all = harness.call("GET", "/v1/journal")
        #expect(all.headers["Content-Type"] == "application/x-ndjson")
        #expect(all.bodyText.split(separator: "\n").count == 3)
        let later = harness.call("GET", "/v1/journal?since=2")
        #expect(later.bodyText == #"{"seq":3,"ts":"2023-11-14T22:13:20.123456Z","event":"fault.cleared","id":"x","reason":"api"}"# + "\n")
        #expect(later.headers["X-Faultline-Journal-Last"] == "3")
        #expect(harness.call("GET", "/v1/journal?since=3").bodyText == "")
        #expect(harness.call("GET", "/v1/journal?since=-1").status == 400)
        #expect(harness.call("GET", "/v1/journal?after=1").status == 400)
    }

    @Test func anInvalidReloadReportsEveryErrorAndChangesNothing() throws {
        let harness = try Harness()
        let before = harness.service.state
        let plans = harness.plane.plans.count
        harness.fileConfig = ConfigDecoder.decode(jsonText: #"{"version": 1, "workers": -1, "faults": [{"type": "latency", "delay": "20x"}]}"#)
        let response = harness.call("POST", "/v1/reload")
        #expect(response.status == 422)
        #expect(response.bodyText == #"{"error":{"code":"invalid_config","message":"must be between 0 and 256, got -1","path":"workers"},"errors":[{"path":"workers","message":"must be between 0 and 256, got -1"},{"path":"faults[0].delay","message":"\"20x\" is not a duration"}]}"# + "\n")
        #expect(harness.service.state == before)
        #expect(harness.plane.plans.count == plans)
    }

    @Test func aValidReloadAppliesTheFile() throws {
        let harness = try Harness()
        harness.fileConfig = .success(decodeConfig(#"{"version": 1, "seed": 99, "routes": [{"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9001"}]}"#))
        let response = harness.call("POST", "/v1/reload")
        #expect(response.status == 200)
        #expect(response.json.objectValue?["plan_version"] == 2)
        #expect(harness.service.state.config.seed == 99)
        #expect(harness.service.state.faults.isEmpty)
        #expect(harness.journal.entries(after: 1).entries.first?.line.contains("\"event\":\"config.reloaded\"") == true)
    }
}
