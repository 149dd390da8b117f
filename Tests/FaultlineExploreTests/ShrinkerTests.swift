import FaultlineConfig
@testable import FaultlineExplore
import Testing

/// The shrinker against synthetic oracles: functions of the schedule standing in for a system
/// under test, so what "minimal" means is known exactly.
@Suite struct ShrinkerTests {
    private func latency(_ delay: Int, for lasting: Int = 2000, at: Int = 1000, route: String = "api") -> ExploreStep {
        ExploreStep(at: .milliseconds(at), forDuration: .milliseconds(lasting),
                    fault: JSONObject([("type", "latency"), ("route", .string(route)), ("delay", .string("\(delay)ms"))]))
    }

    private func partition(_ groups: [[String]], for lasting: Int = 3000, at: Int = 500) -> ExploreStep {
        var step = ExploreStep(at: .milliseconds(at), forDuration: .milliseconds(lasting), fault: JSONObject([("type", "partition")]))
        step.groups = groups
        return step
    }

    private func delay(_ step: ExploreStep) -> Duration? {
        step.fault["delay"]?.stringValue.flatMap { try? DurationParser.parse($0).get() }
    }

    @Test("a failure that needs steps 2 and 5 together keeps exactly those two, in few oracle calls")
    func twoStepsTogether() {
        let steps = (0..<8).map { latency(10 * ($0 + 1), route: "r\($0)") }
        let needed = [steps[2].fault["route"], steps[5].fault["route"]]
        var calls = 0
        let outcome = Shrinker(confirm: 1, maxCandidates: 500).shrink(steps) { candidate in
            calls += 1
            let routes = candidate.map { $0.fault["route"] }
            return needed.allSatisfy { routes.contains($0) }
        }
        #expect(outcome.minimal.map { $0.fault["route"] } == needed)
        #expect(outcome.stepsRemoved == 6)
        #expect(outcome.runs == calls)
        // Removal takes about 2·k·log2(n/k) calls; each value the oracle ignores then goes to
        // its floor in one more.
        #expect(calls <= 40, "\(calls) oracle calls")
        print("[explore] steps 2 and 5 of 8: \(calls) oracle calls, \(outcome.accepted) shrinks kept")
    }

    @Test("a failure that needs a delay of at least 300 ms shrinks to the smallest halving above it")
    func delayThreshold() {
        let start = [latency(5, route: "other"), latency(2000, for: 4000, at: 3000)]
        var calls = 0
        let outcome = Shrinker(confirm: 1, maxCandidates: 500).shrink(start) { candidate in
            calls += 1
            return candidate.contains { ($0.fault["route"] == "api") && (delay($0) ?? .zero) >= .milliseconds(300) }
        }
        #expect(outcome.minimal.count == 1)
        let kept = outcome.minimal[0]
        // 2000 → 1000 → 500 → 250 fails the oracle, so 500 ms is the local minimum.
        #expect(delay(kept) == .milliseconds(500))
        #expect(kept.forDuration == .milliseconds(1), "for halves down to 1 ms: the oracle ignores it")
        #expect(kept.at == .zero)
        #expect(calls <= 60, "\(calls) oracle calls")
        print("[explore] delay >= 300 ms: \(calls) oracle calls, minimal \(kept.summary)")
    }

    @Test("a partition narrows to the two nodes whose link matters")
    func narrowPartition() {
        let start = [partition([["n1", "n4"], ["n6"], ["n2", "n3", "n5"]])]
        let outcome = Shrinker(confirm: 1, maxCandidates: 500).shrink(start) { candidate in
            candidate.contains { step in
                guard let groups = step.groups, step.forDuration >= .milliseconds(400) else { return false }
                let side1 = groups.firstIndex { $0.contains("n1") }
                let side3 = groups.firstIndex { $0.contains("n3") }
                return side1 != nil && side3 != nil && side1 != side3
            }
        }
        #expect(outcome.minimal.first?.groups == [["n1"], ["n3"]])
        #expect(outcome.minimal.first?.forDuration == .milliseconds(750))
        #expect(outcome.minimal.first?.summary == "partition [n1] / [n3] for 750ms at 0s")
    }

    @Test("a flaky oracle does not shrink to noise: with confirm 2 only candidates that fail twice are kept")
    func flakyOracle() {
        // The real failure needs step "api" with delay >= 300 ms. On top, every third run fails
        // whatever it is given (a flaky check).
        let start = [latency(5, route: "noise"), latency(1000)]
        var run = 0
        func flaky(_ candidate: [ExploreStep]) -> Bool {
            run += 1
            if run % 3 == 0 { return true }
            return candidate.contains { $0.fault["route"] == "api" && (delay($0) ?? .zero) >= .milliseconds(300) }
        }
        let outcome = Shrinker(confirm: 2, maxCandidates: 500).shrink(start, fails: flaky)
        #expect(outcome.minimal.count == 1)
        #expect(outcome.minimal.first?.fault["route"] == "api")
        #expect((delay(outcome.minimal[0]) ?? .zero) >= .milliseconds(300), "\(outcome.minimal[0].summary)")
        #expect(outcome.runs <= 2 * outcome.candidates)

        // With confirm 1 the same flaky check is believed, and the schedule shrinks below the threshold.
        run = 0
        let fooled = Shrinker(confirm: 1, maxCandidates: 500).shrink(start, fails: flaky)
        #expect(fooled.minimal.contains { (delay($0) ?? .zero) < .milliseconds(300) } || fooled.minimal.first?.fault["route"] == "noise",
                "confirm 1 shrank to noise: \(fooled.minimal.map(\.summary))")
    }

    @Test("the candidate budget stops a shrink and says so")
    func budget() {
        let start = (0..<6).map { latency(100, route: "r\($0)") }
        let outcome = Shrinker(confirm: 1, maxCandidates: 3).shrink(start) { _ in true }
        #expect(outcome.candidates == 3)
        #expect(outcome.budgetSpent)
    }
}
