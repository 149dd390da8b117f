import XCTest

/// Trace (examples/trace): one of 8 traced requests has its hop A → B aborted. Without propagation
/// the journal's http.fault carries no traceparent and the failing trace id finds nothing; with it,
/// the lookup finds exactly that request's event and no other trace finds any.
final class ScenarioTraceTests: XCTestCase {
    func testTrace() throws {
        let outcome = try runScenario("trace")
        XCTAssertEqual(outcome.number("buggy", "traced_faults"), 0, outcome.output)
        XCTAssertEqual(outcome.number("buggy", "matches"), 0, outcome.output)
        XCTAssertEqual(outcome.number("buggy", "hops_traced"), 0, outcome.output)
        XCTAssertEqual(outcome.number("correct", "traced_faults"), 1, outcome.output)
        XCTAssertEqual(outcome.number("correct", "matches"), 1, outcome.output)
        XCTAssertEqual(outcome.number("correct", "hops_traced"), 8, outcome.output)
        for variant in ["buggy", "correct"] {
            XCTAssertEqual(outcome.number(variant, "requests"), 8, outcome.output)
            XCTAssertEqual(outcome.number(variant, "failed"), 1, outcome.output)
            XCTAssertEqual(outcome.string(variant, "failed_sku"), "sku-5", outcome.output)
            XCTAssertEqual(outcome.number(variant, "http_faults"), 1, outcome.output)
            XCTAssertEqual(outcome.number(variant, "other_matches"), 0, outcome.output)
            XCTAssertEqual(outcome.number(variant, "catalog_503"), 1, outcome.output)
            XCTAssertEqual(outcome.number(variant, "catalog_200"), 7, outcome.output)
        }
    }
}
