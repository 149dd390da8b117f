extension ReportClassifier {
    /// Below this a gap is an immediate retry: loopback round trips and a busy scheduler stay
    /// well under it, and no backoff library sleeps this little on purpose.
    static let immediateGapMilliseconds = 10.0
    /// A chain of retries is immediate (`none`) when at least this share of its typical gaps are:
    /// a tight loop of hundreds of retries on a busy machine meets a scheduling hiccup or two
    /// (measured: 1–3 gaps of 10–40 ms in 300–900 retries a second on this 2-core machine),
    /// which is not a backoff.
    static let immediateShare = 0.9
    /// A retry index counts while at least this share of the first index's chains reach it, so a
    /// straggler or two that retried longer than the rest do not decide the shape.
    static let minimumIndexSupport = 0.25
    /// Gaps whose fitted trend changes by less than this factor per retry are level (`fixed`).
    static let levelFactor = 1.15
    /// Geometric growth from this factor per retry on is `exponential`; gentler growth that a
    /// line fits is `linear`.
    static let exponentialFactor = 1.4
    /// A fit whose relative residual exceeds this does not describe the gaps (`mixed`).
    static let maximumResidual = 0.3
    /// Residuals this close count as a tie, which goes to exponential: two gaps fit both exactly,
    /// and exponential is what most retry libraries do.
    static let residualTie = 0.01

    /// The typical gap of each retry index (the median across the chains that reach it), in
    /// milliseconds, for the leading indices reached by at least `minimumIndexSupport` of the
    /// chains that retried at all.
    static func typicalGaps(_ gaps: [RetryGap]) -> [Double] {
        let byIndex = gapsByIndex(gaps)
        guard let first = byIndex.first else { return [] }
        let needed = max(1, Int((Double(first.count) * minimumIndexSupport).rounded(.up)))
        var typical: [Double] = []
        for values in byIndex {
            guard values.count >= needed, let median = ReportStatistics.median(values) else { break }
            typical.append(median)
        }
        return typical
    }

    /// The backoff shape of the typical gaps g1…gn (milliseconds).
    ///
    /// - none of them: `no_retries`;
    /// - at least `immediateShare` of them below `immediateGapMilliseconds`: `none`;
    /// - one index: `fixed` (one gap has no shape to tell);
    /// - otherwise g1 is set aside when it is immediate and at least two gaps follow (urllib3
    ///   sleeps 0 before its first retry, then backoff_factor·2^(k−1)), and the rest is fitted:
    ///   a level line (fitted factor within `levelFactor` and a residual within
    ///   `maximumResidual`) is `fixed`; growth is `exponential` (with the fitted factor) or
    ///   `linear`, whichever fit has the smaller relative residual (a tie within `residualTie`
    ///   going to exponential), exponential only from `exponentialFactor` on; anything else, or a best residual over `maximumResidual`, is
    ///   `mixed`. `first_gap_ms` is always g1.
    static func backoff(typicalGapsMilliseconds gaps: [Double]) -> ClientReport.Backoff {
        guard let first = gaps.first else {
            return ClientReport.Backoff(shape: .noRetries, factor: nil, firstGapMilliseconds: nil)
        }
        func result(_ shape: ClientReport.BackoffShape, factor: Double? = nil) -> ClientReport.Backoff {
            ClientReport.Backoff(shape: shape, factor: factor, firstGapMilliseconds: first)
        }
        let immediate = gaps.count { $0 < immediateGapMilliseconds }
        if Double(immediate) >= immediateShare * Double(gaps.count) { return result(.none) }
        if gaps.count == 1 { return result(.fixed) }
        var fitted = gaps[...]
        if first < immediateGapMilliseconds {
            // An immediate first retry and a single later gap: nothing left to fit.
            guard gaps.count >= 3 else { return result(.mixed) }
            fitted = gaps.dropFirst()
        }
        let fit = BackoffFit(Array(fitted))
        if fit.isLevel { return result(.fixed) }
        guard fit.exponentialFactor > levelFactor else { return result(.mixed) }
        let exponential = fit.exponentialFactor >= exponentialFactor
            && fit.exponentialResidual <= fit.linearResidual + residualTie
        if exponential {
            return fit.exponentialResidual <= maximumResidual ? result(.exponential, factor: fit.exponentialFactor) : result(.mixed)
        }
        return fit.linearResidual <= maximumResidual && fit.linearStep > 0 ? result(.linear) : result(.mixed)
    }
}

/// Level, linear and exponential least-squares fits of gaps over their retry index.
struct BackoffFit {
    /// e^slope of the line fitted to ln g over k: the ratio from one retry to the next.
    var exponentialFactor: Double
    var exponentialResidual: Double
    /// The slope of the line fitted to g over k, in milliseconds per retry.
    var linearStep: Double
    var linearResidual: Double
    /// How far the gaps are from their mean.
    var levelResidual: Double

    /// Gaps below 0.1 ms are read as 0.1 ms, so the logarithm and the relative residuals are defined.
    init(_ gaps: [Double]) {
        let observed = gaps.map { max($0, 0.1) }
        let k = observed.indices.map { Double($0 + 1) }
        let logFit = ReportStatistics.lineFit(x: k, y: observed.map(ReportStatistics.logarithm))
        exponentialFactor = ReportStatistics.exponential(logFit.slope)
        exponentialResidual = ReportStatistics.relativeResidual(
            observed: observed, model: k.map { ReportStatistics.exponential(logFit.intercept + logFit.slope * $0) }
        )
        let lineFit = ReportStatistics.lineFit(x: k, y: observed)
        linearStep = lineFit.slope
        linearResidual = ReportStatistics.relativeResidual(observed: observed, model: k.map { lineFit.intercept + lineFit.slope * $0 })
        let mean = ReportStatistics.mean(observed)
        levelResidual = ReportStatistics.relativeResidual(observed: observed, model: observed.map { _ in mean })
    }

    /// Neither growing nor shrinking by `levelFactor` per retry, and close to the mean throughout.
    var isLevel: Bool {
        exponentialFactor < ReportClassifier.levelFactor && exponentialFactor > 1 / ReportClassifier.levelFactor
            && levelResidual <= ReportClassifier.maximumResidual
    }
}
