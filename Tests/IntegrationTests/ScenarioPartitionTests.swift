import Foundation
import XCTest

/// Partition (examples/partition): a real 3-member etcd cluster, its leader isolated by Faultline,
/// a new leader elected by the majority, the partition healed. A client pinned to the old
/// leader's endpoint that never checks its writes loses the ones it made during the partition;
/// a client that uses every endpoint and counts only acknowledged writes keeps writing through
/// the partition and finds every one of them on every member afterwards.
///
/// Needs root (network namespaces) and etcd: the scenario then reports itself skipped, and so
/// does this test (XCTSkip), rather than passing without having run.
final class ScenarioPartitionTests: XCTestCase {
    func testPartition() throws {
        let began = Date()
        let outcome = try runScenario("partition", timeout: .seconds(90))
        if let reason = outcome.string("skipped", "reason") {
            throw XCTSkip("partition scenario skipped: \(reason)")
        }
        for variant in ["buggy", "correct"] {
            let before = outcome.number(variant, "term_before") ?? 0
            XCTAssertGreaterThan(outcome.number(variant, "term_elected") ?? 0, before, "a new term: \(outcome.output)")
            XCTAssertNotEqual(outcome.string(variant, "new_leader"), outcome.string(variant, "leader"), outcome.output)
            XCTAssertEqual(outcome.number(variant, "links_blocked"), 8, outcome.output)
            XCTAssertEqual(outcome.number(variant, "partition_events"), 2, outcome.output)
            XCTAssertEqual(outcome.number(variant, "missing_acked"), 0, "etcd lost an acknowledged write: \(outcome.output)")
            XCTAssertGreaterThan(outcome.number(variant, "during_partition") ?? 0, 0, outcome.output)
        }
        // Buggy: pinned to the isolated member, nothing acknowledged while it lasted, writes lost.
        XCTAssertEqual(outcome.number("buggy", "acked_during_partition"), 0, outcome.output)
        XCTAssertGreaterThan(outcome.number("buggy", "missing_believed") ?? 0, 0, outcome.output)
        XCTAssertGreaterThan(outcome.number("buggy", "believed") ?? 0, outcome.number("buggy", "acked") ?? 0, outcome.output)
        // Correct: the majority took its writes, every acknowledged one is there.
        XCTAssertGreaterThan(outcome.number("correct", "acked_during_partition") ?? 0, 0, outcome.output)
        XCTAssertEqual(outcome.number("correct", "missing_believed"), 0, outcome.output)
        XCTAssertLessThan(outcome.number("correct", "stale_read_keys") ?? -1, outcome.number("correct", "majority_keys") ?? -1, outcome.output)
        XCTAssertGreaterThanOrEqual(outcome.number("correct", "stale_read_keys") ?? -1, 0, outcome.output)
        XCTAssertLessThan(Date().timeIntervalSince(began), 60, "the scenario must stay under a minute")
    }
}
