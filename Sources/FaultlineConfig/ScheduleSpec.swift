public import FaultlineCore

/// A timed list of fault changes (SPEC §2 `schedule`).
public struct ScheduleSpec: Sendable, Hashable {
    /// When the schedule's clock starts.
    public enum Start: Sendable, Hashable {
        /// As soon as the config is loaded (`"on_load"`, the default).
        case onLoad
        /// When the control API says so (`"manual"`).
        case manual
        /// At an RFC 3339 instant, kept exactly as written (validated, not normalised), so daemons
        /// on many hosts start in step.
        case at(String)
    }

    /// What a step does.
    public enum Action: Sendable, Hashable {
        /// Applies a fault (`"apply": {…}`).
        case apply(FaultSpec)
        /// Clears the fault with this id (`"clear": "id"`).
        case clear(String)
    }

    /// One step: an action at an offset from the start.
    public struct Step: Sendable, Hashable {
        /// Offset from the start of the schedule (or of the current repetition).
        public var at: Duration
        /// What happens at `at`.
        public var action: Action
        /// For `apply` steps: clear the fault again after this long (`"for"`); nil keeps it.
        public var forDuration: Duration?

        /// A step.
        public init(at: Duration, action: Action, forDuration: Duration? = nil) {
            self.at = at
            self.action = action
            self.forDuration = forDuration
        }
    }

    /// `"repeat": {"every": "60s", "times": 10}`.
    public struct Repeat: Sendable, Hashable {
        /// Interval between the starts of two runs of the steps.
        public var every: Duration
        /// How many times the steps run in all (at least 1).
        public var times: Int

        /// A repetition.
        public init(every: Duration, times: Int) {
            self.every = every
            self.times = times
        }
    }

    /// When the schedule starts.
    public var start: Start
    /// The steps, in non-decreasing order of `at`.
    public var steps: [Step]
    /// How the steps repeat; nil runs them once.
    public var `repeat`: Repeat?

    /// A schedule.
    public init(start: Start = .onLoad, steps: [Step], repeat: Repeat? = nil) {
        self.start = start
        self.steps = steps
        self.repeat = `repeat`
    }
}
