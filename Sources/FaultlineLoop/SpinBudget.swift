/// How much of its thread's time an event loop may spend polling for a timer.
///
/// Sleeping until a deadline overshoots it by the wake-up latency (hundreds of microseconds for
/// an idle virtual CPU), so the loop wakes early and polls the last stretch (`wakeLead`, up to
/// 1 ms). That costs a lead's worth of CPU per timer: with a thousand latency releases a second
/// it was about 5 points of the bench's `trickle` row (15 % of a core; 10 % without polling, 5 %
/// without the fault), and nothing bounded it as timers got denser. The budget caps it: at most
/// `budget` nanoseconds of polling per `window`; past that, until the window ends, the loop
/// sleeps until the deadline itself and takes the wake-up latency instead. A few timers (a test,
/// an accuracy run) stay within the budget and keep the precision.
public struct SpinBudget: Sendable, Equatable {
    public let window: UInt64
    public let budget: UInt64
    private var windowStart: UInt64 = 0
    private var spent: UInt64 = 0
    /// When the poll in progress started counting (0: not polling).
    private var since: UInt64 = 0

    /// 5 ms per 100 ms: at most 5 % of a core spent polling for timers, per loop.
    public init(window: UInt64 = 100_000_000, budget: UInt64 = 5_000_000) {
        self.window = window
        self.budget = budget
    }

    /// The loop would poll (a deadline is within its lead) at `now`: whether it may. Counts the
    /// time since the previous call while polling went on.
    public mutating func mayPoll(now: UInt64) -> Bool {
        if now &- windowStart >= window {
            windowStart = now
            spent = 0
        }
        if since != 0, now > since { spent &+= now - since }
        guard spent < budget else {
            since = 0
            return false
        }
        since = now
        return true
    }

    /// The loop sleeps (no deadline within its lead): polling, if any, ended.
    public mutating func stopped() {
        since = 0
    }

    /// Polling time counted in the current window.
    public var spentInWindow: UInt64 { spent }
}
