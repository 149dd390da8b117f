import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import Glibc
import Synchronization
import XCTest

// Shared fixture of the fault integration tests (Fault*Tests, DeterminismTests, FaultChurnTests):
// a daemon with a control socket, fault helpers, journal and metrics readers, and socket helpers
// that measure on the connection.

/// One `fault.injected` journal event.
struct Injection: Equatable, CustomStringConvertible {
    var route: String
    var fault: String
    var type: String
    var conn: Int
    /// nil for connection-level faults (`refuse`, `connect_delay`).
    var direction: String?

    var description: String { "\(fault)#\(conn)\(direction.map { "/" + $0 } ?? "")" }
}

/// A running `faultlined` whose config has `control.unix_socket` in a temporary directory.
final class FaultDaemon {
    let process: DaemonProcess
    let control: ControlHTTP
    private let socketDirectory: String

    /// Starts the daemon.
    /// - Parameters:
    ///   - routes: name and upstream of each route (listening on 127.0.0.1:0).
    ///   - faults: fault objects (JSON text) for the config file's `faults`.
    init(routes: [(name: String, upstream: Endpoint)], faults: [String] = [], seed: UInt64 = 7, workers: Int = 2,
         bufferBytes: Int = 65536, latencyQueueBytes: Int? = nil) throws {
        let base = NSTemporaryDirectory() + "fl-ctl-XXXXXX"
        var template = Array(base.utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed: errno \(errno)") }
        socketDirectory = String(cString: made)
        let socketPath = socketDirectory + "/control.sock"
        let routeText = routes.map {
            #"{"name":"\#($0.name)","listen":"127.0.0.1:0","upstream":"\#($0.upstream)"}"#
        }.joined(separator: ",")
        let config = #"""
        {"version":1,"seed":\#(seed),"workers":\#(workers),"control":{"unix_socket":"\#(socketPath)"},"limits":{"max_connections":4000,"connect_timeout":"2s","shutdown_grace":"2s","buffer_bytes":\#(bufferBytes)\#(latencyQueueBytes.map { ",\"latency_queue_bytes\":\($0)" } ?? "")},"routes":[\#(routeText)],"faults":[\#(faults.joined(separator: ","))]}
        """#
        do {
            process = try DaemonProcess(config: config)
        } catch {
            try? FileManager.default.removeItem(atPath: socketDirectory)
            throw error
        }
        control = ControlHTTP(socketPath: socketPath)
    }

    deinit {
        process.kill()
        try? FileManager.default.removeItem(atPath: socketDirectory)
    }

    func route(_ name: String) throws -> Endpoint { try process.route(name) }

    /// `POST /v1/faults`; returns the stored fault's id. Answered 201 means in force on every worker.
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

    /// Every retained journal event, parsed.
    func journal() throws -> [[String: Any]] {
        let response = try control.expect(200, "GET", "/v1/journal")
        return try response.text.split(separator: "\n").map {
            guard let object = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] else {
                throw DaemonError("journal line is not an object: \($0)")
            }
            return object
        }
    }

    /// The `fault.injected` events, in journal order (optionally of one fault).
    func injections(fault: String? = nil) throws -> [Injection] {
        try journal().compactMap { event -> Injection? in
            guard event["event"] as? String == "fault.injected" else { return nil }
            guard let route = event["route"] as? String, let id = event["fault"] as? String,
                  let type = event["type"] as? String, let conn = event["conn"] as? Int else {
                throw DaemonError("malformed fault.injected: \(event)")
            }
            if let fault, fault != id { return nil }
            return Injection(route: route, fault: id, type: type, conn: conn, direction: event["direction"] as? String)
        }
    }

    /// The value of the sample `name{labels}` in `GET /metrics` (labels compared as a set), or nil.
    func metric(_ name: String, _ labels: [String: String]) throws -> Double? {
        let text = try control.expect(200, "GET", "/metrics").text
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let sample = String(line)
            guard let valueStart = sample.lastIndex(of: " ") else { continue }
            var found: [String: String] = [:]
            if let open = sample.firstIndex(of: "{"), let close = sample.lastIndex(of: "}") {
                let inner = sample[sample.index(after: open)..<close]
                for pair in inner.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    found[String(parts[0])] = String(parts[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
            }
            if found == labels { return Double(sample[sample.index(after: valueStart)...]) }
        }
        return nil
    }
}

extension TestSocket {
    /// Connects to `endpoint`; nil when the proxy's RST beat the end of `connect` (a refused
    /// connection can be reset before the client saw its handshake complete).
    static func connectUnlessReset(to endpoint: Endpoint) throws -> TestSocket? {
        do {
            return try TestSocket.connect(to: endpoint)
        } catch {
            if error.isConnectionReset { return nil }
            throw error
        }
    }
}

/// Milliseconds since `start` (a `Deadline.now()` reading).
func millisecondsSince(_ start: UInt64) -> Double { Double(Deadline.now() - start) / 1e6 }

/// What reading a connection until it ended (or a deadline) saw.
struct Drained {
    var bytes: [UInt8] = []
    /// nil: still open at the deadline.
    var end: CloseKind?
    /// When the first and the last data arrived, and when it ended (ms since the start given).
    var firstDataMs: Double?
    var lastDataMs: Double?
    var endMs: Double?
}

extension TestSocket {
    /// Reads until EOF, reset or `timeout`, timing what arrives relative to `start`.
    func drain(timeout: Duration, start: UInt64 = Deadline.now(), maxBytes: Int = 65536) -> Drained {
        let deadline = Deadline(after: timeout)
        var out = Drained()
        while true {
            switch read(maxBytes: maxBytes, timeout: deadline.remaining) {
            case .data(let bytes):
                let now = millisecondsSince(start)
                if out.firstDataMs == nil { out.firstDataMs = now }
                out.lastDataMs = now
                out.bytes += bytes
            case .eof:
                out.end = .eof
                out.endMs = millisecondsSince(start)
                return out
            case .reset, .error:
                out.end = .reset
                out.endMs = millisecondsSince(start)
                return out
            case .timedOut:
                return out
            }
        }
    }
}

/// Sends a payload from a helper thread in 64 KiB pieces, so a test can watch progress (and
/// backpressure) while it reads on its own thread.
final class BackgroundSender: Sendable {
    private final class Progress: Sendable {
        let sent = Atomic<Int>(0)
        let failure = Mutex<String?>(nil)
    }

    private let progress = Progress()
    private let handle: ThreadHandle

    init(_ socket: TestSocket, _ payload: [UInt8], timeout: Duration = .seconds(30)) {
        let progress = self.progress
        handle = Threads.spawn(name: "sender") {
            var offset = 0
            while offset < payload.count {
                let end = min(payload.count, offset + 65536)
                do {
                    try socket.send(Array(payload[offset..<end]), timeout: timeout)
                } catch {
                    progress.failure.withLock { $0 = "\(error)" }
                    return
                }
                offset = end
                progress.sent.store(offset, ordering: .releasing)
            }
        }
    }

    /// Bytes handed to the kernel so far.
    var bytesSent: Int { progress.sent.load(ordering: .acquiring) }

    /// Waits for the thread; its error, if any.
    func finish() -> String? {
        handle.join()
        return progress.failure.withLock { $0 }
    }
}

/// `count` bytes of the repeating pattern 0, 1, …, 250 (a prime length, so offsets are visible).
func patternBytes(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 251) } }
