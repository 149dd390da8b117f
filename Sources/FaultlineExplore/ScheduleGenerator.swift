import FaultlineConfig
import FaultlineCore
import Glibc

/// Draws trial schedules from an explore file's space. Trial `i` depends on `(seed, i)`, the
/// space and the node names only, so a search replays exactly from its seed.
public struct ScheduleGenerator: Sendable {
    public let spec: ExploreSpec
    /// The nodes partitions cut between (the routes' `from` and `to`), sorted.
    public let nodes: [String]

    public init(spec: ExploreSpec, nodes: [String]) {
        self.spec = spec
        self.nodes = Array(Set(nodes)).sorted()
    }

    /// The steps of trial `trial`.
    public func schedule(trial: Int) -> [ExploreStep] {
        var random = DecisionRNG(seed: spec.seed, faultID: "explore", serial: UInt64(trial))
        let count = spec.steps.lowerBound + Int(random.next() % UInt64(spec.steps.count))
        var steps: [ExploreStep] = []
        for _ in 0..<count {
            let entry = spec.space[Int(random.next() % UInt64(spec.space.count))]
            if let step = draw(entry, &random) { steps.append(step) }
        }
        return steps
    }

    private func draw(_ entry: SpaceEntry, _ random: inout DecisionRNG) -> ExploreStep? {
        let lasting = Self.logUniform(entry.forRange.0, entry.forRange.1, &random)
        let latest = spec.trialTime - lasting
        let at = latest > .zero ? Self.roundedToMilliseconds(latest * random.nextUnit()) : .zero
        var fault = JSONObject()
        fault["type"] = .string(entry.type)
        var kind: String?
        if entry.type == "partition" {
            let chosen = entry.kinds[Int(random.next() % UInt64(entry.kinds.count))]
            guard let (groups, label) = Self.partition(kind: chosen, nodes: nodes, &random) else { return nil }
            kind = label
            fault["groups"] = .array(groups.map { .array($0.map { .string($0) }) })
        } else {
            fault["route"] = .string(entry.route)
        }
        for (key, parameter) in entry.parameters {
            switch parameter {
            case .fixed(let value):
                fault[key] = value
            case .durations(let low, let high):
                fault[key] = .string(DurationParser.render(Self.logUniform(low, high, &random)))
            case .numbers(let low, let high):
                fault[key] = .double(((low + (high - low) * random.nextUnit()) * 1000).rounded() / 1000)
            case .choice(let values):
                fault[key] = values[Int(random.next() % UInt64(values.count))]
            }
        }
        return ExploreStep(at: at, forDuration: lasting, fault: fault, kind: kind)
    }

    /// A partition generator resolved to explicit groups; nil when there are too few nodes.
    static func partition(kind: String, nodes: [String], _ random: inout DecisionRNG) -> ([[String]], String)? {
        guard nodes.count >= 2 else { return nil }
        var shuffled = nodes
        for index in shuffled.indices.reversed() where index > 0 {
            shuffled.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        switch kind {
        case "isolate", "random_node":
            let node = shuffled[0]
            return ([[node], nodes.filter { $0 != node }], "isolate \(node)")
        case "random_halves":
            let half = shuffled.count / 2
            return ([Array(shuffled[..<half]).sorted(), Array(shuffled[half...]).sorted()], "random halves")
        case "bridge" where nodes.count >= 3:
            // Two halves that only the bridge node still joins: cut each half from the other,
            // the bridge in neither group.
            let bridge = shuffled[0]
            let rest = Array(shuffled.dropFirst())
            let half = rest.count / 2
            return ([Array(rest[..<half]).sorted(), Array(rest[half...]).sorted()], "bridge through \(bridge)")
        case "groups", "ring", "bridge":
            // Two to min(4, n) groups of the nodes, each non-empty (a ring of three or more
            // nodes needs per-link cuts that groups cannot express; it is drawn as groups).
            let groupCount = 2 + Int(random.next() % UInt64(min(3, shuffled.count - 1)))
            var groups = Array(repeating: [String](), count: groupCount)
            for (index, node) in shuffled.enumerated() {
                let slot = index < groupCount ? index : Int(random.next() % UInt64(groupCount))
                groups[slot].append(node)
            }
            return (groups.map { $0.sorted() }, "groups")
        default:
            return nil
        }
    }

    static func logUniform(_ low: Duration, _ high: Duration, _ random: inout DecisionRNG) -> Duration {
        let a = max(low.seconds, 0.000_001)
        let b = max(high.seconds, a)
        let value = a * pow(b / a, random.nextUnit())
        return roundedToMilliseconds(.nanoseconds(Int64(value * 1e9)))
    }

    static func roundedToMilliseconds(_ duration: Duration) -> Duration {
        let nanoseconds = duration.seconds * 1e9
        let milliseconds = max(1, (nanoseconds / 1e6).rounded())
        return .milliseconds(Int64(milliseconds))
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
