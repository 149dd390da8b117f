public import FaultlineSystem

/// What an event loop calls back into. One owner per loop; every call is on the loop's thread.
public protocol EventLoopDelegate: AnyObject {
    associatedtype Message: Sendable
    /// A registered descriptor is ready. `tag` is what it was registered with.
    func loop(_ loop: EventLoop<Self>, ready events: Linux.EpollEvents, tag: UInt64)
    /// A timer scheduled with `tag` is due.
    func loop(_ loop: EventLoop<Self>, timerFired tag: UInt64)
    /// Messages posted through the mailbox, in order.
    func loop(_ loop: EventLoop<Self>, received messages: [Message])
    /// End of a turn; return true when there is work left that must not wait for an event
    /// (a ready list), so the next wait does not block.
    func loopTurnEnded(_ loop: EventLoop<Self>) -> Bool
}

/// A registration: the slot it occupies and the generation that slot had when it was made.
public struct Registration: Hashable, Sendable {
    public let slot: UInt32
    public let generation: UInt32
}

/// A single-threaded epoll loop with generation-tagged registrations and a timerfd-backed heap.
///
/// Each registered descriptor gets a slot; `epoll_data.u64` carries (generation << 32 | slot).
/// When a slot is released its generation moves on, so an event that was already fetched for a
/// descriptor that has since closed (and whose number may be reused) is recognised and dropped.
public final class EventLoop<Delegate: EventLoopDelegate> {
    private let epoll: FileDescriptor
    private let timerFD: FileDescriptor
    /// The mailbox through which other threads reach this loop.
    public let mailbox: Mailbox<Delegate.Message>

    private var generations: [UInt32] = []
    private var tags: [UInt64] = []
    private var live: [Bool] = []
    private var freeSlots: [UInt32] = []
    private var events = EpollEventBuffer(capacity: 256)
    private var timers = TimerHeap()
    /// Timers that need no precision (timeouts): never polled for, so the many that are
    /// abandoned (lazily cancelled) cost no CPU.
    private var coarseTimers = TimerHeap()
    private var armedDeadline: UInt64 = 0
    /// How long before a deadline the timerfd fires (see `noteWake`).
    private var wakeLead: UInt64 = 100_000
    private var averageLateness: UInt64 = 50_000
    /// Caps the CPU spent polling for timers (`SpinBudget`).
    private var spinBudget = SpinBudget()
    private var running = false

    /// CLOCK_MONOTONIC nanoseconds, read once after each wait.
    public private(set) var now: UInt64

    /// Events dropped because their registration's generation was stale (for tests).
    public private(set) var staleEventsDropped = 0

    private static var timerSlot: UInt32 { UInt32.max }
    private static var wakeSlot: UInt32 { UInt32.max - 1 }

    public init() throws(SystemError) {
        epoll = try Linux.epollCreate()
        timerFD = try Linux.timerFD()
        mailbox = Mailbox(wakeFD: try Linux.eventFD())
        now = Linux.monotonicNanoseconds()
        try timerFD.withUnsafeHandle { (raw) throws(SystemError) in
            try Linux.epollControl(epoll, .add, fd: raw, events: .readable, data: UInt64(Self.timerSlot))
        }
        try mailbox.withWakeHandle { (wake) throws(SystemError) in
            try wake.withUnsafeHandle { (raw) throws(SystemError) in
                try Linux.epollControl(epoll, .add, fd: raw, events: .readable, data: UInt64(Self.wakeSlot))
            }
        }
    }

    /// Number of live registrations.
    public var registrationCount: Int { live.count - freeSlots.count }

    /// Registers a descriptor for `interest`; events for it arrive with `tag`.
    public func register(
        _ fd: borrowing FileDescriptor, interest: Linux.EpollEvents, tag: UInt64
    ) throws(SystemError) -> Registration {
        let slot: UInt32
        if let reused = freeSlots.popLast() {
            slot = reused
            tags[Int(slot)] = tag
            live[Int(slot)] = true
        } else {
            slot = UInt32(generations.count)
            precondition(slot < Self.wakeSlot, "too many registrations")
            generations.append(0)
            tags.append(tag)
            live.append(true)
        }
        let registration = Registration(slot: slot, generation: generations[Int(slot)])
        do {
            try fd.withUnsafeHandle { (raw) throws(SystemError) in
                try Linux.epollControl(epoll, .add, fd: raw, events: interest, data: Self.pack(registration))
            }
        } catch {
            release(slot)
            throw error
        }
        return registration
    }

    /// Changes the interest set of a registration.
    public func modify(
        _ registration: Registration, _ fd: borrowing FileDescriptor, interest: Linux.EpollEvents
    ) throws(SystemError) {
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            try Linux.epollControl(epoll, .modify, fd: raw, events: interest, data: Self.pack(registration))
        }
    }

    /// Forgets a registration whose descriptor is about to be closed (closing removes it from
    /// epoll, which saves a syscall). Events already fetched for it are dropped as stale.
    public func deregister(_ registration: Registration) {
        guard isCurrent(registration) else { return }
        release(registration.slot)
    }

    /// Forgets a registration and removes its descriptor from epoll; the descriptor stays open.
    public func deregister(_ registration: Registration, removing fd: borrowing FileDescriptor) {
        guard isCurrent(registration) else { return }
        fd.withUnsafeHandle { raw in
            try? Linux.epollControl(epoll, .delete, fd: raw, events: [], data: 0)
        }
        release(registration.slot)
    }

    /// Whether a registration is still the one in its slot.
    public func isCurrent(_ registration: Registration) -> Bool {
        let slot = Int(registration.slot)
        return slot < live.count && live[slot] && generations[slot] == registration.generation
    }

    /// Calls the delegate's timer callback with `tag` at or after `deadline` (monotonic ns), as
    /// close to it as the loop can (it wakes early and polls the last stretch).
    public func schedule(at deadline: UInt64, tag: UInt64) {
        timers.push(deadline: deadline, tag: tag)
    }

    /// Like `schedule`, for deadlines where a wake-up latency does not matter (timeouts).
    public func scheduleCoarse(at deadline: UInt64, tag: UInt64) {
        coarseTimers.push(deadline: deadline, tag: tag)
    }

    /// Pending timer entries (including ones whose owners moved on).
    public var pendingTimers: Int { timers.count + coarseTimers.count }

    /// Runs until `stop()` is called from a delegate callback.
    public func run(_ delegate: Delegate) throws(SystemError) {
        running = true
        Linux.minimiseTimerSlack()
        var moreWork = false
        while running {
            // A timer due within the wake lead is waited for by polling: sleeping that close to
            // a deadline would overshoot it by the wake-up latency.
            let spinning = try armTimer()
            let count = try Linux.epollWait(epoll, into: &events, timeoutMilliseconds: moreWork || spinning ? 0 : -1)
            now = Linux.monotonicNanoseconds()
            for index in 0..<count {
                let event = events[index]
                let slot = UInt32(truncatingIfNeeded: event.data)
                if slot == Self.timerSlot {
                    // Level-triggered: read the expiry count or the fd stays readable. Due timers
                    // fire below, after this turn's I/O.
                    Linux.drainCounter(timerFD)
                    noteWake(lateness: now > armedDeadline ? now - armedDeadline : 0)
                    armedDeadline = 0
                    continue
                } else if slot == Self.wakeSlot {
                    let messages = mailbox.drain()
                    if !messages.isEmpty { delegate.loop(self, received: messages) }
                    continue
                }
                let generation = UInt32(truncatingIfNeeded: event.data >> 32)
                let i = Int(slot)
                guard i < live.count, live[i], generations[i] == generation else {
                    staleEventsDropped += 1
                    continue
                }
                delegate.loop(self, ready: event.events, tag: tags[i])
            }
            fireDueTimers(delegate)
            moreWork = delegate.loopTurnEnded(self)
        }
    }

    /// Ends `run` after the current turn.
    public func stop() {
        running = false
    }

    private func fireDueTimers(_ delegate: Delegate) {
        now = Linux.monotonicNanoseconds()
        while let entry = timers.popDue(now: now) {
            delegate.loop(self, timerFired: entry.tag)
        }
        while let entry = coarseTimers.popDue(now: now) {
            delegate.loop(self, timerFired: entry.tag)
        }
    }

    /// Arms the timerfd `wakeLead` before the earliest deadline. Returns true when that
    /// deadline is already within the lead: the caller polls instead of sleeping.
    private func armTimer() throws(SystemError) -> Bool {
        var wanted: UInt64
        if let earliest = timers.earliestDeadline {
            let current = Linux.monotonicNanoseconds()
            if earliest <= current &+ wakeLead {
                if spinBudget.mayPoll(now: current) { return true }
                // Over the budget: sleep until the deadline itself.
                wanted = earliest
            } else {
                spinBudget.stopped()
                wanted = earliest - wakeLead
            }
            if let coarse = coarseTimers.earliestDeadline { wanted = min(wanted, coarse) }
        } else if let coarse = coarseTimers.earliestDeadline {
            spinBudget.stopped()
            wanted = coarse
        } else {
            // Nothing pending: leave the armed timer be; one spurious wake is cheaper than a syscall.
            spinBudget.stopped()
            return false
        }
        if wanted != armedDeadline {
            try Linux.timerFDArm(timerFD, deadlineNanoseconds: wanted)
            armedDeadline = wanted
        }
        return false
    }

    /// Learns how late the timerfd wakes this thread (an idle virtual CPU can take hundreds of
    /// microseconds) and wakes that much earlier next time: twice a moving average, between
    /// 20 µs and 1 ms.
    private func noteWake(lateness: UInt64) {
        averageLateness = (averageLateness * 7 + min(lateness, 2_000_000)) / 8
        wakeLead = min(1_000_000, max(20_000, 2 * averageLateness))
    }

    private func release(_ slot: UInt32) {
        let i = Int(slot)
        generations[i] &+= 1
        live[i] = false
        tags[i] = 0
        freeSlots.append(slot)
    }

    @inline(__always)
    private static func pack(_ registration: Registration) -> UInt64 {
        UInt64(registration.generation) << 32 | UInt64(registration.slot)
    }
}

@available(*, unavailable)
extension EventLoop: Sendable {}
