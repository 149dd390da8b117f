import FaultlineClient
import FaultlineConfig
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// `faultctl --fleet FILE`: three daemons on this machine driven as one — fan-out with per-daemon
/// output, compensation of a refused apply, merged journals, and schedules that start at the same
/// RFC 3339 instant running in step.
final class FleetTests: XCTestCase {
    private var echo: EchoServer!
    private var daemons: [ControlDaemon] = []
    private var clients: [FaultlineClient] = []
    private var fleetFile = ""

    /// Routes between n1, n2 and n3 on every daemon; `d3` lacks the route `db`.
    override func setUpWithError() throws {
        echo = try EchoServer()
        for index in 1...3 {
            var routes = [
                #"{"name":"n1-n2","listen":"127.0.0.1:0","upstream":"\#(echo.endpoint)","from":"n1","to":"n2"}"#,
                #"{"name":"n3-n1","listen":"127.0.0.1:0","upstream":"\#(echo.endpoint)","from":"n3","to":"n1"}"#,
            ]
            if index < 3 { routes.append(#"{"name":"db","listen":"127.0.0.1:0","upstream":"\#(echo.endpoint)"}"#) }
            let daemon = try ControlDaemon(routes: [], routeObjects: routes)
            daemons.append(daemon)
            clients.append(FaultlineClient(socket: daemon.socketPath, timeout: .seconds(5)))
        }
        // Two by socket, one by its TCP listener.
        fleetFile = daemons[0].directory + "/fleet.json"
        try """
            [{"name": "d1", "socket": "\(daemons[0].socketPath)"},
             {"name": "d2", "socket": "\(daemons[1].socketPath)"},
             {"name": "d3", "url": "http://\(daemons[2].http)"}]
            """.write(toFile: fleetFile, atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        daemons = []
        clients = []
        echo = nil
        super.tearDown()
    }

    private func fleet(_ arguments: String...) throws -> FaultctlRun {
        try FaultctlRun(["--fleet", fleetFile] + arguments)
    }

    func testAFleetPartitionIsAppliedAndHealedOnEveryDaemon() throws {
        let cut = try fleet("partition", "n1", "/", "n2,n3", "--id", "cut")
        XCTAssertEqual(cut.status, 0, cut.stderr)
        XCTAssertEqual(cut.stdout, ["d1", "d2", "d3"].map { name in """
            \(name): ID   TYPE       ROUTE  DIRECTION  PROBABILITY  PARAMETERS
            \(name): cut  partition  *      -          -            groups=n1/n2,n3 mode=blackhole one_way=false

            """ }.joined())
        for client in clients {
            XCTAssertEqual(try client.faults().map(\.id), ["cut"])
            XCTAssertEqual(try client.send("GET", "/v1/status").json().objectValue?["faults"]?.arrayValue?.count, 1)
        }
        let faults = try fleet("faults", "--json")
        XCTAssertEqual(faults.status, 0, faults.stderr)
        XCTAssertEqual(faults.stdout.split(separator: "\n").map { String($0.prefix(4)) }, ["d1: ", "d2: ", "d3: "])

        let heal = try fleet("heal")
        XCTAssertEqual(heal.status, 0, heal.stderr)
        XCTAssertEqual(heal.stdout, "d1: healed cut\nd2: healed cut\nd3: healed cut\n")
        for client in clients { XCTAssertEqual(try client.faults(), []) }
        let journal = try fleet("journal", "--merge", "--json")
        XCTAssertEqual(journal.status, 0, journal.stderr)
        let healed = journal.stdout.split(separator: "\n").filter { $0.contains(#""event":"partition.healed""#) }
        XCTAssertEqual(healed.map { String($0.prefix(15)) }.sorted(), [#"{"daemon":"d1","#, #"{"daemon":"d2","#, #"{"daemon":"d3","#])
    }

    /// d3 has no route `db`: it refuses, and what d1 and d2 applied is cleared again. Put first,
    /// it refuses before anyone applied: the others are skipped.
    func testAFleetApplyRefusedByOneDaemonLeavesNoneChanged() throws {
        let before = try clients.map { try $0.send("GET", "/v1/faults").text }
        let apply = try fleet("apply", "latency", "--route", "db", "--delay", "10ms", "--id", "slow")
        XCTAssertEqual(apply.status, 1, apply.stderr)
        XCTAssertEqual(apply.stderr, """
            d3: faultctl: invalid_fault: unknown route "db" (at route)
            d1: rolled back: cleared slow
            d2: rolled back: cleared slow

            """)
        XCTAssertEqual(try clients.map { try $0.send("GET", "/v1/faults").text }, before)
        for client in clients { XCTAssertEqual(try client.faults(), []) }
        let firstFile = daemons[0].directory + "/fleet-d3-first.json"
        try """
            [{"name": "d3", "url": "http://\(daemons[2].http)"}, {"name": "d1", "socket": "\(daemons[0].socketPath)"}]
            """.write(toFile: firstFile, atomically: true, encoding: .utf8)
        let early = try FaultctlRun(["--fleet", firstFile, "apply", "latency", "--route", "db", "--delay", "10ms"])
        XCTAssertEqual(early.status, 1)
        XCTAssertEqual(early.stderr, "d3: faultctl: invalid_fault: unknown route \"db\" (at route)\nd1: skipped: not applied, d3 refused\n")
        for client in clients { XCTAssertEqual(try client.faults(), []) }
        // The compensation is visible where it happened: applied, then cleared by the API.
        let events = try clients[0].journal().filter { $0.event.hasPrefix("fault.") }.map { "\($0.event) \($0.fields["reason"].map { "\($0)" } ?? "")" }
        XCTAssertEqual(events, ["fault.applied ", #"fault.cleared "api""#])

        // A clean run applies everywhere and exits 0; a clear of an id one daemon lacks exits 1.
        XCTAssertEqual(try fleet("apply", "stall", "--route", "n1-n2", "--id", "s", "--for", "1m").status, 0)
        for client in clients { XCTAssertEqual(try client.faults().map(\.id), ["s"]) }
        try clients[1].clear("s")
        let clear = try fleet("clear", "s")
        XCTAssertEqual(clear.status, 1)
        XCTAssertEqual(clear.stdout, "d1: cleared s\nd3: cleared s\n")
        XCTAssertEqual(clear.stderr, "d2: faultctl: not_found: no fault with id \"s\"\n")
    }

    /// The same schedule on each daemon, starting at one RFC 3339 instant 2 s ahead: every step
    /// lands on all three within 5 ms of each other, as the merged journal shows.
    func testSchedulesWithTheSameStartRunTheirStepsInStep() throws {
        if let reason = Sanitizer.wallClockSkipReason("5 ms spread across three daemons") { throw XCTSkip(reason) }
        let nowNanoseconds = Int64(Date().timeIntervalSince1970 * 1e9)
        let start = ReportJSON.timestamp(nowNanoseconds + 2_000_000_000)
        let schedule: JSONValue = try XCTUnwrap(try? JSONParser.parse(#"""
            {"start": "\#(start)",
             "steps": [{"at": "0s", "apply": {"id": "cut", "type": "partition", "groups": [["n1"], ["n2", "n3"]]}, "for": "300ms"},
                       {"at": "100ms", "apply": {"id": "lag", "type": "latency", "route": "n1-n2", "delay": "5ms"}},
                       {"at": "500ms", "clear": "lag"}]}
            """#).get())
        for client in clients { XCTAssertEqual(try client.send("PUT", "/v1/schedule", body: schedule).status, 200) }

        let deadline = Deadline(after: .seconds(8))
        while !deadline.hasPassed {
            let states = try clients.map { try $0.send("GET", "/v1/schedule").json().objectValue?["state"]?.stringValue }
            if states.allSatisfy({ $0 == "finished" }) { break }
            usleep(50_000)
        }
        let merged = try fleet("journal", "--merge", "--json")
        XCTAssertEqual(merged.status, 0, merged.stderr)
        var steps: [String: [(daemon: String, nanoseconds: Int64)]] = [:]
        var previous: Int64 = 0
        for line in merged.stdout.split(separator: "\n") {
            let object = try XCTUnwrap(try? JSONParser.parse(String(line)).get().objectValue, String(line))
            let ts = try XCTUnwrap(object["ts"]?.stringValue.flatMap(ReportJSON.parseTimestamp))
            XCTAssertGreaterThanOrEqual(ts, previous, "merged by ts")
            previous = ts
            guard object["event"] == "schedule.step" else { continue }
            let key = "\(object["step"].map { "\($0)" } ?? "")/\(object["action"]?.stringValue ?? "")"
            XCTAssertEqual(object["result"], "ok", String(line))
            steps[key, default: []].append((try XCTUnwrap(object["daemon"]?.stringValue), ts))
        }
        XCTAssertEqual(steps.keys.sorted(), ["0/apply", "0/clear", "1/apply", "2/clear"])
        let startNanoseconds = try XCTUnwrap(ReportJSON.parseTimestamp(start))
        for (key, landings) in steps {
            XCTAssertEqual(landings.map(\.daemon).sorted(), ["d1", "d2", "d3"], key)
            let times = landings.map(\.nanoseconds)
            let spread = Double(times.max()! - times.min()!) / 1e6
            XCTAssertLessThanOrEqual(spread, 5, "\(key): spread \(spread) ms across the three daemons")
            XCTAssertGreaterThanOrEqual(times.min()!, startNanoseconds, "\(key) ran before the start instant")
        }
    }

    func testABadFleetFileIsAUsageError() throws {
        let path = daemons[0].directory + "/bad-fleet.json"
        try #"[{"name": "a"}, {"name": "a", "socket": "/x", "url": "http://127.0.0.1:1"}, {"socket": "/y", "colour": 1}]"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let run = try FaultctlRun(["--fleet", path, "status"])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.hasPrefix("""
            Error: --fleet: \(path)[0]: give socket (a path) or url (http://HOST:PORT)
            --fleet: \(path)[1].name: duplicate name "a"
            --fleet: \(path)[1]: give socket or url, not both
            --fleet: \(path)[2].colour: unknown key (expected name, socket, url, token_file)
            --fleet: \(path)[2].name: a name is required

            """), run.stderr)
        let unsupported = try FaultctlRun(["--fleet", fleetFile, "routes"])
        XCTAssertEqual(unsupported.status, 2)
        XCTAssertTrue(unsupported.stderr.hasPrefix("Error: --fleet works with apply, clear, partition, heal, status, faults and journal\n"), unsupported.stderr)
    }
}
