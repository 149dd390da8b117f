import FaultlineTestSupport
import Foundation
import XCTest

/// The Python client (clients/python): `pip install ./clients/python` into the project's
/// environment (.build/venv, made by Scripts/test), then its own pytest suite, which starts this
/// build's faultlined and exercises every method, the typed errors and the pytest fixture.
///
/// The pytest run lives here rather than as a step after `swift test` in Scripts/test so that
/// one runner and one exit status cover everything, and `Scripts/test --filter PythonClient`
/// runs it alone.
final class PythonClientTests: XCTestCase {
    func testPipInstallsTheClientAndItsPytestSuitePasses() throws {
        let python = try projectPython()
        let package = repositoryRoot.appendingPathComponent("clients/python").path
        // pip builds it (setuptools from the index, in an isolated build environment) and
        // replaces any older install, so the suite below imports what this checkout says.
        let install = try runTool([python, "-m", "pip", "install", "-q", package], timeout: .seconds(300))
        XCTAssertEqual(install.status, 0, "pip install ./clients/python:\n\(install.output)")

        let run = try runTool(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", "tests"],
            environment: ["FAULTLINED": try DaemonProcess.binaryPath(), "PYTHONDONTWRITEBYTECODE": "1",
                          "FAULTLINE_SOCKET": "", "FAULTLINE_URL": ""],
            directory: package, timeout: .seconds(300))
        XCTAssertEqual(run.status, 0, "pytest clients/python/tests:\n\(run.output)")
        // The summary line, e.g. "17 passed in 4.2s": every test ran, none was skipped.
        let summary = run.output.split(separator: "\n").last(where: { $0.contains(" passed") }) ?? ""
        let passed = Int(summary.split(separator: " ").first ?? "") ?? 0
        XCTAssertGreaterThanOrEqual(passed, 18, "pytest ran fewer tests than the suite has:\n\(run.output)")
        XCTAssertFalse(summary.contains("failed") || summary.contains("skipped") || summary.contains("error"), String(summary))
    }
}
