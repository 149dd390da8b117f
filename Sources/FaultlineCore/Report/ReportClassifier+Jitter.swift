extension ReportClassifier {
    /// A retry index tells jitter only when at least this many chains reach it.
    static let jitterMinimumChains = 3
    /// The spread from which gaps count as jittered. A fixed sleep measured through the proxy on
    /// a loaded machine varies by a few per cent; ±20 % uniform jitter gives 0.115, full jitter
    /// 0.58. Measured over 10 timelines, ±20 % reads as 0.087…0.141 (0.1 would miss one run in 11).
    static let jitterSpread = 0.08
    /// And the typical standard deviation must reach this, so scheduling noise on short sleeps
    /// (a 2 ms wobble on a 15 ms sleep is 0.13) is not taken for jitter.
    static let jitterMinimumDeviationMilliseconds = 2.0

    /// Whether the gaps at the same retry index differ across chains.
    ///
    /// For each retry index reached by `jitterMinimumChains` chains whose median gap is not
    /// immediate, the coefficient of variation of its gaps; `spread` is the median of those.
    /// Present when `spread ≥ jitterSpread` and the median standard deviation is at least
    /// `jitterMinimumDeviationMilliseconds`. Nil spread (and absent) when no index qualifies or
    /// the shape is `none`/`no_retries`.
    static func jitter(gaps: [RetryGap], shape: ClientReport.BackoffShape) -> ClientReport.Jitter {
        guard shape != .none, shape != .noRetries else { return ClientReport.Jitter(present: false, spread: nil) }
        var spreads: [Double] = []
        var deviations: [Double] = []
        for values in gapsByIndex(gaps) where values.count >= jitterMinimumChains {
            guard let median = ReportStatistics.median(values), median >= immediateGapMilliseconds,
                  let spread = ReportStatistics.coefficientOfVariation(values) else { continue }
            spreads.append(spread)
            deviations.append(ReportStatistics.standardDeviation(values))
        }
        guard let spread = ReportStatistics.median(spreads), let deviation = ReportStatistics.median(deviations) else {
            return ClientReport.Jitter(present: false, spread: nil)
        }
        return ClientReport.Jitter(
            present: spread >= jitterSpread && deviation >= jitterMinimumDeviationMilliseconds, spread: spread
        )
    }
}
