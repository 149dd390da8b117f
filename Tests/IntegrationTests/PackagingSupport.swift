import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// Helpers of the packaging tests (systemd unit, .deb, Kubernetes manifests): running tools with
/// their output in files, finding them, and a daemon started through a launcher command.
enum Packaging {
    /// The package root (this file is Tests/IntegrationTests/PackagingSupport.swift).
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// One finished command: exit status and its stdout and stderr together.
    struct Run: CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let output: String
        var description: String { "\(arguments.joined(separator: " ")) exited \(status):\n\(output)" }
    }

    /// The absolute path of `tool` on PATH (or in /usr/sbin, /sbin), or nil.
    static func which(_ tool: String) -> String? {
        if tool.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `arguments[0]` (a path, or a name looked up on PATH) with the rest, output to a file
    /// (so a chatty build cannot fill a pipe); killed by pid after `timeout`.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        timeout: Duration = .seconds(60)
    ) throws -> Run {
        guard let executable = which(arguments[0]) else { throw DaemonError("\(arguments[0]) not found on PATH") }
        let outputPath = NSTemporaryDirectory() + "faultline-run-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? output.close()
        let deadline = Deadline(after: timeout)
        while process.isRunning && !deadline.hasPassed { usleep(10_000) }
        if process.isRunning {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let text = mergedOutputText(ofFile: outputPath)
            throw DaemonError("\(arguments.joined(separator: " ")) did not exit within \(timeout); output:\n\(text)")
        }
        let text = mergedOutputText(ofFile: outputPath)
        return Run(arguments: arguments, status: process.terminationStatus, output: text)
    }

    /// A fresh directory `prefix.XXXXXX` under `base`.
    static func makeDirectory(under base: String = NSTemporaryDirectory(), prefix: String) throws -> String {
        var template = Array("\(base.hasSuffix("/") ? base : base + "/")\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp under \(base) failed: errno \(errno)") }
        return String(cString: made)
    }

    /// A TCP port below 1024 that is free on 127.0.0.1 now (binding one needs root here).
    static func freePrivilegedPort() throws -> UInt16 {
        for port in UInt16(900)..<1000 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
        throw DaemonError("no free port in 900..<1000 on 127.0.0.1")
    }
}

/// `faultlined` started through a launcher (`unit-sandbox.py …`, or the binary itself), logging
/// JSON to a file; killed by pid when it goes away. `environment` adds to or overrides the
/// inherited variables.
final class LaunchedDaemon {
    let process = Process()
    let logPath: String

    init(_ arguments: [String], logPath: String, startTimeout: Duration = .seconds(20), environment: [String: String] = [:]) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        guard waitForLog("daemon.started", timeout: startTimeout) else {
            let text = logText
            stop()
            throw DaemonError("faultlined did not log daemon.started within \(startTimeout); log:\n\(text)")
        }
    }

    deinit { stop() }

    var pid: Int32 { process.processIdentifier }
    var logText: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until a log line names `event` (JSON `"event":"…"` or text ` event `).
    func waitForLog(_ event: String, timeout: Duration = .seconds(5)) -> Bool {
        let deadline = Deadline(after: timeout)
        while !deadline.hasPassed {
            let text = logText
            if text.contains("\"event\":\"\(event)\"") || text.contains(" \(event) ") { return true }
            if !process.isRunning { return false }
            usleep(20_000)
        }
        return false
    }

    /// SIGTERM and the exit status, or nil if still running after `timeout`.
    func terminate(timeout: Duration = .seconds(15)) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        _ = Glibc.kill(pid, SIGTERM)
        let deadline = Deadline(after: timeout)
        while process.isRunning && !deadline.hasPassed { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func stop() {
        guard process.isRunning else { return }
        _ = Glibc.kill(pid, SIGKILL)
        process.waitUntilExit()
    }
}
