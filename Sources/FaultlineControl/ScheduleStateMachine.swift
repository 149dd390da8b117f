public import FaultlineConfig
public import FaultlineCore

/// The schedule runner's logic (SPEC §2 `schedule`) as a pure state machine: the control thread
/// feeds it the clock (monotonic nanoseconds) and carries out the actions it returns.
///
/// The timeline is every step of every repetition, plus the implicit clear `for` after an apply,
/// ordered by due time (then by step order). Pausing freezes the schedule's clock; resuming
/// shifts every later deadline by the pause. Stopping clears whatever the schedule applied that
/// is still in force.
public struct ScheduleStateMachine: Sendable {
    /// What the owner must do.
    public enum Action: Sendable, Hashable {
        /// Apply this fault (step `step` of repetition `iteration`).
        case apply(FaultSpec, step: Int, iteration: Int)
        /// Clear the fault with this id (`automatic` when it is the end of a step's `for`).
        case clear(id: String, step: Int, iteration: Int, automatic: Bool)
        /// The schedule started, at this schedule-clock origin.
        case started
        /// Every step has run.
        case finished
        /// Stopped by request, after clearing what it applied.
        case stopped
    }

    /// Where the schedule is.
    public enum Phase: String, Sendable, Hashable {
        /// Not started (manual, or waiting for its start instant).
        case idle
        case running
        case paused
        case finished
        case stopped
    }

    /// One entry of the timeline.
    struct Event: Sendable, Hashable {
        var offset: UInt64
        var step: Int
        var iteration: Int
        /// 0 = the step itself, 1 = the implicit clear after `for`.
        var part: Int
    }

    public let spec: ScheduleSpec
    public private(set) var phase: Phase = .idle
    /// Steps carried out so far (each apply or clear counts once; `for` clears count too).
    public private(set) var stepsRun = 0
    private let timeline: [Event]
    private var next = 0
    /// Monotonic time at which the schedule clock read 0 (moves forward on resume).
    private var origin: UInt64 = 0
    private var pausedAt: UInt64 = 0
    /// Fault ids applied by the schedule and not cleared yet, in apply order.
    public private(set) var applied: [String] = []

    public init(spec: ScheduleSpec) {
        self.spec = spec
        timeline = ScheduleStateMachine.buildTimeline(spec)
    }

    /// Starts the clock at `now`; due steps (at 0s) come out at once.
    public mutating func start(now: UInt64) -> [Action] {
        guard phase == .idle || phase == .stopped || phase == .finished else { return [] }
        phase = .running
        origin = now
        next = 0
        applied = []
        return [.started] + tick(now: now)
    }

    /// Runs every step due at `now`.
    public mutating func tick(now: UInt64) -> [Action] {
        guard phase == .running else { return [] }
        var actions: [Action] = []
        while next < timeline.count, origin &+ timeline[next].offset <= now {
            actions.append(action(for: timeline[next]))
            next += 1
        }
        if next == timeline.count {
            phase = .finished
            actions.append(.finished)
        }
        return actions
    }

    /// When the next step is due, in monotonic time (nil when nothing is pending).
    public var nextDeadline: UInt64? {
        guard phase == .running, next < timeline.count else { return nil }
        return origin &+ timeline[next].offset
    }

    public mutating func pause(now: UInt64) -> Bool {
        guard phase == .running else { return false }
        phase = .paused
        pausedAt = now
        return true
    }

    public mutating func resume(now: UInt64) -> [Action] {
        guard phase == .paused else { return [] }
        phase = .running
        origin &+= now &- pausedAt
        return tick(now: now)
    }

    /// Stops and clears everything the schedule applied that is still in force.
    public mutating func stop() -> [Action] {
        guard phase == .running || phase == .paused || phase == .finished else { return [] }
        let clears = applied.reversed().map { Action.clear(id: $0, step: -1, iteration: -1, automatic: true) }
        applied = []
        phase = .stopped
        return clears + [.stopped]
    }

    /// Forget an id the owner cleared by other means (so `stop` does not clear it again).
    public mutating func forget(id: String) {
        applied.removeAll { $0 == id }
    }

    private mutating func action(for event: Event) -> Action {
        stepsRun += 1
        let step = spec.steps[event.step]
        switch (step.action, event.part) {
        case (.apply(let fault), 0):
            applied.removeAll { $0 == fault.id }
            applied.append(fault.id)
            return .apply(fault, step: event.step, iteration: event.iteration)
        case (.apply(let fault), _):
            applied.removeAll { $0 == fault.id }
            return .clear(id: fault.id, step: event.step, iteration: event.iteration, automatic: true)
        case (.clear(let id), _):
            applied.removeAll { $0 == id }
            return .clear(id: id, step: event.step, iteration: event.iteration, automatic: false)
        }
    }

    static func buildTimeline(_ spec: ScheduleSpec) -> [Event] {
        let times = spec.repeat?.times ?? 1
        let every = spec.repeat?.every.nanosecondsClamped ?? 0
        var events: [Event] = []
        for iteration in 0..<max(1, times) {
            let base = UInt64(iteration) &* every
            for (index, step) in spec.steps.enumerated() {
                let at = base &+ step.at.nanosecondsClamped
                events.append(Event(offset: at, step: index, iteration: iteration, part: 0))
                if case .apply = step.action, let duration = step.forDuration {
                    events.append(Event(offset: at &+ duration.nanosecondsClamped, step: index, iteration: iteration, part: 1))
                }
            }
        }
        // Stable order: time, then repetition, then step, then the step before its own clear.
        return events.sorted {
            ($0.offset, $0.iteration, $0.step, $0.part) < ($1.offset, $1.iteration, $1.step, $1.part)
        }
    }
}
