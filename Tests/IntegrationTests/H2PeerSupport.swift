import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

// The HTTP/2 and gRPC peers of the integration tests: Scripts/lib/h2probe.py and h2server.py
// (PyPI h2), Scripts/lib/grpcpeer.py (PyPI grpcio), run with the project's Python (projectPython()).

/// What `Scripts/lib/h2probe.py` printed: one entry per request, in request order.
struct H2ProbeResult: Decodable {
    struct Stream: Decodable {
        /// nil: never sent (a GOAWAY came first).
        var streamId: Int?
        var method: String
        var path: String
        var status: Int?
        var headers: [String: String]
        var bodyBytes: Int
        var bodySha256: String
        var trailers: [String: String]?
        /// The 1xx heads before the answer, in order (":status" included).
        var informational: [[String: String]]
        /// END_STREAM arrived.
        var ended: Bool
        var resetErrorCode: Int?
    }

    struct GoAway: Decodable {
        var errorCode: Int
        var lastStreamId: Int
    }

    var streams: [Stream]
    var goaway: GoAway?
    var connectionClosed: Bool
    var timedOut: Bool
    var elapsedSeconds: Double

    /// The streams of `path`.
    func streams(_ path: String) -> [Stream] { streams.filter { $0.path == path } }
}

/// The last line of `output` that is a JSON object (a tool's own warnings may come before it,
/// since runTool merges stdout and stderr).
private func lastJSONLine(_ output: String) -> String? {
    output.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init)
}

private let jsonDecoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return decoder
}()

/// Runs `Scripts/lib/h2probe.py --target TARGET OPTIONS REQUESTS` (requests like "GET:/a";
/// options like ["--repeat", "3"], ["--window", "1024"], ["--tls", "--cafile", CA]); its result.
func h2probe(
    _ target: Endpoint, _ requests: [String], options: [String] = [], timeout: Duration = .seconds(30),
    file: StaticString = #filePath, line: UInt = #line
) throws -> H2ProbeResult {
    let python = try projectPython(file: file, line: line)
    let seconds = Double(timeout.components.seconds)
    let run = try runTool(
        [python, repositoryRoot.path + "/Scripts/lib/h2probe.py", "--target", "\(target)", "--timeout", String(seconds)]
            + options + requests,
        timeout: timeout + .seconds(15))
    guard run.status == 0, let json = lastJSONLine(run.output) else {
        throw DaemonError("h2probe exited \(run.status): \(run.output)")
    }
    do {
        return try jsonDecoder.decode(H2ProbeResult.self, from: Data(json.utf8))
    } catch {
        throw DaemonError("h2probe printed what does not decode (\(error)): \(run.output)")
    }
}

/// `message` as one gRPC length-prefixed message (not compressed): the body of a unary call, for
/// h2probe's `--body-file` (with `--header content-type:application/grpc --header te:trailers`).
func grpcFrame(_ message: [UInt8]) -> [UInt8] {
    let count = UInt32(message.count)
    return [0, UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)] + message
}

/// One call's line from `grpcpeer.py client`.
struct GrpcCallResult: Decodable, Equatable {
    var method: String
    /// "OK" or a grpc.StatusCode name ("UNAVAILABLE", …).
    var code: String
    var details: String?
    var responseLen: Int?
}

/// A Python peer server of `Scripts/lib` (run with the project's Python) that prints
/// {"port": PORT} on its first line; its stderr goes to a file of its scratch directory. Ended
/// by its pid (SIGTERM, then SIGKILL) when this goes away.
final class PythonPeerServer {
    let endpoint: Endpoint
    let directory: String
    private let process: Process

    init(script: String, _ arguments: (String) -> [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let python = try projectPython(file: file, line: line)
        directory = try makeScratchDirectory("fl-peer")
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repositoryRoot.path + "/Scripts/lib/" + script] + arguments(directory)
        let out = Pipe()
        process.standardOutput = out
        guard FileManager.default.createFile(atPath: directory + "/stderr", contents: nil),
              let stderr = FileHandle(forWritingAtPath: directory + "/stderr") else {
            throw DaemonError("cannot create \(directory)/stderr")
        }
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let first = readFirstLine(out.fileHandleForReading)
        struct Ready: Decodable { var port: UInt16 }
        guard let ready = try? JSONDecoder().decode(Ready.self, from: Data(first)) else {
            let stderr = (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? ""
            if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
            throw DaemonError("\(script) printed no port: \(String(decoding: first, as: UTF8.self)) \(stderr)")
        }
        endpoint = .loopback(port: ready.port)
    }

    deinit {
        if process.isRunning {
            _ = Glibc.kill(process.processIdentifier, SIGTERM)
            let deadline = Deadline(after: .seconds(5))
            while process.isRunning && !deadline.hasPassed { usleep(10_000) }
            if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// `Scripts/lib/h2server.py`: an h2c upstream answering every request 200 with its path, after
/// the 1xx heads `informational` (each carrying the `hints` fields, "name:value").
func h2Server(informational: [String] = [], hints: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> PythonPeerServer {
    try PythonPeerServer(script: "h2server.py", { _ in
        ["--port", "0"] + informational.flatMap { ["--informational", $0] } + hints.flatMap { ["--hint", $0] }
    }, file: file, line: line)
}

/// `Scripts/lib/grpcpeer.py server` on a free loopback port: the Echo service (`say` echoes,
/// `other` answers "other"), counting the calls per method.
final class GrpcPeerServer {
    static let say = "/faultline.test.Echo/Say"
    static let other = "/faultline.test.Echo/Other"

    private let peer: PythonPeerServer
    var endpoint: Endpoint { peer.endpoint }

    /// `unavailableFirst`: the first N calls fail UNAVAILABLE ("unavailable-first").
    init(unavailableFirst: Int = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        peer = try PythonPeerServer(script: "grpcpeer.py", { directory in
            ["server", "--port", "0", "--calls-file", directory + "/calls.json", "--unavailable-first", String(unavailableFirst)]
        }, file: file, line: line)
    }

    /// The calls that reached each method so far (a method never called is absent).
    func calls() -> [String: Int] {
        guard let data = FileManager.default.contents(atPath: peer.directory + "/calls.json") else { return [:] }
        return (try? JSONDecoder().decode([String: Int].self, from: data)) ?? [:]
    }
}

/// Runs `grpcpeer.py client` against `target`: `count` unary calls to `method` on one channel
/// (h2c), with the service config's retry policy when `retryPolicy`; one result per call.
func grpcPeerClient(
    _ target: Endpoint, method: String = GrpcPeerServer.say, count: Int = 1, message: String = "hello",
    retryPolicy: Bool = false, callTimeout: Double = 5, file: StaticString = #filePath, line: UInt = #line
) throws -> [GrpcCallResult] {
    let python = try projectPython(file: file, line: line)
    var arguments = [
        python, repositoryRoot.path + "/Scripts/lib/grpcpeer.py", "client", "--target", "\(target)",
        "--method", method, "--count", String(count), "--message", message, "--timeout", String(callTimeout),
    ]
    if retryPolicy { arguments.append("--retry-policy") }
    let run = try runTool(arguments, timeout: .seconds(Int(callTimeout * Double(count)) + 30))
    guard run.status == 0 else { throw DaemonError("grpcpeer client exited \(run.status): \(run.output)") }
    let results = run.output.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
        try? jsonDecoder.decode(GrpcCallResult.self, from: Data($0.utf8))
    }
    guard results.count == count else { throw DaemonError("grpcpeer client printed \(results.count) of \(count) results: \(run.output)") }
    return results
}
