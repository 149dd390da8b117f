extension ReportClassifier {
    /// One retry: an attempt that follows a failed attempt of its timeline.
    struct RetryGap: Sendable, Equatable {
        /// The timeline's position in the report.
        var timeline: Int
        /// 1 for the first retry after a success (or the timeline's start), 2 for the next, …: the
        /// count of failed attempts right before this one.
        var index: Int
        /// From the failed attempt's end (when the client got the failure) to this attempt's start,
        /// never negative.
        var gapNanoseconds: Int64
        /// When this attempt started.
        var start: Int64

        var gapMilliseconds: Double { ReportClassifier.milliseconds(gapNanoseconds) }
    }

    /// Every retry of every timeline, timeline by timeline in time order. A success ends a chain,
    /// so a `method+path` timeline holding many requests yields many chains, each counted from 1.
    static func retryGaps(in timelines: [ClientReport.Timeline]) -> [RetryGap] {
        var gaps: [RetryGap] = []
        for (timelineIndex, timeline) in timelines.enumerated() {
            var failuresInARow = 0
            for (position, attempt) in timeline.attempts.enumerated() {
                if failuresInARow > 0 {
                    let previous = timeline.attempts[position - 1]
                    gaps.append(RetryGap(
                        timeline: timelineIndex, index: failuresInARow,
                        gapNanoseconds: max(0, attempt.timestamp - previous.endTimestamp), start: attempt.timestamp
                    ))
                }
                failuresInARow = attempt.isFailure ? failuresInARow + 1 : 0
            }
        }
        return gaps
    }

    /// Timelines that retried, the longest timeline, timelines that ended in a failure, and the
    /// median and 90th percentile of every retry gap.
    static func retries(timelines: [ClientReport.Timeline], gaps: [RetryGap]) -> ClientReport.Retries {
        var retried = Set<Int>()
        for gap in gaps { retried.insert(gap.timeline) }
        let sorted = gaps.map(\.gapMilliseconds).sorted()
        return ClientReport.Retries(
            groupsRetried: retried.count,
            maxAttempts: timelines.map(\.attempts.count).max() ?? 0,
            gaveUp: timelines.reduce(0) { $0 + (($1.attempts.last?.isFailure ?? false) ? 1 : 0) },
            gapsP50Milliseconds: ReportStatistics.quantile(sorted: sorted, 0.5),
            gapsP90Milliseconds: ReportStatistics.quantile(sorted: sorted, 0.9)
        )
    }

    /// The gaps of each retry index, `[0]` holding index 1: every chain's first retry, second, ….
    static func gapsByIndex(_ gaps: [RetryGap]) -> [[Double]] {
        var byIndex: [[Double]] = []
        for gap in gaps {
            while byIndex.count < gap.index { byIndex.append([]) }
            byIndex[gap.index - 1].append(gap.gapMilliseconds)
        }
        return byIndex
    }
}
