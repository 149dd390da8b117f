import XCTest

/// Saga (examples/saga): the inventory step of every order is aborted once (503, attempts first 1
/// per X-Order-Id). Without compensation each order is a ghost (payment captured, never confirmed
/// nor refunded); with compensation each is refunded and cancelled.
final class ScenarioSagaTests: XCTestCase {
    func testSaga() throws {
        let outcome = try runScenario("saga")
        XCTAssertEqual(outcome.number("buggy", "ghosts"), 5, outcome.output)
        XCTAssertEqual(outcome.number("buggy", "refunds"), 0, outcome.output)
        XCTAssertEqual(outcome.number("buggy", "refund_calls"), 0, outcome.output)
        XCTAssertEqual(outcome.number("buggy", "held"), 150, outcome.output)
        XCTAssertEqual(outcome.number("buggy", "payment_ok"), 5, outcome.output)
        XCTAssertEqual(outcome.number("correct", "ghosts"), 0, outcome.output)
        XCTAssertEqual(outcome.number("correct", "refunds"), 5, outcome.output)
        XCTAssertEqual(outcome.number("correct", "refund_calls"), 5, outcome.output)
        XCTAssertEqual(outcome.number("correct", "held"), 0, outcome.output)
        XCTAssertEqual(outcome.number("correct", "payment_ok"), 10, outcome.output)
        for variant in ["buggy", "correct"] {
            XCTAssertEqual(outcome.number(variant, "orders"), 5, outcome.output)
            XCTAssertEqual(outcome.number(variant, "captures"), 5, outcome.output)
            XCTAssertEqual(outcome.number(variant, "confirmed"), 0, outcome.output)
            XCTAssertEqual(outcome.number(variant, "http_faults"), 5, outcome.output)
            XCTAssertEqual(outcome.number(variant, "inventory_503"), 5, outcome.output)
        }
    }
}
