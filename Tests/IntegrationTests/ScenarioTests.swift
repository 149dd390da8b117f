import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// What a scenario's `--json` run reported (the SCENARIO-RESULT line of examples/lib/harness.py).
struct ScenarioOutcome {
    let passed: Bool
    let failures: [String]
    /// Per variant, its numbers.
    let results: [String: [String: Any]]
    let output: String

    func number(_ variant: String, _ name: String) -> Double? {
        (results[variant]?[name] as? NSNumber)?.doubleValue
    }

    func string(_ variant: String, _ name: String) -> String? {
        results[variant]?[name] as? String
    }
}

/// The repository's root (examples/ and Config/scenarios/ live there).
let scenarioRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Runs `examples/NAME/run.py --json --quiet` with the daemon under test; fails the test when the
/// scenario's own verdict is "failed" or its exit status disagrees with it.
func runScenario(
    _ name: String, arguments: [String] = [], timeout: Duration = .seconds(90), file: StaticString = #filePath, line: UInt = #line
) throws -> ScenarioOutcome {
    let script = scenarioRoot + "/examples/\(name)/run.py"
    let run = try runProcess(
        ["/usr/bin/python3", script, "--faultlined", try DaemonProcess.binaryPath(), "--json", "--quiet"] + arguments,
        timeout: timeout)
    guard let resultLine = run.output.split(separator: "\n").last(where: { $0.hasPrefix("SCENARIO-RESULT ") }) else {
        throw DaemonError("scenario \(name) printed no result (exit \(run.status)):\n\(run.output)")
    }
    let json = try JSONSerialization.jsonObject(with: Data(resultLine.dropFirst("SCENARIO-RESULT ".count).utf8))
    guard let object = json as? [String: Any] else { throw DaemonError("bad result line: \(resultLine)") }
    let outcome = ScenarioOutcome(
        passed: object["passed"] as? Bool ?? false,
        failures: object["failures"] as? [String] ?? [],
        results: object["results"] as? [String: [String: Any]] ?? [:],
        output: run.output)
    XCTAssertEqual(run.status, outcome.passed ? 0 : 1, "exit status and verdict disagree:\n\(run.output)", file: file, line: line)
    XCTAssertTrue(outcome.passed, "scenario \(name) failed: \(outcome.failures)\n\(run.output)", file: file, line: line)
    return outcome
}

/// The scenarios of `examples/` (Scripts/scenario NAME), run against the daemon under test, with
/// the numbers their stories print asserted here: a scenario whose buggy variant stops failing
/// (or whose correct one stops passing) can no longer tell the two apart, and fails. (Each
/// scenario's test class lives in its own file: Scenario<Name>Tests.swift.)
final class ScenarioTests: XCTestCase {
    /// Idempotency: the lost answer makes the keyless client charge twice; the key makes it once.
    func testIdempotency() throws {
        let outcome = try runScenario("idempotency")
        XCTAssertEqual(outcome.number("buggy", "charges"), 2, outcome.output)
        XCTAssertEqual(outcome.number("correct", "charges"), 1, outcome.output)
        for variant in ["buggy", "correct"] {
            XCTAssertEqual(outcome.number(variant, "http_faults"), 1, outcome.output)
            XCTAssertEqual(outcome.number(variant, "hang"), 1, outcome.output)
            XCTAssertEqual(outcome.number(variant, "ok"), 1, outcome.output)
            XCTAssertEqual(outcome.number(variant, "attempts"), 2, outcome.output)
        }
    }
}
