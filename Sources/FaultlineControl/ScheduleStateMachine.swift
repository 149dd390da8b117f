public import FaultlineConfig
public import FaultlineCore

/// The schedule runner's logic (SPEC §2 `schedule`) as a pure state machine: the control thread
/// feeds it the clock (monotonic nanoseconds) and carries out the actions it returns.
///
/// The timeline is every step of every repetition, plus the implicit clear `for` after an apply,
/// ordered by due time (then repetition, then step, a step before its own clear). Offsets are on
/// the schedule's clock, which starts at 0 and stands still while paused: resuming shifts every
/// later deadline by the pause, so a `for` lasts its full length of running time. Stopping
/// clears whatever the schedule applied that is still in force.
public struct ScheduleStateMachine: Sendable, Hashable {
    /// Where an action comes from on the timeline.
    public struct Due: Sendable, Hashable {
        /// Index into `spec.steps`.
        public var step: Int
        /// Repetition, from 0.
        public var iteration: Int
        /// Offset from the schedule's start on its clock (pauses excluded), nanoseconds.
        public var offset: UInt64
        /// Monotonic time the action was due (pauses included).
        public var deadline: UInt64
    }

    /// What the owner must do.
    public enum Action: Sendable, Hashable {
        /// The schedule's clock started at this monotonic time (at or before now).
        case started(origin: UInt64)
        /// Apply this fault; `replacing` when the schedule applied the same id before and has not
        /// cleared it (a repetition without `for`), so the new one takes its place.
        case apply(FaultSpec, Due, replacing: Bool)
        /// Clear the fault with this id: a `clear` step, or (`automatic`) the end of a step's `for`.
        case clear(id: String, Due, automatic: Bool)
        /// Stopping: clear this fault the schedule applied (latest first).
        case release(id: String)
        /// Every step has run.
        case finished
        /// Stopped by request, after the releases.
        case stopped
    }

    /// Where the schedule is.
    public enum Phase: String, Sendable, Hashable {
        /// Not started (`manual`, or just replaced): waits for `start`.
        case idle
        /// Waiting for its start instant.
        case waiting
        case running
        case paused
        /// Every step has run; faults it applied without `for` stay until `stop`.
        case finished
        case stopped
    }

    /// One entry of the timeline.
    public struct Entry: Sendable, Hashable {
        public var offset: UInt64
        public var step: Int
        public var iteration: Int
        /// The implicit clear at the end of the step's `for`.
        public var isForClear: Bool

        /// An entry (the timeline is built from the spec; tests compare against these).
        public init(offset: UInt64, step: Int, iteration: Int, isForClear: Bool) {
            self.offset = offset
            self.step = step
            self.iteration = iteration
            self.isForClear = isForClear
        }
    }

    public let spec: ScheduleSpec
    public private(set) var phase: Phase = .idle
    /// Timeline entries carried out since the last start (applies, clears and `for` clears).
    public private(set) var stepsRun = 0
    /// Every step of every repetition, in the order they run.
    public let timeline: [Entry]
    private var next = 0
    /// Monotonic time at which the schedule clock read 0 (moves forward on resume).
    private var origin: UInt64 = 0
    private var pausedAt: UInt64 = 0
    /// While waiting: the monotonic start instant.
    private var startAt: UInt64 = 0
    /// Fault ids applied by the schedule and not cleared yet, in apply order.
    public private(set) var applied: [String] = []

    /// A schedule not started yet.
    /// - Parameter applied: ids a previous schedule applied and left in force, which this one
    ///   takes over (its `stop` clears them).
    public init(spec: ScheduleSpec, applied: [String] = []) {
        self.spec = spec
        self.applied = applied
        timeline = ScheduleStateMachine.buildTimeline(spec)
    }

    /// Starts the clock at `now`; steps due at 0s come out at once. From idle, waiting, finished
    /// or stopped (a restart runs every step again); otherwise nothing happens.
    public mutating func start(now: UInt64) -> [Action] {
        guard phase == .idle || phase == .waiting || phase == .finished || phase == .stopped else { return [] }
        return begin(origin: now, now: now)
    }

    /// Waits for the monotonic instant `at`; `tick` starts the schedule then, with its clock at 0
    /// exactly at `at` (so a late tick, or an instant already past, catches up on the steps due
    /// since). From idle, finished or stopped.
    public mutating func startAt(_ at: UInt64) -> Bool {
        guard phase == .idle || phase == .finished || phase == .stopped else { return false }
        phase = .waiting
        startAt = at
        return true
    }

    /// Runs everything due at `now` (and starts a waiting schedule whose instant has come).
    public mutating func tick(now: UInt64) -> [Action] {
        if phase == .waiting {
            guard now >= startAt else { return [] }
            return begin(origin: startAt, now: now)
        }
        guard phase == .running else { return [] }
        var actions: [Action] = []
        while next < timeline.count, origin &+ timeline[next].offset <= now {
            actions.append(carryOut(timeline[next]))
            next += 1
        }
        if next == timeline.count {
            phase = .finished
            actions.append(.finished)
        }
        return actions
    }

    /// When `tick` next has something to do, in monotonic time (nil when nothing is pending:
    /// idle, paused, finished, stopped).
    public var nextDeadline: UInt64? {
        switch phase {
        case .waiting: return startAt
        case .running: return next < timeline.count ? origin &+ timeline[next].offset : nil
        default: return nil
        }
    }

    /// The timeline entry that runs next (while waiting, running or paused).
    public var upcoming: Entry? {
        guard phase == .waiting || phase == .running || phase == .paused, next < timeline.count else { return nil }
        return timeline[next]
    }

    /// The timeline entry still to run that clears `id` (the end of a step's `for`, or a `clear`
    /// step naming it), for the time a fault has left; nil when none is pending, when a step
    /// applies `id` afresh before anything clears it (the fault in force then is not the one that
    /// entry ends), or unless running or paused.
    public func pendingClear(of id: String) -> Entry? {
        guard phase == .running || phase == .paused else { return nil }
        for entry in timeline[next...] {
            switch spec.steps[entry.step].action {
            case .apply(let fault) where fault.id == id:
                return entry.isForClear ? entry : nil
            case .clear(let cleared) where cleared == id:
                return entry
            default:
                continue
            }
        }
        return nil
    }

    /// The schedule clock at `now`: time run since the start, pauses excluded (nil before a start).
    public func elapsed(now: UInt64) -> UInt64? {
        switch phase {
        case .idle, .waiting: return nil
        case .paused: return pausedAt &- origin
        case .running, .finished, .stopped: return now >= origin ? now &- origin : 0
        }
    }

    /// Monotonic time the schedule clock read 0 (meaningful once started).
    public var clockOrigin: UInt64 { origin }

    /// Freezes the schedule clock. Only while running.
    public mutating func pause(now: UInt64) -> Bool {
        guard phase == .running else { return false }
        phase = .paused
        pausedAt = now
        return true
    }

    /// Starts the clock again where it stood; every later deadline moves by the pause, and
    /// anything already due runs at once. Only while paused.
    public mutating func resume(now: UInt64) -> [Action] {
        guard phase == .paused else { return [] }
        phase = .running
        origin &+= now &- pausedAt
        return tick(now: now)
    }

    /// Stops and releases everything the schedule applied that is still in force (latest first).
    /// From waiting, running or paused it ends with `.stopped`; from finished it only releases;
    /// from idle or stopped nothing happens.
    public mutating func stop() -> [Action] {
        let wasActive: Bool
        switch phase {
        case .waiting, .running, .paused: wasActive = true
        case .finished: wasActive = false
        case .idle, .stopped: return []
        }
        let releases = applied.reversed().map { Action.release(id: $0) }
        applied = []
        phase = .stopped
        return wasActive ? releases + [.stopped] : releases
    }

    /// Forgets an id the owner cleared by other means, or could not apply (so `stop` does not
    /// clear it again).
    public mutating func forget(id: String) {
        applied.removeAll { $0 == id }
    }

    /// Forgets every applied id not in `active` (the faults in force after some other change).
    public mutating func retain(active: Set<String>) {
        applied.removeAll { !active.contains($0) }
    }

    private mutating func begin(origin: UInt64, now: UInt64) -> [Action] {
        phase = .running
        self.origin = origin
        next = 0
        stepsRun = 0
        return [.started(origin: origin)] + tick(now: now)
    }

    private mutating func carryOut(_ entry: Entry) -> Action {
        stepsRun += 1
        let due = Due(step: entry.step, iteration: entry.iteration, offset: entry.offset, deadline: origin &+ entry.offset)
        switch spec.steps[entry.step].action {
        case .apply(let fault) where !entry.isForClear:
            let replacing = applied.contains(fault.id)
            applied.removeAll { $0 == fault.id }
            applied.append(fault.id)
            return .apply(fault, due, replacing: replacing)
        case .apply(let fault):
            applied.removeAll { $0 == fault.id }
            return .clear(id: fault.id, due, automatic: true)
        case .clear(let id):
            applied.removeAll { $0 == id }
            return .clear(id: id, due, automatic: false)
        }
    }

    static func buildTimeline(_ spec: ScheduleSpec) -> [Entry] {
        let times = spec.repeat?.times ?? 1
        let every = spec.repeat?.every.nanosecondsClamped ?? 0
        var entries: [Entry] = []
        for iteration in 0..<max(1, times) {
            let base = UInt64(iteration) &* every
            for (index, step) in spec.steps.enumerated() {
                let at = base &+ step.at.nanosecondsClamped
                entries.append(Entry(offset: at, step: index, iteration: iteration, isForClear: false))
                if case .apply = step.action, let duration = step.forDuration {
                    entries.append(Entry(offset: at &+ duration.nanosecondsClamped, step: index, iteration: iteration, isForClear: true))
                }
            }
        }
        // Stable order: time, then repetition, then step, then the step before its own clear.
        return entries.sorted {
            ($0.offset, $0.iteration, $0.step, $0.isForClear ? 1 : 0) < ($1.offset, $1.iteration, $1.step, $1.isForClear ? 1 : 0)
        }
    }
}
