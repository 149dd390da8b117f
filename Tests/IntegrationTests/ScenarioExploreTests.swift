import XCTest

/// Explore (examples/explore): against the primary that acknowledges before it replicates,
/// `faultctl explore` finds a failing schedule, shrinks it to one partition step between n1 and
/// n2, and its replay fails again every time; against the fixed primary the same search (same
/// seed, same trials) finds nothing. docs/EXPLORE.md has the five-seed run.
final class ScenarioExploreTests: XCTestCase {
    func testExploreFindsShrinksAndReplaysTheLostWrite() throws {
        let outcome = try runScenario("explore", arguments: ["--seeds", "7", "--replays", "3"], timeout: .seconds(600))
        let buggy = try XCTUnwrap(outcome.results["buggy"]?["runs"] as? [[String: Any]], outcome.output)
        XCTAssertEqual(buggy.count, 1)
        let run = buggy[0]
        XCTAssertEqual(run["found"] as? Bool, true, outcome.output)
        XCTAssertEqual(run["steps"] as? Int, 1, outcome.output)
        XCTAssertEqual(run["kinds"] as? [String], ["partition"], outcome.output)
        let groups = try XCTUnwrap((run["groups"] as? [Any])?.first as? [[String]], outcome.output)
        XCTAssertEqual(Set(groups.map(Set.init)), [["n1"], ["n2"]], "narrowed to the one link that matters: \(outcome.output)")
        XCTAssertEqual(run["replay_failed"] as? Int, 3, outcome.output)
        let correct = try XCTUnwrap(outcome.results["correct"]?["runs"] as? [[String: Any]], outcome.output)
        XCTAssertEqual(correct.first?["found"] as? Bool, false, outcome.output)
        XCTAssertEqual(correct.first?["trials"] as? Int, 12, "every trial of the budget ran and held: \(outcome.output)")
    }
}
