import FaultlineSystem

/// Why an `accept` call failed, as `faultline_accept_failures_total{reason}` names it.
public enum AcceptFailureReason: String, CaseIterable, Sendable {
    /// EMFILE: this process is out of descriptors.
    case emfile
    /// ENFILE: the system's file table is full.
    case enfile
    /// ENOBUFS: no socket buffer memory.
    case enobufs
    /// ENOMEM: no memory.
    case enomem
    /// The queued connection died before it was taken (ECONNABORTED, EPROTO, EPERM, and the
    /// network errors Linux passes on from the new socket, accept(2) "Error handling"): the next
    /// one may be fine.
    case aborted
    /// Anything else.
    case error

    /// The reason for an `accept4` errno.
    public init(errno: Int32) {
        switch errno {
        case Errno.tooManyFiles: self = .emfile
        case Errno.fileTableFull: self = .enfile
        case Errno.noBufferSpace: self = .enobufs
        case Errno.outOfMemory: self = .enomem
        case Errno.connectionAborted, Errno.protocolError, Errno.notPermitted, Errno.networkDown,
             Errno.protocolNotAvailable, Errno.hostDown, Errno.noNetwork, Errno.hostUnreachable,
             Errno.notSupported, Errno.networkUnreachable:
            self = .aborted
        default: self = .error
        }
    }

    /// Whether the failure concerns one queued connection only, so accepting goes on at once.
    /// Every other reason is a shortage (or unknown) that retrying at once would only repeat.
    public var isTransient: Bool { self == .aborted }
}

/// The one back-off path of every accept loop (the workers' route listeners and the control
/// thread's listeners): a pure decision, one per listener, fed the outcome of `accept` calls and
/// the loop's clock, answering whether to keep accepting, pause, or try again.
///
/// Out of descriptors or memory, accepting again at once fails again, and a listener that stays
/// readable (level-triggered) or is re-polled on a timer turns that into a busy core and a log
/// line per attempt. So on such a failure the loop stops watching the listener and tries again on
/// a coarse timer — `initialDelay` doubling to `maxDelay` — or sooner when one of its connections
/// closes (a descriptor came back). The episode is logged once when it starts and once when it
/// ends: `quietPeriod` after accepting worked again with no failure since (a shortage that comes
/// and goes as connections close is one episode, not a line per close). The caller counts every
/// failed call by reason; ``Episode/failures`` is the episode's share of those.
///
/// The success path costs the caller one branch: ``inEpisode`` is false.
public struct AcceptBackoff: Sendable, Equatable {
    /// An episode of failed accepts, from its first failure to the accept that worked.
    public struct Episode: Sendable, Equatable {
        /// The reason of the failure that started it.
        public var reason: AcceptFailureReason
        /// Failed accept calls in it (the first one included).
        public var failures: Int
        /// When its first accept failed (monotonic nanoseconds).
        public var startedAt: UInt64
        /// When accepting last started working again (monotonic nanoseconds).
        public var recoveredAt: UInt64

        public init(reason: AcceptFailureReason, failures: Int, startedAt: UInt64, recoveredAt: UInt64) {
            self.reason = reason
            self.failures = failures
            self.startedAt = startedAt
            self.recoveredAt = recoveredAt
        }
    }

    /// What to do after a failed accept call.
    public enum FailureAction: Sendable, Equatable {
        /// Count it and accept the next queued connection.
        case acceptNext
        /// Stop accepting on this listener and stop watching it for readability; set a timer for
        /// `retryAt` and call ``timerFired(now:)`` then. `startsEpisode`: log that accepting
        /// stopped (the episode's only line until it ends).
        case pause(retryAt: UInt64, startsEpisode: Bool)
    }

    /// What to do after an accept call that worked (or found the queue empty) in an episode.
    public enum SuccessAction: Sendable, Equatable {
        /// Nothing new: go on accepting.
        case none
        /// Accepting works again: watch the listener again, and set a timer for `checkAt`, when
        /// ``timerFired(now:)`` ends the episode if nothing failed meanwhile.
        case resume(checkAt: UInt64)
    }

    /// What a timer set by this back-off means when it fires.
    public enum TimerAction: Sendable, Equatable {
        /// Nothing (its deadline moved, or the episode is over).
        case none
        /// Try accepting now.
        case retry
        /// The episode is over: log it.
        case ended(Episode)
    }

    private enum State: Sendable, Equatable {
        case normal
        /// Not accepting until `retryAt`.
        case paused(retryAt: UInt64)
        /// The timer fired; the next accept call decides.
        case retrying
        /// Accepting again since `resumedAt`; the episode ends at `resumedAt + quietPeriod`.
        case recovering(resumedAt: UInt64)
    }

    /// First wait after a failure, in nanoseconds.
    public let initialDelay: UInt64
    /// Longest wait between attempts, in nanoseconds.
    public let maxDelay: UInt64
    /// Time without failures, after accepting works again, that ends an episode (nanoseconds).
    public let quietPeriod: UInt64
    /// True from an episode's first failure to its end: the caller must report each accept call.
    public private(set) var inEpisode = false
    private var state = State.normal
    private var delay: UInt64
    private var lastAttempt: UInt64 = 0
    private var episode = Episode(reason: .error, failures: 0, startedAt: 0, recoveredAt: 0)

    /// - Parameters:
    ///   - initialDelay: nanoseconds before the first retry (default 10 ms).
    ///   - maxDelay: the cap of the doubling (default 1 s).
    ///   - quietPeriod: nanoseconds of working accepts that end an episode (default 1 s).
    public init(initialDelay: UInt64 = 10_000_000, maxDelay: UInt64 = 1_000_000_000, quietPeriod: UInt64 = 1_000_000_000) {
        self.initialDelay = initialDelay
        self.maxDelay = max(maxDelay, initialDelay)
        self.quietPeriod = quietPeriod
        delay = initialDelay
    }

    /// True while no accept may be tried (waiting for the retry timer).
    public var paused: Bool {
        if case .paused = state { return true }
        return false
    }

    /// When the next attempt is due, while paused; else nil.
    public var retryAt: UInt64? {
        if case .paused(let retryAt) = state { return retryAt }
        return nil
    }

    /// An accept call failed with `reason` at `now`.
    public mutating func failed(_ reason: AcceptFailureReason, now: UInt64) -> FailureAction {
        if inEpisode { episode.failures += 1 }
        if reason.isTransient { return .acceptNext }
        lastAttempt = now
        switch state {
        case .normal:
            inEpisode = true
            episode = Episode(reason: reason, failures: 1, startedAt: now, recoveredAt: now)
            delay = initialDelay
            state = .paused(retryAt: now &+ delay)
            return .pause(retryAt: now &+ delay, startsEpisode: true)
        case .retrying:
            // The retry failed: wait twice as long.
            delay = min(delay &* 2, maxDelay)
        case .recovering:
            // It came back: start the doubling over, within the same episode.
            delay = initialDelay
        case .paused:
            // No accept is tried while paused; a caller that did gets the same wait.
            break
        }
        state = .paused(retryAt: now &+ delay)
        return .pause(retryAt: now &+ delay, startsEpisode: false)
    }

    /// An accept call returned a connection, or found the queue empty, at `now`. Call it only
    /// while ``inEpisode`` (the clean path never needs it).
    public mutating func succeeded(now: UInt64) -> SuccessAction {
        guard case .retrying = state else { return .none }
        state = .recovering(resumedAt: now)
        episode.recoveredAt = now
        return .resume(checkAt: now &+ quietPeriod)
    }

    /// A timer this back-off asked for fired at `now`.
    public mutating func timerFired(now: UInt64) -> TimerAction {
        switch state {
        case .paused(let retryAt) where now >= retryAt:
            state = .retrying
            return .retry
        case .recovering(let resumedAt) where now >= resumedAt &+ quietPeriod:
            state = .normal
            inEpisode = false
            delay = initialDelay
            return .ended(episode)
        default:
            return .none
        }
    }

    /// One of this listener's connections closed at `now`, freeing a descriptor: the next attempt
    /// moves up to `initialDelay` after the last one, and the doubling starts over. Returns the
    /// new retry time when it moved earlier (set a timer for it), else nil. An attempt at most
    /// every `initialDelay` keeps churning connections from turning into an accept per close.
    public mutating func descriptorFreed(now: UInt64) -> UInt64? {
        guard case .paused(let retryAt) = state else { return nil }
        delay = initialDelay
        let soonest = max(now, lastAttempt &+ initialDelay)
        guard soonest < retryAt else { return nil }
        state = .paused(retryAt: soonest)
        return soonest
    }
}
