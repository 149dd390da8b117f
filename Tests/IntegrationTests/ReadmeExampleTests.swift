import FaultlineClient
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

// The README's example ("Control from tests: FaultlineClient"), verbatim from the line
// `import FaultlineClient` to the end of the class: `testTheExampleIsTheReadmes` compares the two.
// README-EXAMPLE-BEGIN
final class CheckoutUnderChaosTests: XCTestCase {
    var faultline: FaultlineClient!

    override func setUpWithError() throws {
        guard let socket = ProcessInfo.processInfo.environment["FAULTLINE_SOCKET"] else {
            throw XCTSkip("FAULTLINE_SOCKET is not set: no faultlined to talk to")
        }
        faultline = FaultlineClient(socket: socket)
        try faultline.clearAll()  // start from a healthy network
    }

    func testCheckoutWaitsOutASlowDatabase() throws {
        let slowReplies = FaultSpec.latency(route: "db", delay: .milliseconds(200), direction: .downstream)
        try faultline.withFault(slowReplies) { fault in
            XCTAssertEqual(try faultline.faults().map(\.id), [fault.id])
            let started = ContinuousClock.now
            try checkout()
            XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(200))
        }
        XCTAssertEqual(try faultline.faults(), [])  // withFault clears, even when the body throws
    }

    func testARejectedFaultSaysWhy() throws {
        XCTAssertThrowsError(try faultline.apply(.latency(route: "no-such-route", delay: .milliseconds(5)))) { error in
            let rejection = error as? FaultlineClientError
            XCTAssertEqual(rejection?.status, 422)
            XCTAssertEqual(rejection?.code, "invalid_fault")
            XCTAssertEqual(rejection?.path, "route")
        }
    }
}
// README-EXAMPLE-END

/// The code under test in the README example: one request through route `db` (here an echo
/// upstream) and its reply.
func checkout() throws {
    let socket = try XCTUnwrap(ProcessInfo.processInfo.environment["FAULTLINE_SOCKET"])
    let route = try XCTUnwrap(try FaultlineClient(socket: socket).route("db").bound)
    let connection = try TestSocket.connect(to: route, timeout: .seconds(2))
    defer { connection.close() }
    let request = Array("SELECT 1".utf8)
    try connection.send(request)
    XCTAssertEqual(try connection.read(exactly: request.count, timeout: .seconds(5)), request)
}

/// Runs the README example against a daemon this test starts, the way a CI job would: the
/// daemon's socket in `$FAULTLINE_SOCKET`, a route `db` in front of the "database".
///
/// Run on its own (no `$FAULTLINE_SOCKET`), `CheckoutUnderChaosTests` skips, as it would for a
/// user without a daemon; here its methods are called directly, so their assertions count
/// against these tests and a skip is a failure.
final class ReadmeExampleTests: XCTestCase {
    func testTheExampleRunsAgainstARealDaemon() throws {
        let echo = try EchoServer()
        let control = try ControlDaemon(routes: [("db", echo.endpoint)])
        setenv("FAULTLINE_SOCKET", control.socketPath, 1)
        defer { unsetenv("FAULTLINE_SOCKET") }

        let tests: [(String, (CheckoutUnderChaosTests) -> () throws -> Void)] = [
            ("testCheckoutWaitsOutASlowDatabase", CheckoutUnderChaosTests.testCheckoutWaitsOutASlowDatabase),
            ("testARejectedFaultSaysWhy", CheckoutUnderChaosTests.testARejectedFaultSaysWhy),
        ]
        for (name, method) in tests {
            let example = CheckoutUnderChaosTests(name: name, testClosure: { _ in })
            do {
                try example.setUpWithError()
            } catch {
                XCTFail("\(name): setUp failed or skipped: \(error)")
                continue
            }
            try method(example)()
            try example.tearDownWithError()
        }

        // The example really put the fault on route db and took it off again.
        let client = FaultlineClient(socket: control.socketPath)
        let events = try client.journal().filter { $0.event.hasPrefix("fault.") }
        XCTAssertEqual(events.map(\.event), ["fault.applied", "fault.injected", "fault.cleared"])
        XCTAssertEqual(events.first?.fields["fault"]?.objectValue?["route"], "db")
        XCTAssertEqual(events.first?.fields["fault"]?.objectValue?["delay"], "200ms")
    }

    /// The README shows exactly the code between the markers of this file.
    func testTheExampleIsTheReadmes() throws {
        let thisFile = try String(contentsOfFile: #filePath, encoding: .utf8)
        let readmePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md").path
        let readme = try String(contentsOfFile: readmePath, encoding: .utf8)
        let section = try XCTUnwrap(readme.range(of: "## Control from tests: FaultlineClient"))
        let blockStart = try XCTUnwrap(readme.range(of: "```swift\nimport FaultlineClient", range: section.upperBound..<readme.endIndex))
        let codeStart = readme.index(blockStart.lowerBound, offsetBy: "```swift\n".count)
        let blockEnd = try XCTUnwrap(readme.range(of: "```\n", range: codeStart..<readme.endIndex))
        let shown = String(readme[codeStart..<blockEnd.lowerBound])

        let begin = try XCTUnwrap(thisFile.range(of: "// README-EXAMPLE-BEGIN\n"))
        let end = try XCTUnwrap(thisFile.range(of: "// README-EXAMPLE-END"))
        let classText = String(thisFile[begin.upperBound..<end.lowerBound])
        let imports = try XCTUnwrap(shown.components(separatedBy: "final class").first)
        XCTAssertEqual(imports + classText, shown, "README example and ReadmeExampleTests.swift differ")
        // The example's imports are this file's too (it has more, for the driver below).
        for line in imports.split(separator: "\n") {
            XCTAssertTrue(thisFile.hasPrefix(line + "\n") || thisFile.contains("\n" + line + "\n"), "this file lacks \(line)")
        }
    }
}
