public import FaultlineCore

/// How a `ClientReport` reads to a person: the verdicts in words, a timeline's outcomes and
/// gaps, and the number formats. Shared by `faultctl report`'s tables and `ReportPage`, so the
/// two never say different things about one report.
public enum ReportText {
    /// Whether a verdict is what a well-behaved client would show.
    public enum Tone: String, Sendable, Hashable {
        /// What a careful client does (exponential backoff, jitter, an opened breaker).
        case good
        /// Worth a look (fixed or linear backoff, no jitter measured between retries).
        case warning
        /// What takes a service down (immediate retries, aligned retries, calling on while failing).
        case bad
        /// Nothing to judge (no retries, nothing failed long enough).
        case neutral
    }

    /// One verdict in words.
    public struct Verdict: Sendable, Hashable {
        /// `retries`, `backoff`, `jitter`, `herd`, `breaker`.
        public var name: String
        /// The verdict itself: `exponential`, `kept calling`, `3 of 20 retried` (groups).
        public var result: String
        /// The numbers behind it: `factor 2.01`, `first gap 100 ms`.
        public var details: [String]
        public var tone: Tone

        /// A verdict from its parts.
        public init(name: String, result: String, details: [String], tone: Tone) {
            self.name = name
            self.result = result
            self.details = details
            self.tone = tone
        }
    }

    /// The five verdicts of `report`, in the order of the report's JSON.
    public static func verdicts(_ report: ClientReport) -> [Verdict] {
        let retried = report.retries.groupsRetried > 0
        var retryDetails = ["max \(report.retries.maxAttempts) attempts", "\(report.retries.gaveUp) gave up"]
        if let p50 = report.retries.gapsP50Milliseconds { retryDetails.append("p50 gap \(milliseconds(p50))") }
        if let p90 = report.retries.gapsP90Milliseconds { retryDetails.append("p90 gap \(milliseconds(p90))") }

        let shape = report.backoff.shape
        var backoffDetails: [String] = []
        if let factor = report.backoff.factor { backoffDetails.append("factor \(fixed(factor, digits: 2))") }
        if let first = report.backoff.firstGapMilliseconds { backoffDetails.append("first gap \(milliseconds(first))") }
        let backoffTone: Tone
        switch shape {
        case .exponential: backoffTone = .good
        case .none: backoffTone = .bad
        case .fixed, .linear, .mixed: backoffTone = .warning
        case .noRetries: backoffTone = .neutral
        }

        let jitter: Verdict
        if let spread = report.jitter.spread {
            jitter = Verdict(
                name: "jitter", result: report.jitter.present ? "present" : "absent",
                details: ["spread \(fixed(spread, digits: 2))"], tone: report.jitter.present ? .good : .warning
            )
        } else {
            jitter = Verdict(name: "jitter", result: "not measured", details: ["too few retries at one index"], tone: .neutral)
        }

        let herdTone: Tone = !retried ? .neutral : report.herd.aligned ? .bad : .good
        let herd = Verdict(
            name: "herd", result: report.herd.aligned ? "aligned" : "not aligned",
            details: ["max \(report.herd.maxConcurrentRetries) concurrent retries"], tone: herdTone
        )

        var breakerDetails: [String] = []
        if let rate = report.breaker.callsWhileFailingPerSecond {
            breakerDetails.append("\(fixed(rate, digits: 1)) calls/s while failing")
        }
        breakerDetails.append("longest pause \(milliseconds(report.breaker.longestPauseMilliseconds))")
        let breakerTone: Tone
        switch report.breaker.verdict {
        case .opened: breakerTone = .good
        case .keptCalling: breakerTone = .bad
        case .notTested: breakerTone = .neutral
        }

        return [
            Verdict(
                name: "retries", result: "\(report.retries.groupsRetried) of \(report.groups) retried",
                details: retryDetails, tone: .neutral
            ),
            Verdict(name: "backoff", result: words(shape.rawValue), details: backoffDetails, tone: backoffTone),
            jitter,
            herd,
            Verdict(name: "breaker", result: words(report.breaker.verdict.rawValue), details: breakerDetails, tone: breakerTone),
        ]
    }

    /// The outcomes of a timeline's attempts, oldest first: `503* 503* 200`, a `*` marking an
    /// attempt a fault acted on; past `limit` attempts, `… +N`.
    public static func outcomes(_ timeline: ClientReport.Timeline, limit: Int = 12) -> String {
        var parts = timeline.attempts.prefix(limit).map { $0.outcome.label + ($0.fault == nil ? "" : "*") }
        if timeline.attempts.count > limit { parts.append("… +\(timeline.attempts.count - limit)") }
        return parts.joined(separator: " ")
    }

    /// The milliseconds from each attempt's end to the next one's start (negative when they
    /// overlapped): one fewer than the attempts.
    public static func gapsMilliseconds(_ timeline: ClientReport.Timeline) -> [Double] {
        zip(timeline.attempts, timeline.attempts.dropFirst()).map { previous, next in
            let end = previous.timestamp &+ Int64(clamping: previous.totalNanoseconds)
            return Double(next.timestamp &- end) / 1e6
        }
    }

    /// `gapsMilliseconds` as whole milliseconds, space-separated, past `limit` gaps `… +N`.
    public static func gaps(_ timeline: ClientReport.Timeline, limit: Int = 12) -> String {
        let gaps = gapsMilliseconds(timeline)
        var parts = gaps.prefix(limit).map { String(Int64($0.rounded())) }
        if gaps.count > limit { parts.append("… +\(gaps.count - limit)") }
        return parts.joined(separator: " ")
    }

    /// A duration for people: `0.4 ms`, `12 ms`, `210 ms`, `1.25 s`, `95 s`; `-` for nil.
    public static func milliseconds(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        let size = abs(value)
        if size >= 100_000 { return "\(fixed(value / 1000, digits: 0)) s" }
        if size >= 10_000 { return "\(fixed(value / 1000, digits: 1)) s" }
        if size >= 1000 { return "\(fixed(value / 1000, digits: 2)) s" }
        if size >= 10 || value == 0 { return "\(fixed(value, digits: 0)) ms" }
        return "\(fixed(value, digits: 1)) ms"
    }

    /// `value` rounded to `digits` decimals (half away from zero), without exponent: `2.01`,
    /// `48.0`, `3`.
    public static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : value < 0 ? "-inf" : "inf" }
        var scale = 1.0
        for _ in 0..<max(digits, 0) { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return String(value) }
        let units = UInt64(scaled)
        let whole = units / UInt64(scale)
        var text = (value < 0 && units != 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let fraction = String(units % UInt64(scale))
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return text
    }

    /// `value` with at most `digits` decimals, trailing zeros dropped: `1.5`, `2`, `0.25`.
    public static func trimmed(_ value: Double, digits: Int) -> String {
        var text = fixed(value, digits: digits)
        guard text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// `kept_calling` → `kept calling`.
    private static func words(_ spelling: String) -> String {
        String(spelling.map { $0 == "_" ? " " : $0 })
    }
}
