public import FaultlineCore
import Foundation
import Glibc
import Synchronization

/// A problem starting or talking to the daemon under test.
public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One JSON log line of the daemon (`--log-format json`): every field is a string.
public struct DaemonLogLine: Sendable, CustomStringConvertible {
    public let fields: [String: String]
    public let raw: String

    public var event: String { fields["event"] ?? "" }
    public var level: String { fields["level"] ?? "" }
    public subscript(key: String) -> String? { fields[key] }
    public var description: String { raw }
}

/// The real `faultlined` binary, started with a config written to a fresh temporary directory.
///
/// Logs (JSON, stderr) go to a file in that directory. `start` waits for `daemon.started` and
/// reads each route's bound address from its `route.listening` line. The process is killed
/// (SIGKILL, by pid) when this object goes away if it is still running.
public final class DaemonProcess: @unchecked Sendable {
    // `process` is started once in init and then only read; Foundation's Process is thread-safe
    // for isRunning/terminationStatus. `exitStatus` is guarded by its Mutex.
    private let process: Process
    /// The directory holding the config and log.
    public let directory: String
    public let configPath: String
    public let logPath: String
    private let exitStatus = Mutex<Int32?>(nil)
    private let stopSignalled = Mutex(false)

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// Starts the daemon with `config` (JSON text) and waits until it logs `daemon.started`.
    /// - Throws: `DaemonError` when the binary is missing, it exits, or it does not start within
    ///   `startTimeout` (the log is included).
    /// A config without a `control` section gets its default socket in this test's directory
    /// (`$RUNTIME_DIRECTORY`), never the machine's `/run/faultline`; `environment` adds to or
    /// overrides the inherited variables, and `launcher` (e.g. `["/usr/bin/setpriv", "--reuid=65534", …]`)
    /// runs the daemon through another program.
    public init(
        config: String, extraArguments: [String] = [], startTimeout: Duration = .seconds(15),
        environment: [String: String] = [:], launcher: [String] = []
    ) throws {
        directory = try DaemonProcess.makeTemporaryDirectory()
        configPath = directory + "/faultline.json"
        logPath = directory + "/daemon.log"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        if !launcher.isEmpty {
            // The launcher may drop to another user, who must be able to read the config.
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: configPath)
        }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process = Process()
        let arguments = ["--config", configPath, "--log-format", "json"] + extraArguments
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [try DaemonProcess.binaryPath()] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: try DaemonProcess.binaryPath())
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(["RUNTIME_DIRECTORY": directory]) { _, new in new }
            .merging(environment) { _, new in new }
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        guard waitForLog(event: "daemon.started", timeout: startTimeout) != nil else {
            let lines = logText
            kill()
            throw DaemonError("faultlined did not log daemon.started within \(startTimeout); log:\n\(lines)")
        }
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Binary and files

    /// `$FAULTLINED_PATH`, else `faultlined` next to the test bundle (same build directory),
    /// else `<package root>/.build/debug/faultlined`.
    public static func binaryPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["FAULTLINED_PATH"], !path.isEmpty { return path }
        var candidates: [String] = []
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // The test bundle is `<build>/debug/X.xctest` (or a file inside it on other layouts).
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("faultlined").path)
            directory = directory.deletingLastPathComponent()
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/faultlined").path)
        for path in candidates where FileManager.default.isExecutableFile(atPath: path) { return path }
        throw DaemonError("faultlined not found (build it, or set FAULTLINED_PATH); looked at \(candidates)")
    }

    static func makeTemporaryDirectory() throws -> String {
        let base = NSTemporaryDirectory() + "faultline-itest-XXXXXX"
        var template = Array(base.utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed: errno \(errno)") }
        return String(cString: made)
    }

    /// Replaces the config file atomically (write to a temp file, rename), for SIGHUP tests.
    public func rewriteConfig(_ config: String) throws {
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    // MARK: Logs

    /// The whole log so far.
    public var logText: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The log lines so far, parsed (lines that are not JSON objects are skipped).
    public var logLines: [DaemonLogLine] {
        logText.split(separator: "\n").compactMap { DaemonLogLine(parsing: String($0)) }
    }

    /// Waits until a line with `event` appears at or after line index `from` (of `logLines`).
    public func waitForLog(event: String, from: Int = 0, timeout: Duration = .seconds(5)) -> DaemonLogLine? {
        let deadline = Deadline(after: timeout)
        while true {
            let lines = logLines
            if lines.count > from, let line = lines[from...].first(where: { $0.event == event }) { return line }
            if deadline.hasPassed || !isRunning && logLines.count == lines.count { return nil }
            usleep(10_000)
        }
    }

    /// The bound address of every route, from the `route.listening` lines (latest wins).
    public var routes: [String: Endpoint] {
        var out: [String: Endpoint] = [:]
        for line in logLines where line.event == "route.listening" {
            if let name = line["route"], let text = line["address"], let endpoint = Endpoint(parsing: text) {
                out[name] = endpoint
            }
        }
        return out
    }

    /// The bound address of one route.
    public func route(_ name: String) throws -> Endpoint {
        guard let endpoint = routes[name] else { throw DaemonError("no route.listening line for \(name); log:\n\(logText)") }
        return endpoint
    }

    // MARK: Signals and exit

    /// Sends `signal` to the daemon (only if it is still running).
    public func signal(_ signal: Int32) {
        guard isRunning else { return }
        if signal != SIGHUP { stopSignalled.withLock { $0 = true } }
        _ = Glibc.kill(process.processIdentifier, signal)
    }

    /// True when the daemon exited although no test asked it to stop (a crash, or an exit on its
    /// own): what every test's teardown checks.
    public var exitedUnexpectedly: Bool {
        !isRunning && !stopSignalled.withLock { $0 }
    }

    /// True until the process has exited.
    public var isRunning: Bool { exitStatusIfExited == nil }

    /// The exit status once the process has exited: its exit code, or 128 + the signal that
    /// killed it (so a crash never reads as a clean exit).
    ///
    /// Foundation reaps the child on its own thread and has been seen to miss a crashed daemon
    /// (a zombie it never reaps, with `isRunning` stuck at true and `waitUntilExit` hanging), so
    /// this also asks the kernel directly with `waitid(WNOWAIT)`, which reads the status without
    /// reaping it from under Foundation.
    private var exitStatusIfExited: Int32? {
        if let status = exitStatus.withLock({ $0 }) { return status }
        var status: Int32?
        if !process.isRunning {
            let code = process.terminationStatus
            status = process.terminationReason == .uncaughtSignal ? 128 + code : code
        } else {
            var info = siginfo_t()
            if waitid(P_PID, id_t(process.processIdentifier), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
               info._sifields._sigchld.si_pid == process.processIdentifier {
                let code = info._sifields._sigchld.si_status
                status = info.si_code == CLD_EXITED ? code : 128 + code
            }
        }
        if let status { exitStatus.withLock { $0 = status } }
        return status
    }

    /// Waits for the process to exit; its exit status (128 + signal for a signal), or nil if it
    /// is still running after `timeout`.
    public func waitForExit(timeout: Duration) -> Int32? {
        let deadline = Deadline(after: timeout)
        while true {
            if let status = exitStatusIfExited { return status }
            if deadline.hasPassed { return nil }
            usleep(5_000)
        }
    }

    /// SIGKILL if still running, then wait (bounded) for it to be gone.
    public func kill() {
        guard exitStatusIfExited == nil else { return }
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        _ = waitForExit(timeout: .seconds(5))
    }

    // MARK: --check-config

    /// Output of `faultlined --check-config PATH`.
    public struct CheckResult: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `faultlined --check-config` on `config` (written to a temporary file named
    /// `fileName`); `path` is the file path it was given.
    public static func checkConfig(_ config: String, fileName: String = "config.json", timeout: Duration = .seconds(20)) throws -> (path: String, result: CheckResult) {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/" + fileName
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, try checkConfig(path: path, timeout: timeout))
    }

    /// Runs `faultlined --check-config path`.
    public static func checkConfig(path: String, timeout: Duration = .seconds(20)) throws -> CheckResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binaryPath())
        process.arguments = ["--check-config", path]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Outputs are small (well under a pipe buffer), so reading after exit cannot deadlock.
        let deadline = Deadline(after: timeout)
        while process.isRunning && !deadline.hasPassed { usleep(5_000) }
        if process.isRunning {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
            throw DaemonError("--check-config did not exit within \(timeout)")
        }
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return CheckResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }
}

extension DaemonLogLine {
    init?(parsing line: String) {
        guard let data = line.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        var fields: [String: String] = [:]
        for (key, value) in object { fields[key] = value as? String ?? "\(value)" }
        self.fields = fields
        raw = line
    }
}

/// A daemon config as JSON text, for tests.
public struct TestConfig: Sendable {
    /// A route: name, listen and upstream addresses.
    public struct Route: Sendable {
        public var name: String
        public var listen: String
        public var upstream: String

        public init(name: String, listen: String = "127.0.0.1:0", upstream: Endpoint) {
            self.name = name
            self.listen = listen
            self.upstream = upstream.description
        }
    }

    public var seed = 7
    public var workers = 2
    public var maxConnections = 100
    public var connectTimeout = "1s"
    public var shutdownGrace = "5s"
    public var bufferBytes = 65536
    /// `limits.request_log`; nil leaves the default.
    public var requestLog: Int?
    public var routes: [Route]

    public init(routes: [Route]) { self.routes = routes }

    /// The config file text.
    public var json: String {
        let routeText = routes.map {
            #"{"name":"\#($0.name)","listen":"\#($0.listen)","upstream":"\#($0.upstream)"}"#
        }.joined(separator: ",")
        return #"""
        {"version":1,"seed":\#(seed),"workers":\#(workers),"limits":{"max_connections":\#(maxConnections),"connect_timeout":"\#(connectTimeout)","shutdown_grace":"\#(shutdownGrace)","buffer_bytes":\#(bufferBytes)\#(requestLog.map { ",\"request_log\":\($0)" } ?? "")},"routes":[\#(routeText)]}
        """#
    }
}
