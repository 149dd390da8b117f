import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// A daemon started from raw config JSON with a control socket in a directory of its own, for
/// the partition, schedule and etcd tests (`@CONTROL@` in the JSON becomes the socket path).
final class ControlledDaemon {
    let daemon: DaemonProcess
    let control: ControlHTTP
    private let directory: String

    init(configJSON: String) throws {
        var template = Array("/tmp/fl-ctl-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
        let socket = directory + "/control.sock"
        daemon = try DaemonProcess(config: configJSON.replacing("@CONTROL@", with: socket))
        control = ControlHTTP(socketPath: socket)
    }

    deinit {
        daemon.kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `method path` must answer `status`; the body as a JSON object.
    @discardableResult
    func call(_ method: String, _ path: String, _ json: String? = nil, expect status: Int = 200) throws -> [String: Any] {
        let response = try control.expect(status, method, path, json: json)
        return (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    /// The journal's events (each line parsed).
    func journal() throws -> [[String: Any]] {
        let text = try control.expect(200, "GET", "/v1/journal").text
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    /// The value of a metric without labels.
    func metric(_ name: String) throws -> String? {
        let text = try control.expect(200, "GET", "/metrics").text
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.map { String($0.dropFirst(name.count + 1)) }
    }
}

/// Partitions on plain TCP routes with `from`/`to`, through the real daemon.
final class PartitionTests: DaemonTestCase {
    /// Two "nodes" as listeners, and a route each way between them.
    private final class Pair {
        let n1: TestListener
        let n2: TestListener
        let daemon: ControlledDaemon

        init() throws {
            n1 = try TestListener()
            n2 = try TestListener()
            daemon = try ControlledDaemon(configJSON: """
                {"version": 1, "seed": 7, "workers": 2, "control": {"unix_socket": "@CONTROL@"},
                 "limits": {"connect_timeout": "1s", "shutdown_grace": "1s"},
                 "routes": [
                   {"name": "n1-n2", "listen": "127.0.0.1:0", "upstream": "\(n2.endpoint)", "from": "n1", "to": "n2"},
                   {"name": "n2-n1", "listen": "127.0.0.1:0", "upstream": "\(n1.endpoint)", "from": "n2", "to": "n1"}
                 ]}
                """)
        }

        /// A connection through `route`: the caller's end and the callee's end.
        func connect(_ route: String, to callee: TestListener) throws -> (client: TestSocket, server: TestSocket) {
            let client = try TestSocket.connect(to: try daemon.daemon.route(route))
            return (client, try callee.accept(timeout: .seconds(3)))
        }
    }

    private let quiet: Duration = .milliseconds(400)

    /// Bytes `from` sends arrive at `to`, exactly.
    private func assertPasses(_ from: TestSocket, _ to: TestSocket, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try from.send(Array(text.utf8))
        XCTAssertEqual(String(decoding: try to.read(exactly: text.utf8.count, timeout: .seconds(3)), as: UTF8.self), text, file: file, line: line)
    }

    /// Bytes `from` sends never arrive at `to`.
    private func assertDropped(_ from: TestSocket, _ to: TestSocket, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try from.send(Array(text.utf8))
        XCTAssertEqual(to.read(timeout: quiet), .timedOut, "\"\(text)\" should have been dropped", file: file, line: line)
    }

    /// Issue acceptance: `one_way` drops only the bytes leaving groups[0], on connections opened
    /// before the partition and after it; healing lets everything through again.
    func testOneWayPartitionDropsOnlyTrafficLeavingTheFirstGroup() throws {
        let pair = try Pair()
        let before12 = try pair.connect("n1-n2", to: pair.n2)
        let before21 = try pair.connect("n2-n1", to: pair.n1)
        try assertPasses(before12.client, before12.server, "warm-up")

        let applied = try pair.daemon.call("POST", "/v1/partitions", #"{"id": "out-of-n1", "groups": [["n1"], ["n2"]], "one_way": true}"#, expect: 201)
        XCTAssertEqual(applied["one_way"] as? Bool, true)
        // n1→n2 requests (upstream on n1-n2) and n1's answers to n2 (downstream on n2-n1): 2 links.
        XCTAssertEqual(try pair.daemon.metric("faultline_partition_links_blocked"), "2")
        let event = try pair.daemon.journal().last { $0["event"] as? String == "partition.applied" }
        XCTAssertEqual(event?["id"] as? String, "out-of-n1")
        XCTAssertEqual(event?["groups"] as? [[String]], [["n1"], ["n2"]])
        XCTAssertEqual(event?["one_way"] as? Bool, true)

        let after12 = try pair.connect("n1-n2", to: pair.n2)  // one way: the upstream is still dialled
        let after21 = try pair.connect("n2-n1", to: pair.n1)
        for (label, n1ToN2, n2ToN1) in [("open before", before12, before21), ("opened after", after12, after21)] {
            // n1 calling n2: its request is lost, n2's words still reach n1.
            try assertDropped(n1ToN2.client, n1ToN2.server, "n1 asks n2 (\(label))")
            try assertPasses(n1ToN2.server, n1ToN2.client, "n2 tells n1 (\(label))")
            // n2 calling n1: the request arrives, n1's answer is lost.
            try assertPasses(n2ToN1.client, n2ToN1.server, "n2 asks n1 (\(label))")
            try assertDropped(n2ToN1.server, n2ToN1.client, "n1 answers n2 (\(label))")
        }

        XCTAssertEqual(try pair.daemon.call("DELETE", "/v1/partitions")["healed"] as? [String], ["out-of-n1"])
        XCTAssertEqual(try pair.daemon.metric("faultline_partition_links_blocked"), "0")
        for (client, server) in [before12, before21, after12, after21] {
            try assertPasses(client, server, "healed ask")
            try assertPasses(server, client, "healed answer")
        }
        XCTAssertTrue(pair.daemon.daemon.isRunning)
    }

    /// Both ways, a new connection across the cut is accepted but not dialled until the heal;
    /// links inside a group are untouched.
    func testTwoWayPartitionHoldsNewConnectionsUntilHealed() throws {
        let pair = try Pair()
        try pair.daemon.call("POST", "/v1/partitions", #"{"kind": "isolate", "node": "n1"}"#, expect: 201)
        XCTAssertEqual(try pair.daemon.metric("faultline_partition_links_blocked"), "4")
        let client = try TestSocket.connect(to: try pair.daemon.daemon.route("n1-n2"))
        XCTAssertThrowsError(try pair.n2.accept(timeout: quiet), "the upstream must not be dialled across a partition")
        try pair.daemon.call("DELETE", "/v1/partitions")
        let server = try pair.n2.accept(timeout: .seconds(3))
        try assertPasses(server, client, "after the heal")
        try assertPasses(client, server, "and back")
    }
}
