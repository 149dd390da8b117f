import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

// Shared fixture of the HTTP route tests (HTTPRouteTests, HTTPFaultTests, HTTPFramingTests,
// HTTPAttemptsTests, HTTPClientToolTests): a daemon whose routes say `"protocol": "http"`, with a
// control socket, and readers of its journal and metrics.

/// A running `faultlined` with `http` routes and `control.unix_socket` in a temporary directory.
final class HTTPDaemon {
    let process: DaemonProcess
    let control: ControlHTTP
    /// The control socket (for FaultlineClient and faultctl).
    let socketPath: String
    private let socketDirectory: String

    /// - Parameters:
    ///   - routes: name and upstream of each route (listening on 127.0.0.1:0, protocol http).
    ///   - faults: fault objects (JSON text) for the config's `faults`.
    ///   - tcpRoutes: names of routes that are `tcp` instead.
    ///   - requestLog: `limits.request_log`, when not the default.
    convenience init(
        routes: [(name: String, upstream: Endpoint)], faults: [String] = [], seed: UInt64 = 7, workers: Int = 2,
        tcpRoutes: Set<String> = [], requestLog: Int? = nil
    ) throws {
        let routeObjects = routes.map {
            #"{"name":"\#($0.name)","listen":"127.0.0.1:0","upstream":"\#($0.upstream)","protocol":"\#(tcpRoutes.contains($0.name) ? "tcp" : "http")"}"#
        }
        let logLimit = requestLog.map { #""request_log":\#($0)"# } ?? ""
        try self.init(routeObjects: routeObjects, faults: faults, seed: seed, workers: workers, limits: logLimit)
    }

    /// A daemon whose routes the test writes as route objects (JSON text, e.g. with `tls`);
    /// `limits` are extra members of the config's `limits` (JSON text without braces).
    init(routeObjects: [String], faults: [String] = [], seed: UInt64 = 7, workers: Int = 2, limits: String = "") throws {
        var template = Array((NSTemporaryDirectory() + "fl-http-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed: errno \(errno)") }
        socketDirectory = String(cString: made)
        let socketPath = socketDirectory + "/control.sock"
        self.socketPath = socketPath
        let extraLimits = limits.isEmpty ? "" : "," + limits
        let config = #"""
        {"version":1,"seed":\#(seed),"workers":\#(workers),"control":{"unix_socket":"\#(socketPath)"},"limits":{"max_connections":2000,"connect_timeout":"2s","shutdown_grace":"2s","buffer_bytes":65536\#(extraLimits)},"routes":[\#(routeObjects.joined(separator: ","))],"faults":[\#(faults.joined(separator: ","))]}
        """#
        do {
            process = try DaemonProcess(config: config)
        } catch {
            try? FileManager.default.removeItem(atPath: socketDirectory)
            throw error
        }
        control = ControlHTTP(socketPath: socketPath)
    }

    /// One route `web` to `upstream`.
    convenience init(upstream: Endpoint, faults: [String] = [], seed: UInt64 = 7, workers: Int = 2) throws {
        try self.init(routes: [("web", upstream)], faults: faults, seed: seed, workers: workers)
    }

    deinit {
        process.kill()
        try? FileManager.default.removeItem(atPath: socketDirectory)
    }

    func route(_ name: String = "web") throws -> Endpoint { try process.route(name) }

    /// `POST /v1/faults`, expecting 201; the stored fault's id.
    @discardableResult
    func apply(_ fault: String) throws -> String {
        let response = try control.expect(201, "POST", "/v1/faults", json: fault)
        guard let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let id = object["id"] as? String else { throw DaemonError("no id in \(response.text)") }
        return id
    }

    /// `DELETE /v1/faults/{id}`, expecting 204.
    func clear(_ id: String) throws {
        _ = try control.expect(204, "DELETE", "/v1/faults/\(id)")
    }

    /// The journal's events (optionally only those named `event`), parsed.
    func journal(_ event: String? = nil) throws -> [[String: Any]] {
        let response = try control.expect(200, "GET", "/v1/journal")
        let all = try response.text.split(separator: "\n").map { line -> [String: Any] in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw DaemonError("journal line is not an object: \(line)")
            }
            return object
        }
        return event.map { name in all.filter { $0["event"] as? String == name } } ?? all
    }

    /// Waits until the journal holds at least `count` events named `event`; returns them all.
    func journal(_ event: String, atLeast count: Int, timeout: Duration = .seconds(3)) throws -> [[String: Any]] {
        let deadline = Deadline(after: timeout)
        while true {
            let events = try journal(event)
            if events.count >= count || deadline.hasPassed { return events }
            usleep(10_000)
        }
    }

    /// The value of `name{labels}` in `GET /metrics`, or nil.
    func metric(_ name: String, _ labels: [String: String]) throws -> Double? {
        PrometheusText.value(of: name, labels, in: try control.expect(200, "GET", "/metrics").text)
    }

    /// Waits (up to `timeout`, since counters are bumped as answers finish, a moment after the
    /// client read them) until `name{labels}` reads `expected`; returns the last value read, so
    /// the caller asserts equality and a mismatch shows what was there.
    func metric(_ name: String, _ labels: [String: String], settlesAt expected: Double, timeout: Duration = .seconds(2)) throws -> Double? {
        let deadline = Deadline(after: timeout)
        while true {
            let value = try metric(name, labels)
            if value == expected || deadline.hasPassed { return value }
            usleep(10_000)
        }
    }
}

/// Base of the HTTP route tests: starts `HTTPDaemon`s and, like DaemonTestCase does for its own,
/// fails the test when one of them died on its own.
class HTTPRouteTestCase: DaemonTestCase {
    private var httpDaemons: [HTTPDaemon] = []

    override func tearDown() {
        for daemon in httpDaemons where daemon.process.exitedUnexpectedly {
            XCTFail("faultlined exited unexpectedly; log:\n\(daemon.process.logText)")
        }
        httpDaemons.removeAll()
        super.tearDown()
    }

    /// A daemon with route `web` (protocol http) to `upstream`.
    func startHTTPDaemon(upstream: Endpoint, faults: [String] = [], seed: UInt64 = 7, workers: Int = 2) throws -> HTTPDaemon {
        let daemon = try HTTPDaemon(upstream: upstream, faults: faults, seed: seed, workers: workers)
        httpDaemons.append(daemon)
        return daemon
    }

    /// A daemon with the given routes (http unless named in `tcpRoutes`).
    func startHTTPDaemon(
        routes: [(name: String, upstream: Endpoint)], faults: [String] = [], workers: Int = 2,
        tcpRoutes: Set<String> = [], requestLog: Int? = nil
    ) throws -> HTTPDaemon {
        let daemon = try HTTPDaemon(routes: routes, faults: faults, workers: workers, tcpRoutes: tcpRoutes, requestLog: requestLog)
        httpDaemons.append(daemon)
        return daemon
    }

    /// `request` on `connection`, requiring `status`; the answer.
    @discardableResult
    func expect(
        _ status: Int, _ request: HTTPTestRequest, on connection: HTTPTestConnection, timeout: Duration = .seconds(30),
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> HTTPTestResponse {
        let response = try connection.exchange(request, timeout: timeout)
        XCTAssertEqual(response.status, status, "\(request.method) \(request.target): \(response)", file: file, line: line)
        return response
    }
}

/// Runs a Python 3 script (written to a temporary file) with `arguments`; its exit status and
/// combined output.
func runPython(_ script: String, _ arguments: [String], timeout: Duration = .seconds(60)) throws -> (status: Int32, output: String) {
    let path = NSTemporaryDirectory() + "fl-http-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).py"
    try script.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try runProcess(["/usr/bin/python3", path] + arguments, timeout: timeout)
}
