/// Draws a route's client-behaviour report (SPEC §3.4) from its request log: a pure function of
/// the records, so a test can feed it synthetic timelines. docs/REPORT.md gives every definition
/// and threshold with its reason.
///
/// Each verdict is its own function (`ReportClassifier+Grouping.swift`, `+Retries`, `+Backoff`,
/// `+Jitter`, `+Herd`, `+Breaker`). Nothing is quadratic in the number of records: grouping is
/// one dictionary pass, the rest sorts and sweeps.
public enum ReportClassifier {
    /// The report of `records` (one route's log, any order).
    /// - Parameters:
    ///   - route: the route's name, copied into the report.
    ///   - records: the log entries to look at.
    ///   - groupBy: how attempts are grouped into timelines.
    public static func report(route: String, records: [RequestRecord], groupBy: AttemptGrouping = .auto) -> ClientReport {
        let timelines = timelines(of: records, groupBy: groupBy)
        let gaps = retryGaps(in: timelines)
        let retries = retries(timelines: timelines, gaps: gaps)
        let typical = typicalGaps(gaps)
        let backoff = backoff(typicalGapsMilliseconds: typical)
        let jitter = jitter(gaps: gaps, shape: backoff.shape)
        let herd = herd(gaps: gaps, firstGapMilliseconds: backoff.firstGapMilliseconds, groupsRetried: retries.groupsRetried)
        let breaker = breaker(attemptsInStartOrder: attemptsInStartOrder(timelines))
        return ClientReport(
            route: route, requests: records.count, injected: records.reduce(0) { $0 + ($1.fault == nil ? 0 : 1) },
            groups: timelines.count, retries: retries, backoff: backoff, jitter: jitter, herd: herd, breaker: breaker,
            timelines: timelines
        )
    }

    /// Every attempt of every timeline, by start time then seq: the route-wide view the breaker needs.
    static func attemptsInStartOrder(_ timelines: [ClientReport.Timeline]) -> [ClientReport.Attempt] {
        var attempts: [ClientReport.Attempt] = []
        attempts.reserveCapacity(timelines.reduce(0) { $0 + $1.attempts.count })
        for timeline in timelines { attempts.append(contentsOf: timeline.attempts) }
        attempts.sort(by: startsBefore)
        return attempts
    }

    /// Time order, seq breaking ties (two attempts can share a nanosecond on different workers).
    static func startsBefore(_ lhs: ClientReport.Attempt, _ rhs: ClientReport.Attempt) -> Bool {
        lhs.timestamp != rhs.timestamp ? lhs.timestamp < rhs.timestamp : lhs.seq < rhs.seq
    }

    static func milliseconds(_ nanoseconds: Int64) -> Double { Double(nanoseconds) / 1_000_000 }
}

extension ClientReport.Attempt {
    /// When the client's answer ended (or the connection closed).
    var endTimestamp: Int64 { timestamp &+ Int64(clamping: totalNanoseconds) }
}
