/// `latency`: each chunk is held `delay ± jitter`; order is kept.
public struct Latency: Sendable, Hashable {
    public var delay: Duration
    public var jitter: Duration
    public var distribution: JitterDistribution

    public init(delay: Duration, jitter: Duration, distribution: JitterDistribution) {
        self.delay = delay
        self.jitter = jitter
        self.distribution = distribution
    }

    /// The hold for the next chunk, in nanoseconds, drawn from `rng` (never negative).
    public func nextHoldNanoseconds(_ rng: inout DecisionRNG) -> UInt64 {
        let base = Double(delay.nanosecondsClamped)
        let spread = Double(jitter.nanosecondsClamped)
        guard spread > 0 else { return delay.nanosecondsClamped }
        let offset: Double
        switch distribution {
        case .uniform: offset = (rng.nextUnit() * 2 - 1) * spread
        case .normal: offset = rng.nextNormal() * spread
        }
        let hold = base + offset
        if hold <= 0 { return 0 }
        if hold >= 18_446_744_073_709_549_568 { return .max }  // the largest double below 2^64
        return UInt64(hold)
    }
}

extension Duration {
    /// Whole nanoseconds; negative durations give 0, overflow saturates.
    public var nanosecondsClamped: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds < 0) { return 0 }
        let (ns, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, overflow2) = ns.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return overflow2 ? .max : sum
    }
}
