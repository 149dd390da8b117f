import XCTest

/// Latency budget (examples/latency-budget): client → A → B → C through three routes; a latency
/// fault of 17 % of the chain's normal latency L on b-c. The end-to-end p50 moves by the delay in
/// both runs. A deadline of 1.1 × L holds normally and fires on (nearly) every request under the
/// fault, while C still does the work; a budget of 1.5 × the normal p99 never fires.
final class ScenarioLatencyBudgetTests: XCTestCase {
    func testLatencyBudget() throws {
        let outcome = try runScenario("latency-budget")
        let out = outcome.output
        let perPhase = try XCTUnwrap(outcome.number("buggy", "requests_per_phase"), out)
        for variant in ["buggy", "correct"] {
            XCTAssertEqual(outcome.number(variant, "fault_applied"), 1, out)
            let normal = try XCTUnwrap(outcome.number(variant, "normal_p50_ms"), out)
            let delay = try XCTUnwrap(outcome.number(variant, "delay_ms"), out)
            XCTAssertEqual(delay, (0.17 * normal).rounded(), accuracy: 1, out)
            let shift = try XCTUnwrap(outcome.number(variant, "p50_shift_ms"), out)
            XCTAssertEqual(shift, delay, accuracy: max(0.35 * delay, 3), out)
            XCTAssertGreaterThan(outcome.number(variant, "e2e_p50_after_ms") ?? 0, outcome.number(variant, "e2e_p50_before_ms") ?? 0, out)
        }
        let buggyDeadline = try XCTUnwrap(outcome.number("buggy", "deadline_ms"), out)
        let correctDeadline = try XCTUnwrap(outcome.number("correct", "deadline_ms"), out)
        XCTAssertEqual(buggyDeadline, 1.1 * (outcome.number("buggy", "normal_p50_ms") ?? 0), accuracy: 0.2, out)
        XCTAssertEqual(correctDeadline, 1.5 * (outcome.number("correct", "normal_p99_ms") ?? 0), accuracy: 0.2, out)
        XCTAssertLessThan(buggyDeadline, outcome.number("buggy", "e2e_p50_after_ms") ?? 0, out)
        XCTAssertGreaterThan(correctDeadline, outcome.number("correct", "e2e_p50_after_ms") ?? .infinity, out)

        // run.py recalibrates the buggy variant (at most 3 attempts) when a loaded machine makes
        // its normal day miss the tight deadline; the last attempt must hold.
        XCTAssertLessThanOrEqual(outcome.number("buggy", "attempts") ?? 4, 3, out)
        XCTAssertLessThanOrEqual(outcome.number("buggy", "misses_before") ?? perPhase, perPhase * 3 / 10, out)
        XCTAssertLessThanOrEqual(outcome.number("buggy", "late_before") ?? perPhase, perPhase / 5, out)
        let buggyMisses = try XCTUnwrap(outcome.number("buggy", "misses_after"), out)
        XCTAssertGreaterThanOrEqual(buggyMisses, perPhase / 2, out)
        XCTAssertGreaterThanOrEqual(outcome.number("buggy", "late_after") ?? 0, perPhase / 2, out)
        XCTAssertEqual(outcome.number("buggy", "orphaned"), buggyMisses, out)

        XCTAssertEqual(outcome.number("correct", "misses_before"), 0, out)
        XCTAssertEqual(outcome.number("correct", "misses_after"), 0, out)
        XCTAssertEqual(outcome.number("correct", "late_before"), 0, out)
        XCTAssertEqual(outcome.number("correct", "late_after"), 0, out)
        XCTAssertEqual(outcome.number("correct", "orphaned"), 0, out)
    }
}
