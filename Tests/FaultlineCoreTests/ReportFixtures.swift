@testable import FaultlineCore

/// Builds a synthetic request log for the report's tests: times in milliseconds from a fixed
/// instant, every random draw from a seeded `DecisionRNG`, so each test sees the same log.
struct LogBuilder {
    /// 2026-12-02T18:00:00Z.
    static let origin: Int64 = 1_796_234_400_000_000_000

    private var entries: [RequestRecord] = []
    private var rng: DecisionRNG

    init(seed: UInt64 = 7) {
        rng = DecisionRNG(seed: seed, faultID: "report-tests", serial: 0)
    }

    /// The log in recording order: by start time, seq numbered from 1 in that order.
    var records: [RequestRecord] {
        var sorted = entries.enumerated().sorted { lhs, rhs in
            lhs.element.timestamp != rhs.element.timestamp ? lhs.element.timestamp < rhs.element.timestamp : lhs.offset < rhs.offset
        }.map(\.element)
        for index in sorted.indices { sorted[index].seq = UInt64(index + 1) }
        return sorted
    }

    /// A draw uniform in `range`.
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + rng.nextUnit() * (range.upperBound - range.lowerBound)
    }

    static func nanoseconds(_ milliseconds: Double) -> Int64 { Int64((milliseconds * 1_000_000).rounded()) }

    /// One HTTP request starting `start` ms after the origin; returns when it ended (ms).
    @discardableResult
    mutating func request(
        at start: Double, duration: Double = 1, outcome: RequestOutcome = .status(503), key: String? = nil,
        requestID: String? = nil, traceparent: String? = nil, method: String = "POST", path: String = "/charge",
        host: IPAddress = .v4(127, 0, 0, 1), port: UInt16 = 40000, fault: String? = "flaky"
    ) -> Double {
        entries.append(RequestRecord(
            seq: 0, timestamp: Self.origin + Self.nanoseconds(start), route: "pay", conn: UInt64(entries.count), request: 0,
            source: SourceAddress(address: host, port: port),
            http: .init(method: method, path: path, keys: RequestKeys(idempotencyKey: key, requestID: requestID, traceparent: traceparent)),
            outcome: outcome, fault: outcome.isFailure ? fault : nil, upstreamNanoseconds: nil,
            totalNanoseconds: UInt64(Self.nanoseconds(duration))
        ))
        return start + duration
    }

    /// One tcp connection attempt.
    mutating func connection(at start: Double, duration: Double = 1, outcome: RequestOutcome = .refused, host: IPAddress, port: UInt16) {
        entries.append(RequestRecord(
            seq: 0, timestamp: Self.origin + Self.nanoseconds(start), route: "db", conn: UInt64(entries.count), request: 0,
            source: SourceAddress(address: host, port: port), http: nil, outcome: outcome,
            fault: outcome.isFailure ? "refuse" : nil, upstreamNanoseconds: nil, totalNanoseconds: UInt64(Self.nanoseconds(duration))
        ))
    }

    /// A retried request: the first attempt at `start`, each next one `gaps[i]` ms after the end of
    /// the one before; every attempt fails except the last when `succeeds`.
    mutating func timeline(
        key: String, start: Double, gaps: [Double], duration: Double = 1, succeeds: Bool = true,
        failure: RequestOutcome = .status(503)
    ) {
        var end = request(at: start, duration: duration, outcome: gaps.isEmpty && succeeds ? .status(200) : failure, key: key)
        for (index, gap) in gaps.enumerated() {
            let last = index == gaps.count - 1
            end = request(at: end + gap, duration: duration, outcome: last && succeeds ? .status(200) : failure, key: key)
        }
    }
}

/// An attempt for the sub-function tests: start and duration in ms after `LogBuilder.origin`.
func attempt(_ seq: UInt64, at start: Double, duration: Double = 1, outcome: RequestOutcome = .status(503)) -> ClientReport.Attempt {
    ClientReport.Attempt(
        seq: seq, timestamp: LogBuilder.origin + LogBuilder.nanoseconds(start), outcome: outcome, fault: nil,
        totalNanoseconds: UInt64(LogBuilder.nanoseconds(duration))
    )
}
