import FaultlineConfig
import FaultlineCore
import Testing

private let second: Int64 = 1_000_000_000
private let ts = 1_796_234_400 * second + 123_456_000

@Suite struct ReportJSONTests {
    // MARK: Timestamps

    static let timestamps: [(Int64, String)] = [
        (Int64(0), "1970-01-01T00:00:00.000000Z"),
        (1_796_234_400 * second + 123_456_000, "2026-12-02T18:00:00.123456Z"),
        (951_825_600 * second, "2000-02-29T12:00:00.000000Z"),
        (1_709_251_199 * second + 999_999_000, "2024-02-29T23:59:59.999999Z"),
        (-2_203_977_600 * second, "1900-02-28T00:00:00.000000Z"),
        (-2_203_977_600 * second + 86_400 * second, "1900-03-01T00:00:00.000000Z"),
        (4_107_542_400 * second - 1000, "2100-02-28T23:59:59.999999Z"),
        (-1000, "1969-12-31T23:59:59.999999Z"),
        (Int64.max - 854_775_807, "2262-04-11T23:47:16.000000Z"),
    ]

    @Test(arguments: timestamps)
    func timestampsRoundTrip(nanoseconds: Int64, text: String) {
        #expect(ReportJSON.timestamp(nanoseconds) == text)
        #expect(ReportJSON.parseTimestamp(text) == nanoseconds)
    }

    @Test func timestampsTruncateToMicroseconds() {
        #expect(ReportJSON.timestamp(1_796_234_400 * second + 123_456_999) == "2026-12-02T18:00:00.123456Z")
        // Before the epoch the floor is taken too: 1 ns before 1970 is still in 1969's last microsecond.
        #expect(ReportJSON.timestamp(-1) == "1969-12-31T23:59:59.999999Z")
        #expect(ReportJSON.timestamp(Int64.max) == "2262-04-11T23:47:16.854775Z")
        #expect(ReportJSON.timestamp(Int64.min) == "1677-09-21T00:12:43.145224Z")
    }

    @Test func parsesOtherRFC3339Forms() {
        let base = 1_796_234_400 * second
        #expect(ReportJSON.parseTimestamp("2026-12-02T18:00:00Z") == base)
        #expect(ReportJSON.parseTimestamp("2026-12-02t18:00:00.5z") == base + 500_000_000)
        #expect(ReportJSON.parseTimestamp("2026-12-02T18:00:00.1234567891Z") == base + 123_456_789)
        #expect(ReportJSON.parseTimestamp("2026-12-02T19:30:00+01:30") == base)
        #expect(ReportJSON.parseTimestamp("2026-12-02T17:00:00-01:00") == base)
        #expect(ReportJSON.parseTimestamp("2026-12-02T17:59:60Z") == base)
    }

    @Test(arguments: [
        "", "2026-12-02", "2026-12-02T18:00:00", "2026-12-02 18:00:00Z", "2026-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-12-02T24:00:00Z", "2026-12-02T18:60:00Z", "2026-12-02T18:00:61Z", "2026-12-02T18:00:00.Z",
        "2026-12-02T18:00:00.1Zx", "2026-12-02T18:00:00+0100", "2026-12-02T18:00:00+24:00", "26-12-02T18:00:00Z",
        "2263-01-01T00:00:00Z", "1677-01-01T00:00:00Z",
    ])
    func rejectsOtherText(text: String) {
        #expect(ReportJSON.parseTimestamp(text) == nil)
    }

    // MARK: Records

    static func httpRecord(
        outcome: RequestOutcome = .status(503), fault: String? = "flaky", upstream: UInt64? = 1_200_000,
        keys: RequestKeys = RequestKeys(idempotencyKey: "k1"), source: SourceAddress = SourceAddress(address: .v4(127, 0, 0, 1), port: 50312)
    ) -> RequestRecord {
        RequestRecord(
            seq: 12, timestamp: ts, route: "pay", conn: 3, request: 0, source: source,
            http: .init(method: "POST", path: "/charge", keys: keys), outcome: outcome, fault: fault,
            upstreamNanoseconds: upstream, totalNanoseconds: 1_350_000
        )
    }

    static func tcpRecord(outcome: RequestOutcome = .refused, fault: String? = nil) -> RequestRecord {
        RequestRecord(
            seq: 7, timestamp: ts, route: "db", conn: 9, request: 0,
            source: SourceAddress(address: .v4(127, 0, 0, 1), port: 50312), http: nil, outcome: outcome, fault: fault,
            upstreamNanoseconds: nil, totalNanoseconds: 12_000
        )
    }

    func roundTrip(_ record: RequestRecord) throws -> RequestRecord {
        let text = JSONWriter.render(ReportJSON.encode(record))
        return try ReportJSON.decodeRecord(try JSONParser.parse(text).get())
    }

    @Test func httpRecordShape() {
        #expect(JSONWriter.render(ReportJSON.encode(Self.httpRecord())) == #"{"seq":12,"ts":"2026-12-02T18:00:00.123456Z","route":"pay","conn":3,"req":0,"source":"127.0.0.1:50312","method":"POST","path":"/charge","keys":{"idempotency-key":"k1","x-request-id":null,"traceparent":null},"status":503,"fault":"flaky","upstream_us":1200,"total_us":1350}"#)
    }

    @Test func aGRPCCallCarriesItsStatusAfterTheOthers() throws {
        var record = Self.httpRecord(outcome: .status(200))
        record.grpcStatus = 14
        let text = JSONWriter.render(ReportJSON.encode(record))
        #expect(text.hasSuffix(#""upstream_us":1200,"total_us":1350,"grpc_status":14}"#))
        #expect(try roundTrip(record) == record)
        #expect(record.isFailure)
        record.grpcStatus = 5  // NOT_FOUND: the caller's mistake, like a 404
        #expect(!record.isFailure)
        record.grpcStatus = 0
        #expect(!record.isFailure)
    }

    @Test func tcpRecordShape() {
        #expect(JSONWriter.render(ReportJSON.encode(Self.tcpRecord())) == #"{"seq":7,"ts":"2026-12-02T18:00:00.123456Z","route":"db","conn":9,"source":"127.0.0.1:50312","outcome":"refused","fault":null,"duration_us":12}"#)
    }

    @Test(arguments: [
        Self.httpRecord(), Self.httpRecord(outcome: .status(200), fault: nil, upstream: nil, keys: RequestKeys()),
        Self.httpRecord(outcome: .reset), Self.httpRecord(outcome: .closed), Self.httpRecord(outcome: .hang, upstream: nil),
        Self.httpRecord(outcome: .abortedByClient, keys: RequestKeys(requestID: "r-1", traceparent: "00-abc-def-01")),
        Self.httpRecord(source: SourceAddress(address: IPAddress(parsing: "::1"), port: 443)),
        Self.httpRecord(source: SourceAddress(address: IPAddress(parsing: "2001:db8::17"), port: 1)),
        Self.httpRecord(source: SourceAddress(address: nil, port: 0)),
        Self.tcpRecord(), Self.tcpRecord(outcome: .relayed), Self.tcpRecord(outcome: .reset, fault: "rst"), Self.tcpRecord(outcome: .timedOut),
        Self.tcpRecord(outcome: .partitioned, fault: "split"),
    ])
    func recordsRoundTrip(record: RequestRecord) throws {
        #expect(try roundTrip(record) == record)
    }

    @Test func statusLabelsAndMicrosecondsAreWrittenAsTheContractSays() {
        let record = Self.httpRecord(outcome: .abortedByClient, fault: nil, upstream: nil)
        guard case .object(let object) = ReportJSON.encode(record) else { Issue.record("not an object"); return }
        #expect(object["status"] == "aborted_by_client")
        #expect(object["fault"] == .null)
        #expect(object["upstream_us"] == .null)
        var slow = Self.httpRecord()
        slow.totalNanoseconds = 1_999
        slow.upstreamNanoseconds = 999
        guard case .object(let truncated) = ReportJSON.encode(slow) else { return }
        #expect(truncated["total_us"] == 1)
        #expect(truncated["upstream_us"] == 0)
    }

    @Test func ipv6SourcesReadBackInEitherForm() throws {
        let record = Self.httpRecord(source: SourceAddress(address: IPAddress(parsing: "::1"), port: 50312))
        guard case .object(var object) = ReportJSON.encode(record) else { return }
        #expect(object["source"] == "[0:0:0:0:0:0:0:1]:50312")
        object["source"] = "[::1]:50312"
        #expect(try ReportJSON.decodeRecord(.object(object)).source == record.source)
    }

    @Test func absentNullableMembersReadAsNull() throws {
        let text = #"{"seq":1,"ts":"2026-12-02T18:00:00Z","route":"pay","conn":0,"req":2,"source":"10.0.0.1:9","method":"GET","path":"/","keys":{},"status":200,"total_us":5}"#
        let record = try ReportJSON.decodeRecord(try JSONParser.parse(text).get())
        #expect(record.http?.keys == RequestKeys())
        #expect(record.fault == nil)
        #expect(record.upstreamNanoseconds == nil)
        #expect(record.request == 2)
        #expect(record.totalNanoseconds == 5000)
    }

    func recordError(_ text: String) -> String {
        do {
            _ = try ReportJSON.decodeRecord(try JSONParser.parse(text).get())
            return "decoded"
        } catch let error as ReportJSONError {
            return error.description
        } catch {
            return "parse error \(error)"
        }
    }

    @Test func recordErrorsNameTheMember() {
        let good = #""seq":1,"ts":"2026-12-02T18:00:00Z","route":"pay","conn":0,"req":0,"method":"GET","path":"/","keys":{},"total_us":5"#
        #expect(recordError("[]") == "$: expected an object, got array")
        #expect(recordError("{" + good + #","status":200}"#) == "source: missing required key")
        #expect(recordError("{" + good + #","source":"nowhere","status":200}"#)
            == #"source: invalid source address "nowhere" (expected ADDRESS:PORT, IPv6 in brackets)"#)
        #expect(recordError("{" + good + #","source":"[::1]:1","status":"teapot"}"#)
            == #"status: unknown outcome "teapot" (expected a status number, reset, closed, hang, aborted_by_client, relayed, refused, timed_out or partitioned)"#)
        #expect(recordError("{" + good + #","source":"[::1]:1","status":"503"}"#).hasPrefix(#"status: unknown outcome "503""#))
        #expect(recordError("{" + good + #","source":"[::1]:1","status":42}"#) == "status: status 42 out of range (expected 100…999)")
        #expect(recordError(#"{"seq":-1}"#) == "seq: expected a non-negative integer, got -1")
        #expect(recordError(#"{"seq":1,"ts":"yesterday"}"#)
            == #"ts: invalid timestamp "yesterday" (expected RFC 3339, e.g. 2026-12-02T18:00:00.123456Z)"#)
        #expect(recordError(#"{"seq":1,"ts":"2026-12-02T18:00:00Z","route":"db","conn":0,"source":"1.2.3.4:5","outcome":"refused","duration_us":1.5}"#)
            == "duration_us: expected an integer, got number")
        #expect(recordError(#"{"seq":1,"ts":"2026-12-02T18:00:00Z","route":"db","conn":0,"source":"1.2.3.4:5","outcome":"refused","fault":3,"duration_us":1}"#)
            == "fault: expected a string, got integer")
        #expect(recordError(#"{"seq":1,"ts":"2026-12-02T18:00:00Z","route":"pay","conn":0,"req":0,"source":"[::1]:1","method":"GET","path":"/","keys":{"traceparent":1},"status":200,"total_us":5}"#)
            == "keys.traceparent: expected a string, got integer")
    }

    // MARK: Reports

    static func report(nulls: Bool = false) -> ClientReport {
        ClientReport(
            route: "pay", requests: 120, injected: 40, groups: 2,
            retries: .init(groupsRetried: 2, maxAttempts: 4, gaveUp: 1,
                           gapsP50Milliseconds: nulls ? nil : 210.04, gapsP90Milliseconds: nulls ? nil : 409.96),
            backoff: .init(shape: nulls ? .noRetries : .exponential, factor: nulls ? nil : 2.0104,
                           firstGapMilliseconds: nulls ? nil : 100.0),
            jitter: .init(present: !nulls, spread: nulls ? nil : 0.3357),
            herd: .init(maxConcurrentRetries: 2, aligned: false),
            breaker: .init(verdict: nulls ? .notTested : .keptCalling, callsWhileFailingPerSecond: nulls ? nil : 48.04,
                           longestPauseMilliseconds: 0),
            timelines: [
                .init(key: "k-17", attempts: [
                    .init(seq: 5, timestamp: ts, outcome: .status(503), fault: "flaky", totalNanoseconds: 120_000),
                    .init(seq: 9, timestamp: ts + 100_000_000, outcome: .reset, fault: nil, totalNanoseconds: 3_000),
                ]),
                .init(key: "127.0.0.1", attempts: [
                    .init(seq: 6, timestamp: ts + 1000, outcome: .refused, fault: "no", totalNanoseconds: 0),
                ]),
            ]
        )
    }

    @Test func reportShape() {
        let text = JSONWriter.render(ReportJSON.encode(Self.report(), groupBy: .auto))
        #expect(text == #"{"route":"pay","group_by":"auto","requests":120,"injected":40,"groups":2,"retries":{"groups_retried":2,"max_attempts":4,"gave_up":1,"gaps_ms":{"p50":210.0,"p90":410.0}},"backoff":{"shape":"exponential","factor":2.01,"first_gap_ms":100.0},"jitter":{"present":true,"spread":0.336},"herd":{"max_concurrent_retries":2,"aligned":false},"breaker":{"verdict":"kept_calling","calls_while_failing_per_s":48.0,"longest_pause_ms":0.0},"timelines":[{"key":"k-17","attempts":[{"seq":5,"ts":"2026-12-02T18:00:00.123456Z","status":503,"fault":"flaky","total_us":120},{"seq":9,"ts":"2026-12-02T18:00:00.223456Z","status":"reset","fault":null,"total_us":3}]},{"key":"127.0.0.1","attempts":[{"seq":6,"ts":"2026-12-02T18:00:00.123457Z","status":"refused","fault":"no","total_us":0}]}]}"#)
    }

    @Test func reportShapeWithNulls() {
        let text = JSONWriter.render(ReportJSON.encode(Self.report(nulls: true)))
        #expect(text.hasPrefix(#"{"route":"pay","requests":120,"#))
        #expect(text.contains(#""gaps_ms":{"p50":null,"p90":null}"#))
        #expect(text.contains(#""backoff":{"shape":"no_retries","factor":null,"first_gap_ms":null}"#))
        #expect(text.contains(#""jitter":{"present":false,"spread":null}"#))
        #expect(text.contains(#""breaker":{"verdict":"not_tested","calls_while_failing_per_s":null,"longest_pause_ms":0.0}"#))
    }

    @Test(arguments: [false, true], [AttemptGrouping?.none, .auto, .header("x-request-id"), .methodPath, .source])
    func reportsRoundTripAsRounded(nulls: Bool, groupBy: AttemptGrouping?) throws {
        let report = Self.report(nulls: nulls)
        let text = JSONWriter.render(ReportJSON.encode(report, groupBy: groupBy))
        let decoded = try ReportJSON.decodeReport(try JSONParser.parse(text).get())
        var expected = report
        if !nulls {
            expected.retries.gapsP50Milliseconds = 210.0
            expected.retries.gapsP90Milliseconds = 410.0
            expected.backoff.factor = 2.01
            expected.jitter.spread = 0.336
            expected.breaker.callsWhileFailingPerSecond = 48.0
        }
        #expect(decoded == expected)
        // Written again, it is the same text: encode's rounding is idempotent.
        #expect(JSONWriter.render(ReportJSON.encode(decoded, groupBy: groupBy)) == text)
    }

    @Test func specExampleReads() throws {
        let text = #"""
        {"route": "pay", "requests": 120, "injected": 40, "groups": 20,
         "retries":   {"groups_retried": 20, "max_attempts": 4, "gave_up": 0, "gaps_ms": {"p50": 210, "p90": 410}},
         "backoff":   {"shape": "exponential", "factor": 2.01, "first_gap_ms": 100},
         "jitter":    {"present": true, "spread": 0.34},
         "herd":      {"max_concurrent_retries": 20, "aligned": false},
         "breaker":   {"verdict": "kept_calling", "calls_while_failing_per_s": 48.0, "longest_pause_ms": 0},
         "timelines": [{"key": "k-17", "attempts": [{"seq": 1, "ts": "2026-12-02T18:00:00Z", "status": 503, "fault": "flaky", "total_us": 7}]}]}
        """#
        let report = try ReportJSON.decodeReport(try JSONParser.parse(text).get())
        #expect(report.retries.gapsP50Milliseconds == 210)
        #expect(report.backoff == .init(shape: .exponential, factor: 2.01, firstGapMilliseconds: 100))
        #expect(report.breaker.longestPauseMilliseconds == 0)
        #expect(report.timelines[0].attempts[0].outcome == .status(503))
    }

    func reportError(_ edit: (inout JSONObject) -> Void) -> String {
        guard case .object(var object) = ReportJSON.encode(Self.report()) else { return "not an object" }
        edit(&object)
        do {
            _ = try ReportJSON.decodeReport(.object(object))
            return "decoded"
        } catch {
            return error.description
        }
    }

    @Test func reportErrorsNameTheMember() {
        #expect(reportError { _ in } == "decoded")
        #expect(reportError { object in
            guard case .array(var timelines) = object["timelines"], case .object(var first) = timelines[0],
                  case .array(var attempts) = first["attempts"], case .object(var attempt) = attempts[1] else { return }
            attempt["status"] = true
            attempts[1] = .object(attempt)
            first["attempts"] = .array(attempts)
            timelines[0] = .object(first)
            object["timelines"] = .array(timelines)
        } == "timelines[0].attempts[1].status: expected a status number or an outcome label, got boolean")
        #expect(reportError { $0["timelines"] = [["key": "k", "attempts": [["seq": 1]]]] }
            == "timelines[0].attempts[0].ts: missing required key")
        #expect(reportError { $0["timelines"] = [["key": 3]] } == "timelines[0].key: expected a string, got integer")
        #expect(reportError { $0["timelines"] = ["k"] } == "timelines[0]: expected an object, got string")
        #expect(reportError { $0["backoff"] = ["shape": "cubic"] }
            == #"backoff.shape: unknown shape "cubic" (expected none, fixed, linear, exponential, mixed or no_retries)"#)
        #expect(reportError { $0["breaker"] = ["verdict": "tripped"] }
            == #"breaker.verdict: unknown verdict "tripped" (expected kept_calling, opened or not_tested)"#)
        #expect(reportError { $0["retries"] = ["groups_retried": 1, "max_attempts": 2, "gave_up": 0, "gaps_ms": ["p50": "fast"]] }
            == "retries.gaps_ms.p50: expected a number, got string")
        #expect(reportError { $0["herd"] = ["max_concurrent_retries": 1.5] }
            == "herd.max_concurrent_retries: expected an integer, got number")
        #expect(reportError { $0["jitter"] = nil } == "jitter: missing required key")
        #expect(reportError { $0["group_by"] = "header:" }
            == #"group_by: unknown grouping "header:" (expected auto, header:NAME, method+path or source)"#)
        #expect(reportError { $0["requests"] = "many" } == "requests: expected an integer, got string")
    }
}
