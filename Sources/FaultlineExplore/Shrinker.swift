import FaultlineConfig

/// Shrinks a failing schedule to a smaller one that still fails: first fewer steps (delta
/// debugging), then each step simpler — shorter, earlier, milder, narrower — one change at a
/// time, keeping every change that still fails, until no change does (a local minimum) or the
/// budget is spent.
///
/// A candidate counts as failing only if it fails `confirm` runs out of `confirm` (it stops at
/// the first run that holds), so a flaky check does not shrink to noise.
public struct Shrinker {
    public struct Outcome: Sendable, Hashable {
        /// The smallest failing schedule found.
        public var minimal: [ExploreStep]
        /// Candidates that still failed and were kept.
        public var accepted: Int
        /// Candidates tried.
        public var candidates: Int
        /// Runs of the oracle (at most `candidates × confirm`).
        public var runs: Int
        /// Steps removed from the schedule that first failed.
        public var stepsRemoved: Int
        /// True when the budget ran out before a local minimum.
        public var budgetSpent: Bool
    }

    public let confirm: Int
    public let maxCandidates: Int
    /// Asked before each candidate; true stops shrinking (the time budget).
    public let outOfTime: () -> Bool

    public init(confirm: Int, maxCandidates: Int, outOfTime: @escaping () -> Bool = { false }) {
        self.confirm = max(1, confirm)
        self.maxCandidates = maxCandidates
        self.outOfTime = outOfTime
    }

    /// `fails(steps)` runs one trial of `steps` and says whether the invariant broke.
    public func shrink(_ failing: [ExploreStep], fails: ([ExploreStep]) -> Bool) -> Outcome {
        var outcome = Outcome(minimal: failing, accepted: 0, candidates: 0, runs: 0, stepsRemoved: 0, budgetSpent: false)
        func stillFails(_ candidate: [ExploreStep]) -> Bool? {
            guard outcome.candidates < maxCandidates, !outOfTime() else {
                outcome.budgetSpent = true
                return nil
            }
            outcome.candidates += 1
            for _ in 0..<confirm {
                outcome.runs += 1
                if !fails(candidate) { return false }
            }
            outcome.accepted += 1
            return true
        }

        var steps = failing
        // Fewer steps, then simpler ones, again while either changed something: a simpler step
        // can make another one unnecessary.
        var round = 0
        rounds: while true {
            round += 1
            let before = steps
            guard removeSteps(&steps, stillFails) else { break rounds }
            guard simplifySteps(&steps, stillFails) else { break rounds }
            if steps == before { break }
            if round >= 4 {
                // Still changing after four rounds: say so rather than call it a local minimum.
                outcome.budgetSpent = true
                break
            }
        }
        outcome.stepsRemoved = failing.count - steps.count
        outcome.minimal = steps
        return outcome
    }

    /// Delta debugging: each chunk alone, then each chunk removed, chunks halving in size.
    /// Returns false when the budget ran out.
    private func removeSteps(_ steps: inout [ExploreStep], _ stillFails: ([ExploreStep]) -> Bool?) -> Bool {
        var chunks = 2
        removal: while steps.count >= 2 {
            let parts = Self.split(steps.indices, into: min(chunks, steps.count))
            for part in parts {
                let alone = part.map { steps[$0] }
                guard let result = stillFails(alone) else { return false }
                if result {
                    steps = alone
                    chunks = 2
                    continue removal
                }
            }
            if parts.count > 2 {
                for part in parts {
                    let rest = steps.indices.filter { !part.contains($0) }.map { steps[$0] }
                    guard let result = stillFails(rest) else { return false }
                    if result {
                        steps = rest
                        chunks = max(chunks - 1, 2)
                        continue removal
                    }
                }
            }
            if chunks >= steps.count { break }
            chunks = min(chunks * 2, steps.count)
        }
        return true
    }

    /// Simpler steps, one change at a time, until a whole pass changes nothing. Returns false
    /// when the budget ran out.
    private func simplifySteps(_ steps: inout [ExploreStep], _ stillFails: ([ExploreStep]) -> Bool?) -> Bool {
        var changed = true
        while changed {
            changed = false
            for index in steps.indices {
                for simpler in Self.simplifications(of: steps[index]) {
                    var candidate = steps
                    candidate[index] = simpler
                    guard let result = stillFails(candidate) else { return false }
                    if result {
                        steps = candidate
                        changed = true
                        break
                    }
                }
            }
        }
        return true
    }

    /// The indices cut into `count` contiguous parts of near-equal size.
    static func split(_ indices: Range<Int>, into count: Int) -> [[Int]] {
        let all = Array(indices)
        let size = all.count / count
        let extra = all.count % count
        var parts: [[Int]] = []
        var start = 0
        for part in 0..<count {
            let length = size + (part < extra ? 1 : 0)
            parts.append(Array(all[start..<(start + length)]))
            start += length
        }
        return parts.filter { !$0.isEmpty }
    }

    /// Each one-change simplification of a step, most drastic first: as short as can be, then
    /// half as long; narrower partitions; the smallest delay, then half the delay; a lower
    /// probability; at the start, then earlier. Trying the floor first settles a value the
    /// failure does not depend on in one run instead of one per halving.
    public static func simplifications(of step: ExploreStep) -> [ExploreStep] {
        var candidates: [ExploreStep] = []
        for shorter in smaller(step.forDuration, floor: .milliseconds(1)) {
            var simpler = step
            simpler.forDuration = shorter
            candidates.append(simpler)
        }
        if let groups = step.groups {
            // A whole group out (its nodes untouched by the cut) while two groups remain, then
            // one node out of a group that keeps another.
            if groups.count > 2 {
                for groupIndex in groups.indices.reversed() {
                    var narrower = groups
                    narrower.remove(at: groupIndex)
                    var simpler = step
                    simpler.groups = narrower
                    simpler.kind = nil
                    candidates.append(simpler)
                }
            }
            for (groupIndex, group) in groups.enumerated() where group.count > 1 {
                for node in group.reversed() {
                    var narrower = groups
                    narrower[groupIndex].removeAll { $0 == node }
                    var simpler = step
                    simpler.groups = narrower
                    simpler.kind = nil
                    candidates.append(simpler)
                }
            }
        }
        for member in step.fault.members {
            if let text = member.value.stringValue, let duration = try? DurationParser.parse(text).get() {
                for shorter in smaller(duration, floor: .milliseconds(1)) {
                    var simpler = step
                    simpler.fault[member.key] = .string(DurationParser.render(shorter))
                    candidates.append(simpler)
                }
            }
            if ExploreSpec.numericRangeKeys.contains(member.key), let value = member.value.doubleValue, value >= 0.02 {
                var simpler = step
                simpler.fault[member.key] = .double((value / 2 * 1000).rounded() / 1000)
                candidates.append(simpler)
            }
        }
        for earlier in smaller(step.at, floor: .zero) {
            var simpler = step
            simpler.at = earlier
            candidates.append(simpler)
        }
        return candidates
    }

    /// `floor`, then half of `duration` (whole milliseconds) when that is still above the floor;
    /// nothing when `duration` is at the floor already.
    static func smaller(_ duration: Duration, floor: Duration) -> [Duration] {
        guard duration > floor else { return [] }
        var values = [floor]
        if let half = halved(duration), half > floor { values.append(half) }
        return values
    }

    /// Half of `duration`, whole milliseconds, or nil below 2 ms.
    static func halved(_ duration: Duration) -> Duration? {
        guard duration >= .milliseconds(2) else { return nil }
        return ScheduleGenerator.roundedToMilliseconds(duration / 2)
    }
}
