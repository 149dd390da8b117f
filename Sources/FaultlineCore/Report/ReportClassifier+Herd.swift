extension ReportClassifier {
    /// Retries of different timelines starting within this long of each other land together…
    static let herdMinimumWindowMilliseconds = 20.0
    /// …or within this share of the typical first gap, when that is longer: a client's own timing
    /// noise grows with the sleep it measures.
    static let herdWindowShareOfFirstGap = 0.2
    /// Aligned needs at least this many timelines together: with fewer, chance alone puts most
    /// of a jittered wave in one window (3 of 4 fully jittered clients a third of the time)…
    static let herdMinimumTimelines = 5
    /// …and at least this share of the timelines that retried: ±20 % jitter already keeps half
    /// of a wave of 20 in one window, full jitter up to 11 of 20, while clients that sleep the
    /// same land all together.
    static let herdShareOfRetried = 0.75

    /// The most distinct timelines whose retry of the same index (the same wave: every first
    /// retry, every second, …) starts inside one window of width W = max(20 ms, 0.2 × first gap),
    /// and whether that is a herd (≥ 5 timelines and ≥ 3/4 of those that retried). Counting per
    /// index is what tells a missing jitter: clients that failed together and sleep the same
    /// stay in step wave after wave, while jitter scatters each wave (full jitter puts about a
    /// third of 20 clients in one window), and a later wave of one client meeting an earlier wave
    /// of another is a coincidence of their start times, not a property of the policy. A sort and
    /// a two-pointer sweep per index.
    static func herd(gaps: [RetryGap], firstGapMilliseconds: Double?, groupsRetried: Int) -> ClientReport.Herd {
        guard !gaps.isEmpty else { return ClientReport.Herd(maxConcurrentRetries: 0, aligned: false) }
        let windowMilliseconds = max(herdMinimumWindowMilliseconds, herdWindowShareOfFirstGap * (firstGapMilliseconds ?? 0))
        let window = Int64(windowMilliseconds * 1_000_000)
        let retries = gaps.sorted { $0.index != $1.index ? $0.index < $1.index : $0.start < $1.start }
        var inWindow = [Int: Int]()
        var lower = 0
        var most = 0
        for upper in retries.indices {
            if retries[upper].index != retries[lower].index {
                inWindow = [:]  // not removeAll(keepingCapacity:), which is O(capacity) per index
                lower = upper
            }
            inWindow[retries[upper].timeline, default: 0] += 1
            while retries[upper].start - retries[lower].start > window {
                let timeline = retries[lower].timeline
                inWindow[timeline]! -= 1
                if inWindow[timeline] == 0 { inWindow[timeline] = nil }
                lower += 1
            }
            most = max(most, inWindow.count)
        }
        let aligned = most >= herdMinimumTimelines && Double(most) >= herdShareOfRetried * Double(groupsRetried)
        return ClientReport.Herd(maxConcurrentRetries: most, aligned: aligned)
    }
}
