import Foundation
import XCTest

/// Hung downstream (examples/hung-downstream): A (4 workers) calls B through Faultline for every
/// /work, and Faultline holds each of those calls for 30 s. Without a timeout A's pool fills
/// with hung calls and its health check stops answering; with a 300 ms timeout and a breaker A
/// answers every health probe and every /work (degraded), and the report says its breaker opened.
final class ScenarioHungDownstreamTests: XCTestCase {
    func testHungDownstream() throws {
        let began = Date()
        let outcome = try runScenario("hung-downstream", timeout: .seconds(60))
        for variant in ["buggy", "correct"] {
            XCTAssertEqual(outcome.number(variant, "work_sent"), 80, outcome.output)
            XCTAssertEqual(outcome.number(variant, "health_probes"), 20, outcome.output)
            XCTAssertEqual(outcome.number(variant, "b_served"), 0, "B never sees a held call: \(outcome.output)")
        }
        // Buggy: nothing answered, the pool exhausted, four calls hung that never ended.
        XCTAssertEqual(outcome.number("buggy", "work_answered"), 0, outcome.output)
        XCTAssertGreaterThanOrEqual(outcome.number("buggy", "health_failed") ?? 0, 18, outcome.output)
        XCTAssertEqual(outcome.number("buggy", "calls_to_b"), 4, outcome.output)
        XCTAssertEqual(outcome.number("buggy", "report_requests"), 0, outcome.output)
        XCTAssertEqual(outcome.string("buggy", "breaker"), "not_tested", outcome.output)
        // Correct: healthy, degraded, and a breaker the report can see open.
        XCTAssertEqual(outcome.number("correct", "health_ok"), 20, outcome.output)
        XCTAssertEqual(outcome.number("correct", "health_failed"), 0, outcome.output)
        XCTAssertEqual(outcome.number("correct", "work_answered"), 80, outcome.output)
        XCTAssertEqual(outcome.number("correct", "work_degraded"), 80, outcome.output)
        XCTAssertEqual(outcome.string("correct", "breaker"), "opened", outcome.output)
        XCTAssertGreaterThanOrEqual(outcome.number("correct", "breaker_longest_pause_ms") ?? 0, 200, outcome.output)
        XCTAssertGreaterThanOrEqual(outcome.number("correct", "breaker_opened") ?? 0, 2, outcome.output)
        let calls = outcome.number("correct", "calls_to_b") ?? 0
        XCTAssertGreaterThanOrEqual(calls, 5, outcome.output)
        XCTAssertLessThan(calls, 20, outcome.output)
        XCTAssertEqual(outcome.number("correct", "report_requests"), calls, "every call A abandoned is in the log: \(outcome.output)")
        XCTAssertLessThan(Date().timeIntervalSince(began), 60, "the scenario must stay under a minute")
    }
}
