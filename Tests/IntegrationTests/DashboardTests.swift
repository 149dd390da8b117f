import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// `Config/grafana/faultline.json` and `Config/prometheus/faultline-rules.yml` against a real
/// daemon's `/metrics` and promtool.
final class DashboardTests: HTTPRouteTestCase {
    private static let dashboardPath = repositoryRoot.appendingPathComponent("Config/grafana/faultline.json").path
    private static let rulesPath = repositoryRoot.appendingPathComponent("Config/prometheus/faultline-rules.yml").path
    private static let rulesTestPath = repositoryRoot.appendingPathComponent("Config/prometheus/faultline-rules.test.yml").path

    /// SPEC §5's metrics plus the three the daemon adds (rejected connections, failed accepts,
    /// request-log drops): the dashboard shows every one.
    private static let specMetrics = [
        "faultline_build_info", "faultline_connections_accepted_total", "faultline_connections_active",
        "faultline_connections_rejected_total", "faultline_accept_failures_total", "faultline_upstream_connect_failures_total",
        "faultline_bytes_total",
        "faultline_faults_active", "faultline_fault_injections_total", "faultline_http_requests_total",
        "faultline_http_request_duration_seconds", "faultline_tls_handshake_failures_total",
        "faultline_partition_links_blocked", "faultline_schedule_steps_total", "faultline_request_log_dropped_total",
        "process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds_total",
    ]

    // MARK: Reading the files

    private func dashboard() throws -> [String: Any] {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: Self.dashboardPath))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Every panel, rows' nested panels included.
    private func panels(_ dashboard: [String: Any]) -> [[String: Any]] {
        var all: [[String: Any]] = []
        for panel in dashboard["panels"] as? [[String: Any]] ?? [] {
            all.append(panel)
            all += panel["panels"] as? [[String: Any]] ?? []
        }
        return all
    }

    /// The PromQL of every panel target.
    private func panelExpressions(_ dashboard: [String: Any]) -> [(panel: String, expr: String)] {
        panels(dashboard).flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).compactMap { target in
                (target["expr"] as? String).map { (panel["title"] as? String ?? "?", $0) }
            }
        }
    }

    /// The templating queries (`label_values(METRIC{…}, label)`).
    private func variableQueries(_ dashboard: [String: Any]) -> [String] {
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        return variables.compactMap { variable in
            guard variable["type"] as? String == "query" else { return nil }
            return ((variable["query"] as? [String: Any])?["query"] as? String) ?? variable["definition"] as? String
        }
    }

    /// The rules file without comment lines.
    private func rulesText() throws -> String {
        try String(contentsOfFile: Self.rulesPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }.joined(separator: "\n")
    }

    /// Names of the recording rules (`record: NAME`).
    private func recordedNames(_ rules: String) -> Set<String> {
        Set(rules.split(separator: "\n").compactMap { line -> String? in
            var trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("- ") { trimmed.removeFirst(2) }
            guard trimmed.hasPrefix("record:") else { return nil }
            return trimmed.dropFirst("record:".count).trimmingCharacters(in: .whitespaces)
        })
    }

    /// The metric-like names in `text`: identifiers starting `faultline_` or `process_`, and
    /// recording-rule names (`level:metric:ops`, with a colon).
    private func metricNames(in text: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: #"[A-Za-z_:][A-Za-z0-9_:]*"#)
        let range = NSRange(text.startIndex..., in: text)
        var names: Set<String> = []
        for match in regex.matches(in: text, range: range) {
            let word = String(text[Range(match.range, in: text)!])
            if word.hasPrefix("faultline_") || word.hasPrefix("process_") || (word.contains(":") && word.contains("faultline_")) {
                names.insert(word)
            }
        }
        return names
    }

    /// The sample names a scrape can hold: every `# TYPE` family (with `_bucket`, `_sum`,
    /// `_count` for histograms; a family with no series yet prints only its HELP and TYPE) and
    /// every sample line's name.
    private func exportedNames(_ exposition: String) -> (families: Set<String>, names: Set<String>) {
        var families: Set<String> = []
        var names: Set<String> = []
        for line in exposition.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { continue }
                let family = String(parts[2])
                families.insert(family)
                names.insert(family)
                if parts[3] == "histogram" || parts[3] == "summary" {
                    names.formUnion(["_bucket", "_sum", "_count"].map { family + $0 })
                }
            } else if !line.hasPrefix("#") {
                names.insert(String(line.prefix { $0 != "{" && $0 != " " }))
            }
        }
        return (families, names)
    }

    // MARK: Tests

    /// `promtool check rules` accepts the rules; `promtool test rules` runs their unit tests
    /// (the hour-long alert fires after 60 minutes of a fault in force, not at 59, restarts its
    /// hour after a heal; the recording rules compute the rates they say).
    func testPromtoolChecksAndTestsTheRules() throws {
        let promtool = try promtoolPath()
        let check = try runTool([promtool, "check", "rules", Self.rulesPath], timeout: .seconds(30))
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("SUCCESS"), check.output)
        let test = try runTool([promtool, "test", "rules", Self.rulesTestPath], timeout: .seconds(60))
        XCTAssertEqual(test.status, 0, test.output)
        XCTAssertTrue(test.output.contains("SUCCESS"), test.output)
        let rules = try rulesText()
        XCTAssertTrue(rules.contains("alert: FaultlineFaultActiveTooLong"))
        XCTAssertTrue(rules.contains("for: 1h"))
    }

    /// Every panel query is valid PromQL: with Grafana's variables filled in, each is written as
    /// a recording rule and promtool parses the lot.
    func testEveryPanelQueryParses() throws {
        let promtool = try promtoolPath()
        let expressions = panelExpressions(try dashboard())
        XCTAssertGreaterThanOrEqual(expressions.count, 20)
        var yaml = "groups:\n  - name: dashboard\n    rules:\n"
        for (index, item) in expressions.enumerated() {
            let expr = item.expr.replacingOccurrences(of: "$__rate_interval", with: "5m")
                .replacingOccurrences(of: "$instance", with: ".*").replacingOccurrences(of: "$route", with: ".*")
            XCTAssertFalse(expr.contains("$"), "\(item.panel): a variable the test does not know: \(item.expr)")
            let indented = expr.split(separator: "\n").map { "          " + $0 }.joined(separator: "\n")
            yaml += "      - record: dashboard:panel_\(index):check\n        expr: |\n\(indented)\n"
        }
        let directory = try makeScratchDirectory("fl-dash")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/panels.yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let check = try runTool([promtool, "check", "rules", path], timeout: .seconds(30))
        XCTAssertEqual(check.status, 0, "\(check.output)\n\(yaml)")
        XCTAssertTrue(check.output.contains("SUCCESS: \(expressions.count) rules found"), check.output)
    }

    /// The dashboard's shape: a Prometheus data-source variable that every panel and target
    /// uses, `instance` and `route` variables, unique panel ids, panels inside the 24-column grid.
    func testDashboardUsesItsDataSourceVariable() throws {
        let board = try dashboard()
        XCTAssertEqual(board["uid"] as? String, "faultline")
        let variables = (board["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        let source = variables.first { $0["type"] as? String == "datasource" }
        XCTAssertEqual(source?["query"] as? String, "prometheus")
        let sourceName = try XCTUnwrap(source?["name"] as? String)
        XCTAssertEqual(Set(variables.compactMap { $0["name"] as? String }), [sourceName, "instance", "route"])
        var ids: Set<Int> = []
        for panel in panels(board) {
            let title = panel["title"] as? String ?? "?"
            let id = try XCTUnwrap(panel["id"] as? Int, title)
            XCTAssertTrue(ids.insert(id).inserted, "duplicate panel id \(id)")
            let grid = try XCTUnwrap(panel["gridPos"] as? [String: Int], title)
            XCTAssertLessThanOrEqual((grid["x"] ?? 99) + (grid["w"] ?? 99), 24, title)
            guard panel["type"] as? String != "row" else { continue }
            XCTAssertEqual((panel["datasource"] as? [String: String])?["uid"], "${\(sourceName)}", title)
            let targets = panel["targets"] as? [[String: Any]] ?? []
            XCTAssertFalse(targets.isEmpty, "\(title) has no query")
            for target in targets {
                XCTAssertEqual((target["datasource"] as? [String: String])?["uid"], "${\(sourceName)}", title)
            }
        }
    }

    /// Every metric a panel, a variable or a rule names is exported by a running daemon (an http
    /// route with traffic and an abort fault, so the per-route families have series); names with
    /// a colon are recording rules the rules file defines; and the dashboard shows every metric
    /// of SPEC §5.
    func testEveryMetricTheDashboardAndRulesNameIsExported() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let web = try daemon.route()
        let client = try HTTPTestConnection(to: web)
        try expect(200, HTTPTestRequest("GET", "/ok"), on: client)
        try daemon.apply(#"{"id":"boom","type":"abort","route":"web","status":503}"#)
        try expect(503, HTTPTestRequest("GET", "/ok"), on: client)
        client.close()
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "503"], settlesAt: 1), 1)
        let exposition = try daemon.control.expect(200, "GET", "/metrics").text
        let (families, exported) = exportedNames(exposition)
        // Series the traffic made, not only HELP/TYPE lines: the check reads real names.
        for sample in [#"faultline_http_request_duration_seconds_bucket{route="web",le="+Inf"}"#,
                       #"faultline_fault_injections_total{route="web",fault="boom",type="abort"}"#,
                       #"faultline_faults_active{type="abort"}"#] {
            XCTAssertTrue(exposition.contains(sample), "no \(sample) in\n\(exposition)")
        }

        let board = try dashboard()
        let rules = try rulesText()
        let records = recordedNames(rules)
        XCTAssertGreaterThanOrEqual(records.count, 8, "recording rules: \(records)")
        for record in records { XCTAssertTrue(record.contains(":"), "recording rule \(record) is not level:metric:ops") }

        let dashboardNames = panelExpressions(board).reduce(into: Set<String>()) { $0.formUnion(metricNames(in: $1.expr)) }
            .union(variableQueries(board).reduce(into: Set<String>()) { $0.formUnion(metricNames(in: $1)) })
        let ruleNames = metricNames(in: rules)
        XCTAssertFalse(dashboardNames.isEmpty)
        for (source, names) in [("dashboard", dashboardNames), ("rules", ruleNames)] {
            for name in names.sorted() {
                if name.contains(":") {
                    XCTAssertTrue(records.contains(name), "\(source) names \(name), which no recording rule defines")
                } else {
                    XCTAssertTrue(exported.contains(name), "\(source) names \(name), which faultlined does not export; it exports \(families.sorted())")
                }
            }
        }
        for metric in Self.specMetrics {
            XCTAssertTrue(families.contains(metric), "faultlined does not export \(metric)")
            let shown = dashboardNames.contains { $0 == metric || $0.hasPrefix(metric + "_") }
            XCTAssertTrue(shown, "no panel shows \(metric)")
        }
    }
}
