extension ReportClassifier {
    /// A failing stretch tells whether the client backs off only with at least this many attempts…
    static let breakerMinimumAttempts = 5
    /// …over at least this long.
    static let breakerMinimumStretchMilliseconds = 500.0
    /// An open breaker's silence is at least this long…
    static let breakerMinimumPauseMilliseconds = 200.0
    /// …and this many times the stretch's 25th-percentile pause: a breaker fails fast locally, so
    /// the proxy sees bursts and long silences, while a client calling at a slow steady rate
    /// has every pause alike.
    static let breakerPauseRatio = 10.0

    /// Route-wide: the longest (first start to last end) maximal run of consecutive failed
    /// attempts in start order. `not_tested` when it has fewer than `breakerMinimumAttempts` or
    /// lasts under `breakerMinimumStretchMilliseconds`. Inside it, a pause is the silence before an
    /// attempt: its start minus the latest end before it (0 while another attempt is in flight).
    /// `opened` when the longest pause is at least `breakerMinimumPauseMilliseconds` and
    /// `breakerPauseRatio` × the 25th-percentile pause, else `kept_calling`.
    static func breaker(attemptsInStartOrder attempts: [ClientReport.Attempt]) -> ClientReport.Breaker {
        let notTested = ClientReport.Breaker(verdict: .notTested, callsWhileFailingPerSecond: nil, longestPauseMilliseconds: 0)
        guard let stretch = longestFailingStretch(attempts) else { return notTested }
        let run = attempts[stretch]
        var latestEnd = run[run.startIndex].endTimestamp
        var pauses: [Double] = []
        pauses.reserveCapacity(run.count - 1)
        for attempt in run.dropFirst() {
            pauses.append(milliseconds(max(0, attempt.timestamp - latestEnd)))
            latestEnd = max(latestEnd, attempt.endTimestamp)
        }
        let durationMilliseconds = milliseconds(latestEnd - run[run.startIndex].timestamp)
        guard run.count >= breakerMinimumAttempts, durationMilliseconds >= breakerMinimumStretchMilliseconds else {
            return notTested
        }
        pauses.sort()
        let longest = pauses.last ?? 0
        let quartile = ReportStatistics.quantile(sorted: pauses, 0.25) ?? 0
        let opened = longest >= breakerMinimumPauseMilliseconds && longest >= breakerPauseRatio * quartile
        return ClientReport.Breaker(
            verdict: opened ? .opened : .keptCalling,
            callsWhileFailingPerSecond: Double(run.count) / (durationMilliseconds / 1000),
            longestPauseMilliseconds: longest
        )
    }

    /// The range of the longest maximal run of failed attempts, measured from its first start to
    /// its latest end; nil when nothing failed.
    static func longestFailingStretch(_ attempts: [ClientReport.Attempt]) -> Range<Int>? {
        var best: Range<Int>?
        var bestDuration: Int64 = -1
        var start = 0
        while start < attempts.count {
            guard attempts[start].isFailure else {
                start += 1
                continue
            }
            var end = start
            var latestEnd = attempts[start].endTimestamp
            while end < attempts.count, attempts[end].isFailure {
                latestEnd = max(latestEnd, attempts[end].endTimestamp)
                end += 1
            }
            let duration = latestEnd - attempts[start].timestamp
            if duration > bestDuration {
                best = start..<end
                bestDuration = duration
            }
            start = end
        }
        return best
    }
}
