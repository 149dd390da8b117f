@testable import FaultlineCore
import Testing

/// The report's verdicts on synthetic logs of known client behaviour (SPEC §3.4, docs/REPORT.md).
@Suite("ReportClassifier")
struct ReportClassifierTests {
    func report(_ log: LogBuilder, groupBy: AttemptGrouping = .auto) -> ClientReport {
        ReportClassifier.report(route: "pay", records: log.records, groupBy: groupBy)
    }

    /// 100·2^(k−1) ms for k = 1…count.
    func doubling(_ count: Int, from first: Double = 100) -> [Double] {
        (0..<count).map { first * Double(1 << $0) }
    }

    @Test("Exact doubling is exponential with factor 2 and first gap 100 ms")
    func exactDoubling() {
        var log = LogBuilder()
        for group in 0..<5 {
            log.timeline(key: "k-\(group)", start: Double(group) * 3000, gaps: doubling(4))
        }
        let report = report(log)
        #expect(report.requests == 25)
        #expect(report.injected == 20)
        #expect(report.groups == 5)
        #expect(report.retries.groupsRetried == 5)
        #expect(report.retries.maxAttempts == 5)
        #expect(report.retries.gaveUp == 0)
        #expect(report.backoff.shape == .exponential)
        #expect(abs((report.backoff.factor ?? 0) - 2) <= 0.05)
        #expect(abs((report.backoff.firstGapMilliseconds ?? 0) - 100) < 0.001)
        // Gaps 100, 200, 400, 800 five times over: the median is between 200 and 400.
        #expect(report.retries.gapsP50Milliseconds.map { abs($0 - 300) < 0.001 } == true)
        #expect(report.retries.gapsP90Milliseconds.map { abs($0 - 800) < 0.001 } == true)
        #expect(report.jitter == ClientReport.Jitter(present: false, spread: 0))
        #expect(report.herd == ClientReport.Herd(maxConcurrentRetries: 1, aligned: false))
        #expect(report.timelines.map(\.key) == (0..<5).map { "k-\($0)" })
    }

    @Test("Doubling with ±20 % noise over 10 groups is exponential with jitter")
    func noisyDoubling() {
        var log = LogBuilder()
        for group in 0..<10 {
            let gaps = doubling(4).map { $0 * log.uniform(0.8...1.2) }
            log.timeline(key: "k-\(group)", start: Double(group) * 50, gaps: gaps)
        }
        let report = report(log)
        #expect(report.backoff.shape == .exponential)
        #expect((1.7...2.3).contains(report.backoff.factor ?? 0))
        #expect(report.jitter.present)
        #expect((0.07...0.16).contains(report.jitter.spread ?? 0), "±20 % uniform is a CV of 0.115")
    }

    @Test("Full jitter (uniform 0…100·2^k) over 20 groups: growing, jittered, no herd")
    func fullJitter() {
        var log = LogBuilder()
        for group in 0..<20 {
            let gaps = doubling(4).map { log.uniform(0...$0) }
            log.timeline(key: "k-\(group)", start: log.uniform(0...5), gaps: gaps)
        }
        let report = report(log)
        #expect(report.backoff.shape == .exponential)
        #expect(report.jitter.present)
        #expect((0.4...0.8).contains(report.jitter.spread ?? 0), "full jitter is a CV of 0.58")
        #expect(!report.herd.aligned)
        #expect(report.herd.maxConcurrentRetries < 10)
    }

    @Test("A fixed 100 ms sleep over 20 groups started together: fixed, no jitter, a herd of 20")
    func fixedHerd() {
        var log = LogBuilder()
        for group in 0..<20 {
            let gaps = (0..<4).map { _ in 100 + log.uniform(-1...1) }
            log.timeline(key: "k-\(group)", start: log.uniform(0...5), gaps: gaps)
        }
        let report = report(log)
        #expect(report.backoff.shape == .fixed)
        #expect(report.backoff.factor == nil)
        #expect(abs((report.backoff.firstGapMilliseconds ?? 0) - 100) < 1)
        #expect(!report.jitter.present)
        #expect((report.jitter.spread ?? 1) < 0.02)
        #expect(report.herd == ClientReport.Herd(maxConcurrentRetries: 20, aligned: true))
    }

    @Test("The same fixed sleep from clients started apart is no herd")
    func fixedApart() {
        var log = LogBuilder()
        for group in 0..<20 {
            log.timeline(key: "k-\(group)", start: Double(group) * 777, gaps: [100, 100, 100])
        }
        let report = report(log)
        #expect(report.backoff.shape == .fixed)
        #expect(report.herd == ClientReport.Herd(maxConcurrentRetries: 1, aligned: false))
    }

    @Test("Gaps 100, 200, 300, 400 are linear")
    func linear() {
        var log = LogBuilder()
        for group in 0..<5 {
            log.timeline(key: "k-\(group)", start: Double(group) * 2000, gaps: [100, 200, 300, 400])
        }
        let report = report(log)
        #expect(report.backoff == ClientReport.Backoff(shape: .linear, factor: nil, firstGapMilliseconds: 100))
    }

    @Test("Retries within 0.2–2 ms are none, and tell no jitter")
    func immediate() {
        var log = LogBuilder()
        for group in 0..<10 {
            let gaps = (0..<3).map { _ in log.uniform(0.2...2) }
            log.timeline(key: "k-\(group)", start: Double(group) * 100, gaps: gaps, duration: 0.3)
        }
        let report = report(log)
        #expect(report.backoff.shape == .none)
        #expect(report.backoff.factor == nil)
        #expect((report.backoff.firstGapMilliseconds ?? 10) < 2)
        #expect(report.jitter == ClientReport.Jitter(present: false, spread: nil))
        #expect(report.retries.groupsRetried == 10)
    }

    @Test("One attempt per group: no retries, breaker not tested")
    func oneAttempt() {
        var log = LogBuilder()
        for group in 0..<10 {
            log.request(at: Double(group) * 10, outcome: group % 2 == 0 ? .status(200) : .status(503), key: "k-\(group)")
        }
        let report = report(log)
        #expect(report.backoff == ClientReport.Backoff(shape: .noRetries, factor: nil, firstGapMilliseconds: nil))
        #expect(report.retries == ClientReport.Retries(
            groupsRetried: 0, maxAttempts: 1, gaveUp: 5, gapsP50Milliseconds: nil, gapsP90Milliseconds: nil
        ))
        #expect(report.jitter == ClientReport.Jitter(present: false, spread: nil))
        #expect(report.herd == ClientReport.Herd(maxConcurrentRetries: 0, aligned: false))
        #expect(report.breaker == ClientReport.Breaker(verdict: .notTested, callsWhileFailingPerSecond: nil, longestPauseMilliseconds: 0))
        #expect(report.injected == 5)
    }

    @Test("urllib3 1.26 (0, 200, 400, 800: no sleep before the first retry) is exponential")
    func urllib3() {
        var log = LogBuilder()
        for group in 0..<10 {
            let gaps = [log.uniform(0.1...1)] + doubling(3, from: 200).map { $0 + log.uniform(0...1) }
            log.timeline(key: "k-\(group)", start: Double(group) * 2000, gaps: gaps)
        }
        let report = report(log)
        #expect(report.backoff.shape == .exponential)
        #expect(abs((report.backoff.factor ?? 0) - 2) <= 0.05)
        #expect((report.backoff.firstGapMilliseconds ?? 10) < 1)
        #expect(!report.jitter.present, "the immediate index is left out of the spread")
    }

    @Test("A breaker's open/half-open pattern is opened with the 1 s pause")
    func breakerOpens() {
        var log = LogBuilder()
        var time = 0.0
        for _ in 0..<5 {
            log.request(at: time, duration: 1, key: nil)
            time += 10
        }
        // Open: silent for 1 s after the fifth failure ended; then a half-open probe, failing.
        time -= 9
        for _ in 0..<5 {
            time += 1000
            time = log.request(at: time, duration: 1, key: nil)
        }
        let report = report(log)
        #expect(report.breaker.verdict == .opened)
        #expect(abs(report.breaker.longestPauseMilliseconds - 1000) < 2)
        // 10 calls from 0 to 5.046 s.
        #expect(report.breaker.callsWhileFailingPerSecond.map { abs($0 - 10 / 5.046) < 0.001 } == true)
    }

    @Test("A naive loop hammering a failing service every 1 ms kept calling, at ≈ 1000 calls/s")
    func naiveLoop() {
        var log = LogBuilder()
        for call in 0..<2000 {
            log.request(at: Double(call), duration: 0.2, key: nil)
        }
        let report = report(log)
        #expect(report.breaker.verdict == .keptCalling)
        #expect((990...1010).contains(report.breaker.callsWhileFailingPerSecond ?? 0))
        #expect(abs(report.breaker.longestPauseMilliseconds - 0.8) < 0.01)
        #expect(report.groups == 1)
        #expect(report.timelines[0].key == "POST /charge from 127.0.0.1")
        #expect(report.backoff.shape == .none)
        #expect(report.retries.gaveUp == 1)
        #expect(report.retries.maxAttempts == 2000)
    }

    @Test("A client calling a failing service at a slow steady rate kept calling")
    func slowSteadyClient() {
        var log = LogBuilder()
        for call in 0..<10 {
            log.request(at: Double(call) * 300 + log.uniform(0...20), duration: 2, key: nil)
        }
        let report = report(log)
        #expect(report.breaker.verdict == .keptCalling)
        #expect(report.breaker.longestPauseMilliseconds > 250)
    }

    @Test("A success from another client ends a failing stretch (the breaker is route-wide)")
    func stretchEndsAtSuccess() {
        var log = LogBuilder()
        for call in 0..<10 { log.request(at: Double(call) * 100, key: nil) }
        log.request(at: 450, outcome: .status(200), key: nil, host: .v4(10, 0, 0, 2))
        // Two runs of 5 (0…401 ms, 500…901 ms), each lasting under 500 ms.
        #expect(report(log).breaker.verdict == .notTested)
    }

    @Test("tcp connection attempts are grouped by client address, whatever the grouping")
    func tcpByHost() {
        var log = LogBuilder()
        var time = 0.0
        for attempt in 0..<4 {
            log.connection(at: time, duration: 0.1, outcome: attempt == 3 ? .relayed : .refused, host: .v4(10, 0, 0, 1), port: UInt16(50000 + attempt))
            log.connection(at: time + 5, duration: 0.1, outcome: .refused, host: IPAddress(parsing: "::1")!, port: UInt16(60000 + attempt))
            time += 100 * Double(1 << attempt)
        }
        for grouping in [AttemptGrouping.auto, .header("idempotency-key"), .methodPath, .source] {
            let report = ReportClassifier.report(route: "db", records: log.records, groupBy: grouping)
            #expect(report.timelines.map(\.key) == ["10.0.0.1", "0:0:0:0:0:0:0:1"])
            #expect(report.timelines.map(\.attempts.count) == [4, 4])
            #expect(report.retries.gaveUp == 1)
            #expect(report.retries.groupsRetried == 2)
            #expect(report.backoff.shape == .exponential)
        }
    }

    @Test("groupBy: keys, request ids, method+path per client, source, and any kept header")
    func groupings() {
        var log = LogBuilder()
        let other = IPAddress.v4(10, 0, 0, 9)
        log.request(at: 0, key: "k1", requestID: "r1", traceparent: "t1")
        log.request(at: 1, key: "k1", requestID: "r2", traceparent: "t1", port: 40001)
        log.request(at: 2, requestID: "r3", traceparent: "t1")
        log.request(at: 3, method: "GET", path: "/a")
        log.request(at: 4, method: "GET", path: "/a", host: other)
        log.request(at: 5, method: "GET", path: "/a", port: 40002)
        func keys(_ grouping: AttemptGrouping) -> [String: Int] {
            var counts: [String: Int] = [:]
            for timeline in report(log, groupBy: grouping).timelines { counts[timeline.key] = timeline.attempts.count }
            return counts
        }
        #expect(keys(.auto) == ["k1": 2, "r3": 1, "GET /a from 127.0.0.1": 2, "GET /a from 10.0.0.9": 1])
        #expect(keys(.header("x-request-id")) == [
            "r1": 1, "r2": 1, "r3": 1, "GET /a from 127.0.0.1": 2, "GET /a from 10.0.0.9": 1,
        ])
        #expect(keys(.header("Traceparent")) == ["t1": 3, "GET /a from 127.0.0.1": 2, "GET /a from 10.0.0.9": 1])
        // Not a logged header: nothing carries it, so every request is grouped per client.
        #expect(keys(.header("x-tenant")) == [
            "POST /charge from 127.0.0.1": 3, "GET /a from 127.0.0.1": 2, "GET /a from 10.0.0.9": 1,
        ])
        #expect(keys(.methodPath) == keys(.header("x-tenant")))
        #expect(keys(.source) == ["127.0.0.1": 5, "10.0.0.9": 1])
        #expect(report(log, groupBy: .auto).timelines.map(\.key) == ["k1", "r3", "GET /a from 127.0.0.1", "GET /a from 10.0.0.9"])
    }

    @Test("gave_up counts the timelines whose last attempt failed")
    func gaveUp() {
        var log = LogBuilder()
        log.timeline(key: "ok", start: 0, gaps: [100, 200])
        log.timeline(key: "quit", start: 10, gaps: [100, 200], succeeds: false)
        log.timeline(key: "reset", start: 20, gaps: [100], succeeds: false, failure: .reset)
        log.timeline(key: "once", start: 30, gaps: [], succeeds: false)
        log.timeline(key: "fine", start: 40, gaps: [])
        let report = report(log)
        #expect(report.retries.gaveUp == 3)
        #expect(report.retries.groupsRetried == 3)
        #expect(report.retries.maxAttempts == 3)
    }

    @Test("Attempts sort by time then seq, timelines by their first attempt")
    func ordering() {
        let records = [
            RequestRecord(seq: 3, timestamp: 50, route: "r", conn: 0, request: 0, source: SourceAddress(address: .v4(1, 1, 1, 1), port: 1),
                          http: .init(method: "GET", path: "/", keys: RequestKeys(idempotencyKey: "b")), outcome: .status(503),
                          fault: nil, upstreamNanoseconds: nil, totalNanoseconds: 1),
            RequestRecord(seq: 2, timestamp: 50, route: "r", conn: 0, request: 0, source: SourceAddress(address: .v4(1, 1, 1, 1), port: 1),
                          http: .init(method: "GET", path: "/", keys: RequestKeys(idempotencyKey: "b")), outcome: .status(503),
                          fault: nil, upstreamNanoseconds: nil, totalNanoseconds: 1),
            RequestRecord(seq: 1, timestamp: 10, route: "r", conn: 0, request: 0, source: SourceAddress(address: .v4(1, 1, 1, 1), port: 1),
                          http: .init(method: "GET", path: "/", keys: RequestKeys(idempotencyKey: "a")), outcome: .status(200),
                          fault: nil, upstreamNanoseconds: nil, totalNanoseconds: 1),
        ]
        let timelines = ReportClassifier.timelines(of: records, groupBy: .auto)
        #expect(timelines.map(\.key) == ["a", "b"])
        #expect(timelines[1].attempts.map(\.seq) == [2, 3])
    }

    @Test("The noisy verdicts hold for 40 seeds, not only the one above", arguments: UInt64(1)...40)
    func otherSeeds(seed: UInt64) {
        var noisy = LogBuilder(seed: seed)
        for group in 0..<10 {
            let gaps = doubling(4).map { $0 * noisy.uniform(0.8...1.2) }
            noisy.timeline(key: "k-\(group)", start: Double(group) * 50, gaps: gaps)
        }
        let noisyReport = report(noisy)
        #expect(noisyReport.backoff.shape == .exponential)
        #expect((1.7...2.3).contains(noisyReport.backoff.factor ?? 0))
        #expect(noisyReport.jitter.present)

        var full = LogBuilder(seed: seed)
        for group in 0..<20 {
            let gaps = doubling(4).map { full.uniform(0...$0) }
            full.timeline(key: "k-\(group)", start: full.uniform(0...5), gaps: gaps)
        }
        let fullReport = report(full)
        #expect(![.fixed, .none].contains(fullReport.backoff.shape))
        #expect(fullReport.jitter.present)
        #expect(!fullReport.herd.aligned)

        var fixed = LogBuilder(seed: seed)
        for group in 0..<20 {
            // A loaded machine: each sleep up to 8 ms late, starts spread over 15 ms.
            let gaps = (0..<4).map { _ in 100 + fixed.uniform(0...8) }
            fixed.timeline(key: "k-\(group)", start: fixed.uniform(0...15), gaps: gaps)
        }
        let fixedReport = report(fixed)
        #expect(fixedReport.backoff.shape == .fixed)
        #expect(!fixedReport.jitter.present)
        #expect(fixedReport.herd.aligned)
    }

    @Test("A failing chain of 50,000 beside 50,000 one-retry timelines stays linear-time")
    func longChainBesideManyTimelines() {
        var records: [RequestRecord] = []
        records.reserveCapacity(150_000)
        func add(_ key: String, at nanoseconds: Int64, _ outcome: RequestOutcome) {
            records.append(RequestRecord(
                seq: UInt64(records.count + 1), timestamp: LogBuilder.origin + nanoseconds, route: "pay", conn: 0, request: 0,
                source: SourceAddress(address: .v4(127, 0, 0, 1), port: 1),
                http: .init(method: "GET", path: "/", keys: RequestKeys(idempotencyKey: key)), outcome: outcome, fault: nil,
                upstreamNanoseconds: nil, totalNanoseconds: 100_000
            ))
        }
        for call in 0..<50_000 { add("loop", at: Int64(call) * 1_000_000, .status(503)) }
        for group in 0..<50_000 {
            add("k\(group)", at: Int64(group) * 1_000_000 + 500_000, .reset)
            add("k\(group)", at: Int64(group) * 1_000_000 + 700_000, .status(200))
        }
        let report = ReportClassifier.report(route: "pay", records: records)
        #expect(report.requests == 150_000)
        #expect(report.groups == 50_001)
        #expect(report.retries.groupsRetried == 50_001)
        #expect(report.retries.maxAttempts == 50_000)
        #expect(report.retries.gaveUp == 1)
    }

    @Test("100,000 records classify in one pass (counts only; no timing asserted)")
    func hundredThousand() {
        var log = LogBuilder()
        // 20,000 groups of 5 attempts (4 failures, then a success), 20 groups starting every 50 ms.
        for group in 0..<20_000 {
            let gaps = doubling(4).map { $0 * log.uniform(0.9...1.1) }
            log.timeline(key: "k-\(group)", start: Double(group / 20) * 50 + log.uniform(0...10), gaps: gaps)
        }
        let records = log.records
        #expect(records.count == 100_000)
        let report = ReportClassifier.report(route: "pay", records: records)
        #expect(report.requests == 100_000)
        #expect(report.injected == 80_000)
        #expect(report.groups == 20_000)
        #expect(report.retries.groupsRetried == 20_000)
        #expect(report.retries.maxAttempts == 5)
        #expect(report.retries.gaveUp == 0)
        #expect(report.backoff.shape == .exponential)
    }
}
