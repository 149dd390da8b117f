import FaultlineClient
import FaultlineTestSupport
import Foundation
import XCTest

/// `FaultlineClient` against the real daemon (ControlDaemon: Unix socket and TCP listener in a
/// private temporary directory) and a loopback echo upstream.
final class ClientTests: XCTestCase {
    private let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 64)
    // Held for the whole test: dropping a ControlDaemon kills its daemon.
    private var echo: EchoServer!
    private var control: ControlDaemon!

    override func tearDown() {
        control = nil
        echo = nil
        super.tearDown()
    }

    private func start(extra: String = "") throws -> (EchoServer, ControlDaemon, FaultlineClient) {
        echo = try EchoServer()
        control = try ControlDaemon(routes: [("echo", echo.endpoint)], extra: extra)
        return (echo, control, FaultlineClient(socket: control.socketPath, timeout: .seconds(5)))
    }

    /// The answer to `apply` means the fault is in force on every worker: the very next round trip
    /// on a connection opened before it is delayed, with no sleep in between; after `clear` the
    /// next one is fast again.
    func testLatencyActsOnAnOpenConnectionAsSoonAsApplyReturns() throws {
        let (_, _, client) = try start()
        let route = try XCTUnwrap(try client.route("echo").bound)
        let socket = try TestSocket.connect(to: route, timeout: .seconds(2))
        defer { socket.close() }
        let before = try roundTrip(socket, payload)  // also completes the upstream connect
        XCTAssertLessThan(before, 0.2, "round trip before the fault")

        let stored = try client.apply(.latency(route: "echo", delay: .milliseconds(300), direction: .downstream))
        let during = try roundTrip(socket, payload)
        try client.clear(stored.id)
        let after = try roundTrip(socket, payload)

        XCTAssertEqual(stored, FaultSpec(
            id: "latency-1", routes: .names(["echo"]), direction: .downstream,
            kind: .latency(delay: .milliseconds(300), jitter: .zero, distribution: .uniform)
        ))
        // Each reply chunk is held 300 ms from when the proxy read it; 1 ms of timer slack.
        XCTAssertGreaterThanOrEqual(during, 0.299, "round trip right after apply")
        XCTAssertLessThan(during, 1.5, "round trip right after apply")
        XCTAssertLessThan(after, 0.2, "round trip right after clear")
        XCTAssertEqual(try client.faults(), [])
    }

    func testWithFaultClearsWhenTheBodyThrowsAndWhenItReturns() throws {
        let (_, _, client) = try start()
        struct Boom: Error, Equatable {}
        XCTAssertThrowsError(try client.withFault(.blackhole(route: "echo", id: "hole")) { fault in
            XCTAssertEqual(fault.id, "hole")
            XCTAssertEqual(try client.faults().map(\.id), ["hole"])
            throw Boom()
        }) { error in
            XCTAssertEqual(error as? Boom, Boom(), "the body's error comes out unchanged")
        }
        XCTAssertEqual(try client.faults(), [])

        let id = try client.withFault(.stall(route: "echo", direction: .upstream)) { fault in
            XCTAssertEqual(try client.faults(), [fault])
            return fault.id
        }
        XCTAssertEqual(id, "stall-1")
        XCTAssertEqual(try client.faults(), [])

        let events = try client.journal().filter { $0.event.hasPrefix("fault.") }
        XCTAssertEqual(events.map(\.event), ["fault.applied", "fault.cleared", "fault.applied", "fault.cleared"])
        XCTAssertEqual(events[1].fields["id"], "hole")
        XCTAssertEqual(events[1].fields["reason"], "api")
    }

    func testRejectionsCarryStatusCodeMessageAndPath() throws {
        let (_, control, client) = try start()
        try client.apply(.stall(route: "echo", id: "dup"))

        func rejection(_ body: () throws -> Void) -> FaultlineClientError? {
            do {
                try body()
                XCTFail("expected a rejection")
                return nil
            } catch {
                return error as? FaultlineClientError
            }
        }
        XCTAssertEqual(rejection { try client.apply(.blackhole(route: "echo", id: "dup")) }, FaultlineClientError(
            kind: .rejected, status: 409, code: "fault_exists", message: #"a fault with id "dup" is already active"#, path: "id"
        ))
        XCTAssertEqual(rejection { try client.clear("nope") }, FaultlineClientError(
            kind: .rejected, status: 404, code: "not_found", message: #"no fault with id "nope""#
        ))
        let invalid = rejection { try client.apply(.latency(route: "echo", delay: .milliseconds(10), probability: 2)) }
        XCTAssertEqual(invalid, FaultlineClientError(
            kind: .rejected, status: 422, code: "invalid_fault", message: "must be between 0 and 1, got 2.0", path: "probability",
            problems: [.init(path: "probability", message: "must be between 0 and 1, got 2.0")]
        ))
        XCTAssertEqual(invalid?.description, "invalid_fault: must be between 0 and 1, got 2.0 (at probability)")
        XCTAssertEqual(rejection { try client.apply(.bandwidth(route: "nope", bytesPerSecond: 0)) }?.problems, [
            FaultlineClientError.Problem(path: "route", message: #"unknown route "nope""#),
            FaultlineClientError.Problem(path: "bytes_per_second", message: "must be at least 1, got 0"),
        ])
        XCTAssertEqual(rejection { try client.removeRoute("nope") }?.status, 404)
        // Rejected requests changed nothing.
        XCTAssertEqual(try client.faults().map(\.id), ["dup"])

        let missing = FaultlineClient(socket: control.directory + "/absent.sock", timeout: .seconds(2))
        let unreachable = rejection { _ = try missing.status() }
        XCTAssertEqual(unreachable?.kind, .unreachable)
        XCTAssertNil(unreachable?.status)
        XCTAssertEqual(unreachable?.message, "cannot connect to \(control.directory)/absent.sock: No such file or directory")
    }

    /// A listener that accepts (in the kernel) and never answers costs the caller its timeout,
    /// not forever.
    func testSilentListenerTimesOut() throws {
        let silent = try TestListener()
        defer { silent.close() }
        let client = try FaultlineClient(url: "http://\(silent.endpoint)", timeout: .milliseconds(300))
        let (result, seconds) = timed { Result { () throws(FaultlineClientError) in try client.status() } }
        guard case .failure(let error) = result else { return XCTFail("expected a timeout, got \(result)") }
        XCTAssertEqual(error.kind, .unreachable)
        XCTAssertEqual(error.message, "timed out waiting for an answer from http://\(silent.endpoint)")
        XCTAssertGreaterThanOrEqual(seconds, 0.29)
        XCTAssertLessThan(seconds, 2)
    }

    func testRoutesStatusJournalMetricsAndReloadOverTCP() throws {
        let (echo, control, unixClient) = try start()
        let client = try FaultlineClient(url: "http://\(control.http)/")
        XCTAssertEqual(client.address, .tcp(host: "127.0.0.1", port: control.http.port))

        let status = try client.status()
        XCTAssertEqual(status.workers, 2)
        XCTAssertEqual(status.seed, 7)
        XCTAssertEqual(status.scheduleState, "none")
        XCTAssertEqual(status.routes.map(\.name), ["echo"])
        XCTAssertEqual(status.routes.first?.origin, .config)

        let added = try client.addRoute(name: "api", upstream: echo.endpoint.description)
        XCTAssertEqual(added.origin, .runtime)
        XCTAssertEqual(added.spec.listen, Endpoint(parsing: "127.0.0.1:0"))
        let bound = try XCTUnwrap(added.bound)
        let socket = try TestSocket.connect(to: bound, timeout: .seconds(2))
        XCTAssertLessThan(try roundTrip(socket, payload), 1)
        socket.close()

        XCTAssertNil(try client.setRouteEnabled("api", false).bound)
        XCTAssertNotNil(try unixClient.setRouteEnabled("api", true).bound)
        try client.removeRoute("api")
        XCTAssertEqual(try client.routes().map(\.name), ["echo"])

        let journal = try client.journal()
        XCTAssertEqual(journal.map(\.seq), Array(1...UInt64(journal.count)))
        XCTAssertEqual(journal.map(\.event), ["daemon.started", "route.added", "route.disabled", "route.enabled", "route.removed"])
        XCTAssertEqual(journal[1].fields["route"], "api")
        XCTAssertEqual(try client.journal(since: 3).map(\.event), ["route.enabled", "route.removed"])
        XCTAssertEqual(try client.journal(since: journal.last!.seq), [])

        try client.apply(.bandwidth(route: "echo", bytesPerSecond: 1000))
        let metrics = try client.metrics()
        XCTAssertTrue(metrics.contains("\nfaultline_faults_active{type=\"bandwidth\"} 1\n"), metrics)
        XCTAssertTrue(metrics.contains("\nfaultline_faults_active{type=\"latency\"} 0\n"), metrics)

        let reloaded = try client.reload()
        XCTAssertEqual(reloaded.routes, 1)
        XCTAssertEqual(reloaded.faults, 1, "the runtime fault stays")
        XCTAssertGreaterThan(reloaded.planVersion, status.planVersion)
        XCTAssertEqual(try client.clearAll(), ["bandwidth-1"])
        XCTAssertEqual(try client.clearAll(), [])
    }

    func testPartitionsAndHeal() throws {
        let nodes = #","nodes":{"n1":{"addresses":["127.0.0.11"]},"n2":{"addresses":["127.0.0.12"]},"n3":{"addresses":["127.0.0.13"]}}"#
        let (_, _, client) = try start(extra: nodes)
        let cut = try client.partition(groups: [["n1"], ["n2", "n3"]], oneWay: true, id: "cut")
        XCTAssertEqual(cut, .partition(groups: [["n1"], ["n2", "n3"]], oneWay: true, id: "cut"))
        let isolated = try client.partition(.isolate(node: "n2"), mode: .reset)
        guard case .partition(let partition) = isolated.kind else { return XCTFail("not a partition: \(isolated)") }
        XCTAssertEqual(partition.rule, .generator(.isolate(node: "n2")))
        XCTAssertEqual(partition.resolved, [[["n2"], ["n1", "n3"]]])
        XCTAssertEqual(try client.faults(), [cut, isolated])
        // The same through POST /v1/faults.
        let viaFaults = try client.apply(.partition(groups: [["n3"], ["n1"]]))
        XCTAssertEqual(viaFaults.id, "partition-2")

        XCTAssertEqual(try client.heal(), ["healed": ["cut", .string(isolated.id), "partition-2"]])
        XCTAssertEqual(try client.faults(), [])
        XCTAssertEqual(try client.journal().map(\.event).filter { $0.hasPrefix("partition.") },
                       ["partition.applied", "partition.applied", "partition.applied", "partition.healed", "partition.healed", "partition.healed"])

        XCTAssertThrowsError(try client.partition(groups: [["n1"], ["n9"]])) { error in
            XCTAssertEqual((error as? FaultlineClientError)?.path, "groups[1][0]")
        }
    }

    func testURLParsing() throws {
        XCTAssertEqual(try ControlAddress(url: "http://127.0.0.1:8474"), .tcp(host: "127.0.0.1", port: 8474))
        XCTAssertEqual(try ControlAddress(url: "localhost:9"), .tcp(host: "localhost", port: 9))
        XCTAssertEqual(try ControlAddress(url: "http://[::1]:8474/"), .tcp(host: "::1", port: 8474))
        XCTAssertEqual(try ControlAddress(url: "http://example"), .tcp(host: "example", port: 80))
        for bad in ["https://x:1", "http://x:1/v1", "http://x:99999", "http://:1", "http://[::1"] {
            XCTAssertThrowsError(try ControlAddress(url: bad), bad) { error in
                XCTAssertEqual((error as? FaultlineClientError)?.kind, .invalidRequest, bad)
            }
        }
        XCTAssertEqual(FaultlineClient.pathSegment("a b/ü"), "a%20b%2F%C3%BC")
    }
}
