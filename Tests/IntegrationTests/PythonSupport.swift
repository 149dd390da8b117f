import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

// Shared by the tests that shell out to Python tools and promtool (SchemaTests, DashboardTests,
// PythonClientTests).

/// The repository's root directory.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The project's Python with the PyPI packages the tests use (jsonschema, pytest):
/// `$FAULTLINE_PYTHON`, else `.build/venv/bin/python`, the virtual environment `Scripts/test` makes
/// with `ensure_pip` (Scripts/lib/deps.sh). Missing is a failure, not a skip: CI runs Scripts/test,
/// so a missing tool there is a broken install step, which a skip would hide.
func projectPython(file: StaticString = #filePath, line: UInt = #line) throws -> String {
    if let path = ProcessInfo.processInfo.environment["FAULTLINE_PYTHON"], !path.isEmpty { return path }
    let path = repositoryRoot.appendingPathComponent(".build/venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        XCTFail("\(path) is missing: run Scripts/test (its ensure_pip makes .build/venv with jsonschema and pytest), or set FAULTLINE_PYTHON", file: file, line: line)
        throw DaemonError("no project Python")
    }
    return path
}

/// promtool (Debian package prometheus, which Scripts/test installs). Missing is a failure, as above.
func promtoolPath(file: StaticString = #filePath, line: UInt = #line) throws -> String {
    guard let path = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        XCTFail("promtool is not installed (Debian package prometheus; Scripts/test installs it)", file: file, line: line)
        throw DaemonError("no promtool")
    }
    return path
}

/// Runs `arguments` with stdout and stderr going to one temporary file (so a chatty tool cannot
/// fill a pipe and stall), in `directory`, with `environment` added to this process's. After
/// `timeout` it gets SIGTERM (so a pytest run can stop the daemons it started), then SIGKILL 5 s later.
func runTool(
    _ arguments: [String], environment: [String: String] = [:], directory: String? = nil, timeout: Duration
) throws -> (status: Int32, output: String) {
    let outputPath = NSTemporaryDirectory() + "fl-tool-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).out"
    guard FileManager.default.createFile(atPath: outputPath, contents: nil),
          let output = FileHandle(forWritingAtPath: outputPath) else { throw DaemonError("cannot create \(outputPath)") }
    defer { try? FileManager.default.removeItem(atPath: outputPath) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    try? output.close()
    let deadline = Deadline(after: timeout)
    while process.isRunning && !deadline.hasPassed { usleep(10_000) }
    var timedOut = false
    if process.isRunning {
        timedOut = true
        _ = Glibc.kill(process.processIdentifier, SIGTERM)
        let grace = Deadline(after: .seconds(5))
        while process.isRunning && !grace.hasPassed { usleep(10_000) }
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
    let text = mergedOutputText(ofFile: outputPath)
    if timedOut { throw DaemonError("\(arguments) did not exit within \(timeout); output:\n\(text)") }
    return (process.terminationStatus, text)
}

/// The text of a file that a tool's stdout and stderr share (`runTool`, `Packaging.run`), an invalid
/// UTF-8 sequence replaced (U+FFFD) rather than the whole text lost: a line on stderr can land
/// between the bytes of one character that stdout wrote in two blocks.
func mergedOutputText(ofFile path: String) -> String {
    guard let data = FileManager.default.contents(atPath: path) else { return "" }
    return String(decoding: data, as: UTF8.self)
}

/// A fresh temporary directory, removed by the caller.
func makeScratchDirectory(_ prefix: String) throws -> String {
    var template = Array((NSTemporaryDirectory() + prefix + "-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed: errno \(errno)") }
    return String(cString: made)
}
