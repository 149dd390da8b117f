@testable import FaultlineCore
import Testing

/// Each verdict's function on its own, at the edges of its thresholds.
@Suite("ReportClassifier parts")
struct ReportClassifierPartsTests {
    // MARK: Statistics

    @Test("Quantiles interpolate between the closest ranks")
    func quantiles() {
        #expect(ReportStatistics.quantile(sorted: [], 0.5) == nil)
        #expect(ReportStatistics.quantile(sorted: [7], 0.9) == 7)
        #expect(ReportStatistics.quantile(sorted: [1, 2, 3, 4], 0.5) == 2.5)
        #expect(ReportStatistics.quantile(sorted: [1, 2, 3, 4], 0.25) == 1.75)
        #expect(abs(ReportStatistics.quantile(sorted: [1, 2, 3, 4], 0.9)! - 3.7) < 1e-12)
        #expect(ReportStatistics.quantile(sorted: [1, 2, 3, 4], 1) == 4)
        #expect(ReportStatistics.median([5, 1, 3]) == 3)
    }

    @Test("Coefficient of variation uses the sample deviation")
    func coefficientOfVariation() {
        #expect(ReportStatistics.coefficientOfVariation([10, 10, 10]) == 0)
        // mean 2, sample deviation 1.
        #expect(ReportStatistics.coefficientOfVariation([1, 2, 3]) == 0.5)
        #expect(ReportStatistics.coefficientOfVariation([0, 0]) == nil)
    }

    // MARK: Grouping

    func record(_ http: RequestRecord.HTTPPart?, address: IPAddress? = .v4(192, 168, 1, 2)) -> RequestRecord {
        RequestRecord(
            seq: 1, timestamp: 0, route: "r", conn: 0, request: 0, source: SourceAddress(address: address, port: 5555),
            http: http, outcome: .status(503), fault: nil, upstreamNanoseconds: nil, totalNanoseconds: 0
        )
    }

    @Test("Group keys per grouping")
    func groupKeys() {
        let keyed = record(.init(method: "PUT", path: "/x", keys: RequestKeys(idempotencyKey: "k", requestID: "r", traceparent: "t")))
        let plain = record(.init(method: "GET", path: "/y"), address: IPAddress(parsing: "fe80::1"))
        let tcp = record(nil)
        #expect(ReportClassifier.groupKey(keyed, groupBy: .auto) == "k")
        #expect(ReportClassifier.groupKey(keyed, groupBy: .header("x-request-id")) == "r")
        #expect(ReportClassifier.groupKey(keyed, groupBy: .header("traceparent")) == "t")
        #expect(ReportClassifier.groupKey(keyed, groupBy: .header("x-other")) == "PUT /x from 192.168.1.2")
        #expect(ReportClassifier.groupKey(keyed, groupBy: .methodPath) == "PUT /x from 192.168.1.2")
        #expect(ReportClassifier.groupKey(keyed, groupBy: .source) == "192.168.1.2")
        #expect(ReportClassifier.groupKey(plain, groupBy: .auto) == "GET /y from fe80:0:0:0:0:0:0:1")
        #expect(ReportClassifier.groupKey(plain, groupBy: .header("idempotency-key")) == "GET /y from fe80:0:0:0:0:0:0:1")
        for grouping in [AttemptGrouping.auto, .header("idempotency-key"), .methodPath, .source] {
            #expect(ReportClassifier.groupKey(tcp, groupBy: grouping) == "192.168.1.2")
        }
        #expect(ReportClassifier.groupKey(record(nil, address: nil), groupBy: .auto) == "unknown")
    }

    // MARK: Retries

    @Test("A retry follows a failure; a success ends the chain; overlapping attempts have gap 0")
    func retryGaps() {
        let timeline = ClientReport.Timeline(key: "k", attempts: [
            attempt(1, at: 0, duration: 10),
            attempt(2, at: 110, duration: 10),
            attempt(3, at: 320, duration: 10, outcome: .status(200)),
            attempt(4, at: 1000, duration: 10, outcome: .status(200)),
            attempt(5, at: 2000, duration: 50, outcome: .reset),
            attempt(6, at: 2040, duration: 10, outcome: .status(404)),
        ])
        let gaps = ReportClassifier.retryGaps(in: [timeline])
        #expect(gaps.map(\.index) == [1, 2, 1])
        #expect(gaps.map(\.gapMilliseconds) == [100, 200, 0])
        #expect(gaps.map(\.start) == [110, 320, 2040].map { LogBuilder.origin + LogBuilder.nanoseconds($0) })
        let retries = ReportClassifier.retries(timelines: [timeline], gaps: gaps)
        #expect(retries == ClientReport.Retries(groupsRetried: 1, maxAttempts: 6, gaveUp: 0, gapsP50Milliseconds: 100, gapsP90Milliseconds: 180))
    }

    @Test("Retry indices reached by under a quarter of the chains are left out of the shape")
    func typicalGapsSupport() {
        var timelines: [ClientReport.Timeline] = []
        for group in 0..<8 {
            let base = Double(group) * 10_000
            var attempts = [attempt(1, at: base), attempt(2, at: base + 101), attempt(3, at: base + 302, outcome: .status(200))]
            if group == 0 {
                // One straggler retries twice more, after long sleeps.
                attempts[2].outcome = .status(503)
                attempts += [attempt(4, at: base + 5303), attempt(5, at: base + 9304, outcome: .status(200))]
            }
            timelines.append(ClientReport.Timeline(key: "k\(group)", attempts: attempts))
        }
        let gaps = ReportClassifier.retryGaps(in: timelines)
        #expect(ReportClassifier.gapsByIndex(gaps).map(\.count) == [8, 8, 1, 1])
        #expect(ReportClassifier.typicalGaps(gaps) == [100, 200])
        // One chain alone: each index is all there is.
        #expect(ReportClassifier.typicalGaps(ReportClassifier.retryGaps(in: [timelines[0]])) == [100, 200, 5000, 4000])
    }

    // MARK: Backoff

    func shape(_ gaps: [Double]) -> ClientReport.Backoff {
        ReportClassifier.backoff(typicalGapsMilliseconds: gaps)
    }

    @Test("Backoff shapes of typical gaps")
    func backoffShapes() {
        #expect(shape([]) == ClientReport.Backoff(shape: .noRetries, factor: nil, firstGapMilliseconds: nil))
        #expect(shape([5, 0.3, 9.9]) == ClientReport.Backoff(shape: .none, factor: nil, firstGapMilliseconds: 5))
        #expect(shape([9.9]).shape == .none)
        #expect(shape([10]) == ClientReport.Backoff(shape: .fixed, factor: nil, firstGapMilliseconds: 10))
        #expect(shape([250, 250, 250]).shape == .fixed)
        #expect(shape([100, 110, 95, 105]).shape == .fixed)
        #expect(shape([100, 105]).shape == .fixed)
        // Two gaps cannot tell a line from a curve: 1.4× and more is exponential, gentler linear.
        #expect(shape([100, 200]).shape == .exponential)
        #expect(abs((shape([100, 200]).factor ?? 0) - 2) < 1e-9)
        #expect(shape([100, 130]).shape == .linear)
        #expect(shape([100, 150, 225, 337.5]).shape == .exponential)
        #expect(abs((shape([100, 150, 225, 337.5]).factor ?? 0) - 1.5) < 1e-9)
        #expect(abs((shape([50, 150, 450]).factor ?? 0) - 3) < 1e-9)
        #expect(shape([100, 200, 300, 400, 500, 600]).shape == .linear)
        #expect(shape([1000, 1500, 2000]).shape == .linear)
        // Growth of 1.3× per retry: a line fits as well, and it is too gentle to call geometric.
        #expect(shape([100, 130, 169, 219.7]).shape == .linear)
        #expect(shape([800, 400, 200, 100]).shape == .mixed)
        #expect(shape([100, 500, 100, 500]).shape == .mixed)
        #expect(shape([100, 100, 100, 3000]).shape == .mixed)
    }

    @Test("A tight loop with a scheduling hiccup or two is still none; more than a tenth is not")
    func immediateWithHiccups() {
        var loop = [Double](repeating: 0.8, count: 300)
        loop[40] = 35
        loop[210] = 18
        #expect(shape(loop).shape == .none)
        let eleven = [Double](repeating: 1, count: 9) + [50, 50]
        #expect(shape(eleven).shape != .none)
        #expect(shape([1, 1, 1, 1, 40]).shape != .none, "in a short chain one long gap is a wait")
    }

    @Test("An immediate first retry is set aside when two gaps or more follow (urllib3 1.26)")
    func leadingImmediateRetry() {
        let urllib3 = shape([0, 200, 400, 800])
        #expect(urllib3.shape == .exponential)
        #expect(abs((urllib3.factor ?? 0) - 2) < 1e-9)
        #expect(urllib3.firstGapMilliseconds == 0)
        #expect(shape([0.4, 200, 400]).shape == .exponential)
        #expect(shape([1, 300, 300, 300]).shape == .fixed)
        #expect(shape([2, 100, 200, 300]).shape == .linear)
        #expect(shape([0.5, 200]) == ClientReport.Backoff(shape: .mixed, factor: nil, firstGapMilliseconds: 0.5))
        // Only the first: a second immediate gap is part of the shape.
        #expect(shape([0, 0, 0, 800]).shape == .mixed)
        #expect(shape([0, 0, 400, 800]).shape == .linear)
    }

    // MARK: Jitter

    func gaps(_ byChain: [[Double]], spacing: Double = 10_000) -> [ReportClassifier.RetryGap] {
        var result: [ReportClassifier.RetryGap] = []
        for (chain, values) in byChain.enumerated() {
            var time = Double(chain) * spacing
            for (index, value) in values.enumerated() {
                time += value + 1
                result.append(ReportClassifier.RetryGap(
                    timeline: chain, index: index + 1, gapNanoseconds: LogBuilder.nanoseconds(value),
                    start: LogBuilder.origin + LogBuilder.nanoseconds(time)
                ))
            }
        }
        return result
    }

    @Test("Jitter: the median spread of indices shared by three chains")
    func jitter() {
        let jittered = gaps([[100, 200], [130, 260], [70, 140]])
        let verdict = ReportClassifier.jitter(gaps: jittered, shape: .exponential)
        #expect(verdict.present)
        #expect(abs((verdict.spread ?? 0) - 0.3) < 1e-9)
        // Two chains tell nothing.
        #expect(ReportClassifier.jitter(gaps: gaps([[100], [150]]), shape: .fixed) == ClientReport.Jitter(present: false, spread: nil))
        // `none` has no gaps to jitter.
        #expect(ReportClassifier.jitter(gaps: gaps([[1], [2], [3]]), shape: .none) == ClientReport.Jitter(present: false, spread: nil))
        // An immediate index (urllib3's first) is left out.
        let urllib3 = ReportClassifier.jitter(gaps: gaps([[0.1, 200], [0.9, 201], [0.5, 199]]), shape: .exponential)
        #expect(urllib3.present == false)
        #expect(abs((urllib3.spread ?? 1) - 0.005) < 1e-9)
        // A 2 ms wobble on a 15 ms sleep is a CV over 0.08 but scheduling noise, not jitter.
        let wobble = ReportClassifier.jitter(gaps: gaps([[13.5], [15], [16.5]]), shape: .fixed)
        #expect((wobble.spread ?? 0) >= ReportClassifier.jitterSpread)
        #expect(!wobble.present)
        // Just under the threshold.
        let slight = ReportClassifier.jitter(gaps: gaps([[93], [100], [107]]), shape: .fixed)
        #expect((slight.spread ?? 1) < ReportClassifier.jitterSpread)
        #expect(!slight.present)
    }

    // MARK: Herd

    @Test("Herd: distinct timelines whose same-index retries start within one window")
    func herd() {
        // Five chains started together, first retry after 100 ms: one wave per index.
        let together = gaps(Array(repeating: [100, 100, 100], count: 5), spacing: 1)
        #expect(ReportClassifier.herd(gaps: together, firstGapMilliseconds: 100, groupsRetried: 5)
            == ClientReport.Herd(maxConcurrentRetries: 5, aligned: true))
        // The same five among 7 that retried: under 3/4.
        #expect(ReportClassifier.herd(gaps: together, firstGapMilliseconds: 100, groupsRetried: 7)
            == ClientReport.Herd(maxConcurrentRetries: 5, aligned: false))
        // Four together are too few to tell from chance.
        let four = gaps(Array(repeating: [100], count: 4), spacing: 1)
        #expect(ReportClassifier.herd(gaps: four, firstGapMilliseconds: 100, groupsRetried: 4)
            == ClientReport.Herd(maxConcurrentRetries: 4, aligned: false))
        // Starts 15 ms apart: all in one 20 ms window only pairwise.
        let apart = gaps(Array(repeating: [100], count: 6), spacing: 15)
        #expect(ReportClassifier.herd(gaps: apart, firstGapMilliseconds: 100, groupsRetried: 6).maxConcurrentRetries == 2)
        // A first gap of 1 s widens the window to 200 ms.
        #expect(ReportClassifier.herd(gaps: gaps(Array(repeating: [1000], count: 6), spacing: 15), firstGapMilliseconds: 1000, groupsRetried: 6)
            == ClientReport.Herd(maxConcurrentRetries: 6, aligned: true))
        // A second retry meeting another chain's first is not the same wave.
        let crossed = gaps([[100, 100], [100, 100]], spacing: 101)
        #expect(ReportClassifier.herd(gaps: crossed, firstGapMilliseconds: 100, groupsRetried: 2).maxConcurrentRetries == 1)
        // Many chains of one timeline count once.
        var oneTimeline = together
        for index in oneTimeline.indices { oneTimeline[index].timeline = 0 }
        #expect(ReportClassifier.herd(gaps: oneTimeline, firstGapMilliseconds: 100, groupsRetried: 1).maxConcurrentRetries == 1)
        #expect(ReportClassifier.herd(gaps: [], firstGapMilliseconds: nil, groupsRetried: 0) == ClientReport.Herd(maxConcurrentRetries: 0, aligned: false))
    }

    // MARK: Breaker

    @Test("The failing stretch is the longest run of failures by duration, not by count")
    func longestStretch() {
        let attempts = [
            attempt(1, at: 0), attempt(2, at: 1), attempt(3, at: 2), attempt(4, at: 3),
            attempt(5, at: 10, outcome: .status(200)),
            attempt(6, at: 20), attempt(7, at: 900),
            attempt(8, at: 1000, outcome: .status(204)),
        ]
        #expect(ReportClassifier.longestFailingStretch(attempts) == 5..<7)
        #expect(ReportClassifier.longestFailingStretch([attempt(1, at: 0, outcome: .status(200))]) == nil)
        #expect(ReportClassifier.longestFailingStretch([]) == nil)
    }

    @Test("Breaker: not tested below 5 attempts or 500 ms")
    func breakerNotTested() {
        let notTested = ClientReport.Breaker(verdict: .notTested, callsWhileFailingPerSecond: nil, longestPauseMilliseconds: 0)
        let four = (0..<4).map { attempt(UInt64($0), at: Double($0) * 300) }
        #expect(ReportClassifier.breaker(attemptsInStartOrder: four) == notTested)
        let quick = (0..<40).map { attempt(UInt64($0), at: Double($0) * 10) }
        #expect(ReportClassifier.breaker(attemptsInStartOrder: quick) == notTested)
        let fine = (0..<40).map { attempt(UInt64($0), at: Double($0) * 100, outcome: .status(200)) }
        #expect(ReportClassifier.breaker(attemptsInStartOrder: fine) == notTested)
    }

    @Test("Breaker: pauses are silences, so concurrent callers overlapping have none")
    func breakerConcurrent() {
        // Two callers, each 20 ms calls back to back, offset by 10 ms, for 1 s.
        var attempts: [ClientReport.Attempt] = []
        for call in 0..<100 { attempts.append(attempt(UInt64(call), at: Double(call) * 10, duration: 20)) }
        let verdict = ReportClassifier.breaker(attemptsInStartOrder: attempts)
        #expect(verdict.verdict == .keptCalling)
        #expect(verdict.longestPauseMilliseconds == 0)
        #expect(verdict.callsWhileFailingPerSecond.map { abs($0 - 100 / 1.01) < 1e-9 } == true)
    }

    @Test("Breaker: the longest pause must be 200 ms and 10× the quartile pause")
    func breakerThresholds() {
        // Calls every 20 ms (19 ms silences) with one 199 ms silence: kept calling.
        func stretch(pause: Double) -> [ClientReport.Attempt] {
            var attempts: [ClientReport.Attempt] = []
            var time = 0.0
            for call in 0..<40 {
                attempts.append(attempt(UInt64(call), at: time))
                time += call == 20 ? 1 + pause : 20
            }
            return attempts
        }
        #expect(ReportClassifier.breaker(attemptsInStartOrder: stretch(pause: 199)).verdict == .keptCalling)
        let opened = ReportClassifier.breaker(attemptsInStartOrder: stretch(pause: 200))
        #expect(opened.verdict == .opened)
        #expect(abs(opened.longestPauseMilliseconds - 200) < 1e-6)
        // Every silence 150 ms but one of 1 s: under 10× the quartile (1000 < 1490), kept calling.
        var slow: [ClientReport.Attempt] = []
        var time = 0.0
        for call in 0..<10 {
            slow.append(attempt(UInt64(call), at: time))
            time += call == 5 ? 1001 : 150
        }
        let verdict = ReportClassifier.breaker(attemptsInStartOrder: slow)
        #expect(verdict.verdict == .keptCalling)
        #expect(abs(verdict.longestPauseMilliseconds - 1000) < 1e-6)
    }
}
