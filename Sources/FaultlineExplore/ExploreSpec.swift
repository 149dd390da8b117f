public import FaultlineConfig

/// An explore file (SPEC §8): the fault space to draw schedules from, how many trials of what
/// length, and the user's commands.
public struct ExploreSpec: Sendable, Hashable {
    /// Seed of the schedule generator (trial `i` draws from `(seed, i)` only).
    public var seed: UInt64
    /// Schedules tried before giving up.
    public var trials: Int
    /// Steps a schedule has, drawn uniformly from this range.
    public var steps: ClosedRange<Int>
    /// How long one trial runs: every step starts and ends within it.
    public var trialTime: Duration
    /// The fault kinds steps are drawn from, uniformly.
    public var space: [SpaceEntry]
    /// Started at the beginning of each trial and stopped (SIGTERM) at its end; optional.
    public var workload: [String]?
    /// Run after each trial; exit status 0 means the invariant holds.
    public var check: [String]
    /// Run before each trial to restore the system; optional.
    public var reset: [String]?
    /// A candidate counts as failing only if it fails this many runs out of this many.
    public var confirm: Int
    /// Time budget for shrinking.
    public var shrinkTime: Duration
    /// Most candidate schedules tried while shrinking.
    public var maxShrinkCandidates: Int

    public init(
        seed: UInt64, trials: Int, steps: ClosedRange<Int>, trialTime: Duration, space: [SpaceEntry],
        workload: [String]? = nil, check: [String], reset: [String]? = nil, confirm: Int = 2,
        shrinkTime: Duration = .seconds(600), maxShrinkCandidates: Int = 200
    ) {
        self.seed = seed
        self.trials = trials
        self.steps = steps
        self.trialTime = trialTime
        self.space = space
        self.workload = workload
        self.check = check
        self.reset = reset
        self.confirm = confirm
        self.shrinkTime = shrinkTime
        self.maxShrinkCandidates = maxShrinkCandidates
    }
}

/// One kind of step: a fault type on a route, with its parameters fixed, ranged or chosen.
public struct SpaceEntry: Sendable, Hashable {
    /// A parameter of the fault.
    public enum Parameter: Sendable, Hashable {
        /// Always this value.
        case fixed(JSONValue)
        /// A duration drawn log-uniformly from the range (so 1 ms–2 s tries short and long alike).
        case durations(Duration, Duration)
        /// A number drawn uniformly from the range (`probability`, `bit_flip_rate`).
        case numbers(Double, Double)
        /// One of these values.
        case choice([JSONValue])
    }

    /// The fault type (`partition`, `latency`, `abort`, …).
    public var type: String
    /// The route (`"*"` by default); not used by partitions.
    public var route: String
    /// For partitions: the generators to draw from (`isolate`, `random_halves`, `groups`,
    /// `bridge`, `ring`, `random_node`), each resolved by explore to explicit groups.
    public var kinds: [String]
    /// How long the fault stays in force.
    public var forRange: (Duration, Duration)
    /// The fault's other members, in the file's order.
    public var parameters: [(key: String, value: Parameter)]

    public init(type: String, route: String = "*", kinds: [String] = [], forRange: (Duration, Duration),
                parameters: [(key: String, value: Parameter)] = []) {
        self.type = type
        self.route = route
        self.kinds = kinds
        self.forRange = forRange
        self.parameters = parameters
    }

    public static func == (lhs: SpaceEntry, rhs: SpaceEntry) -> Bool {
        lhs.type == rhs.type && lhs.route == rhs.route && lhs.kinds == rhs.kinds
            && lhs.forRange == rhs.forRange
            && lhs.parameters.map(\.key) == rhs.parameters.map(\.key)
            && lhs.parameters.map(\.value) == rhs.parameters.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(route)
        hasher.combine(kinds)
    }
}
