import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// `GET /metrics` through the real daemon: exact counters (SPEC §5) and a valid exposition.
final class MetricsTests: DaemonTestCase {
    /// The value of the sample line `name{labels}` (labels written exactly as exposed), or nil.
    private func sample(_ text: String, _ series: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return String(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// Scrapes until every `expected` series has its value (counters of closing connections are
    /// folded in by the workers as the connections end), at most 5 s; returns the last scrape.
    private func scrape(_ control: ControlDaemon, until expected: [String: String]) throws -> String {
        let deadline = Deadline(after: .seconds(5))
        while true {
            let reply = try control.call("GET", "/metrics")
            XCTAssertEqual(reply.status, 200)
            if expected.allSatisfy({ sample(reply.text, $0.key) == $0.value }) || deadline.hasPassed { return reply.text }
            usleep(20_000)
        }
    }

    /// N connections of M bytes each through route r: bytes in each direction are exactly N×M,
    /// accepted connections exactly N; applying a fault counts one injection per bound direction.
    func testCountersAreExact() throws {
        let echo = try EchoServer(threads: 2)
        let control = try ControlDaemon(routes: [("r", echo.endpoint)])
        let route = try control.bound("r")
        let connections = 6
        let bytesEach = 40_000
        for index in 0..<connections {
            try assertEchoes(route, bytes: randomBytes(bytesEach, seed: UInt64(index)))
        }
        let total = "\(connections * bytesEach)"
        let expected = [
            #"faultline_bytes_total{route="r",direction="upstream"}"#: total,
            #"faultline_bytes_total{route="r",direction="downstream"}"#: total,
            #"faultline_connections_accepted_total{route="r"}"#: "\(connections)",
            #"faultline_connections_active{route="r"}"#: "0",
        ]
        let text = try scrape(control, until: expected)
        for (series, value) in expected.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(sample(text, series), value, series)
        }
        XCTAssertNotNil(sample(text, #"faultline_faults_active{type="latency"}"#))
        XCTAssertEqual(sample(text, #"faultline_faults_active{type="latency"}"#), "0")

        // A downstream fault binds once per connection: one injection for one connection.
        let applied = try control.call("POST", "/v1/faults", #"{"id":"lag","route":"r","type":"latency","direction":"downstream","delay":"1ms"}"#)
        XCTAssertEqual(applied.status, 201, applied.text)
        try assertEchoes(route, bytes: randomBytes(1_000, seed: 99))
        let after = try scrape(control, until: [#"faultline_fault_injections_total{route="r",fault="lag",type="latency"}"#: "1"])
        XCTAssertEqual(sample(after, #"faultline_fault_injections_total{route="r",fault="lag",type="latency"}"#), "1")
        XCTAssertEqual(sample(after, #"faultline_faults_active{type="latency"}"#), "1")
        XCTAssertEqual(sample(after, #"faultline_connections_accepted_total{route="r"}"#), "\(connections + 1)")
        XCTAssertEqual(sample(after, #"faultline_bytes_total{route="r",direction="upstream"}"#), "\(connections * bytesEach + 1_000)")
    }

    /// `promtool check metrics` accepts the scraped text (with routes, a fault and traffic in it).
    func testPromtoolAcceptsTheExposition() throws {
        let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let promtool else {
            throw XCTSkip("promtool is not installed (Debian package prometheus); Scripts/test should install it")
        }
        let echo = try EchoServer(threads: 1)
        let control = try ControlDaemon(routes: [("r", echo.endpoint), ("s", echo.endpoint)])
        XCTAssertEqual(try control.call("POST", "/v1/faults", #"{"id":"lag","route":"r","type":"latency","delay":"1ms"}"#).status, 201)
        try assertEchoes(try control.bound("r"), bytes: randomBytes(10_000, seed: 1))
        let reply = try control.call("GET", "/metrics")
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.header("Content-Type"), "text/plain; version=0.0.4")
        let path = control.directory + "/metrics.txt"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(reply.body)))
        let check = try runProcess(["/bin/sh", "-c", "\(promtool) check metrics < '\(path)'"], timeout: .seconds(20))
        XCTAssertEqual(check.status, 0, "promtool check metrics:\n\(check.output)\n--- exposition ---\n\(reply.text)")
    }
}
