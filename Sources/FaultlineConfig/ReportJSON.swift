public import FaultlineCore

/// The JSON of the request log (`GET /v1/requests`) and of the client-behaviour report
/// (`GET /v1/report`), SPEC §3.4, and the reading back of both (for `faultctl` and tests).
///
/// Field names and kinds are a contract; see docs/REPORT.md. Durations are written in whole
/// microseconds (`…_us`, nanoseconds / 1000 rounded down) and report milliseconds to 0.1 ms, so a
/// value read back is the written one truncated or rounded that far. Readers ignore keys they do
/// not know.
public enum ReportJSON {
    // MARK: Records

    /// One log entry. An HTTP request:
    /// `{"seq","ts","route","conn","req","source","method","path","keys","status","fault","upstream_us","total_us"}`
    /// with `status` a number or `reset`/`closed`/`hang`/`aborted_by_client`, and `grpc_status`
    /// (a number) after them for a gRPC call; a tcp connection
    /// attempt (`http == nil`): `{"seq","ts","route","conn","source","outcome","fault","duration_us"}`.
    public static func encode(_ record: RequestRecord) -> JSONValue {
        var object = JSONObject()
        object["seq"] = unsigned(record.seq)
        object["ts"] = .string(timestamp(record.timestamp))
        object["route"] = .string(record.route)
        object["conn"] = unsigned(record.conn)
        if let http = record.http {
            object["req"] = unsigned(record.request)
            object["source"] = .string(record.source.description)
            object["method"] = .string(http.method)
            object["path"] = .string(http.path)
            object["keys"] = [
                "idempotency-key": optionalString(http.keys.idempotencyKey),
                "x-request-id": optionalString(http.keys.requestID),
                "traceparent": optionalString(http.keys.traceparent),
            ]
            object["status"] = status(record.outcome)
            object["fault"] = optionalString(record.fault)
            object["upstream_us"] = record.upstreamNanoseconds.map { unsigned($0 / 1000) } ?? .null
            object["total_us"] = unsigned(record.totalNanoseconds / 1000)
            if let grpcStatus = record.grpcStatus { object["grpc_status"] = .integer(Int64(grpcStatus)) }
        } else {
            object["source"] = .string(record.source.description)
            object["outcome"] = .string(record.outcome.label)
            object["fault"] = optionalString(record.fault)
            object["duration_us"] = unsigned(record.totalNanoseconds / 1000)
        }
        return .object(object)
    }

    /// Reads a log entry written by `encode(_:)`: an HTTP request when it has `method`, else a tcp
    /// attempt (its `req` is 0 and `upstream_us` nil).
    /// - Throws: `ReportJSONError` naming the first member that is missing or of the wrong kind.
    public static func decodeRecord(_ value: JSONValue) throws(ReportJSONError) -> RequestRecord {
        try decodeRecord(value, path: "")
    }

    // MARK: Reports

    /// The report object; `group_by` is written only when given (the daemon echoes the query's).
    /// Milliseconds are rounded to 0.1 ms, `factor` and `spread` to 3 decimals, calls/s to 0.1.
    public static func encode(_ report: ClientReport, groupBy: AttemptGrouping? = nil) -> JSONValue {
        var object = JSONObject()
        object["route"] = .string(report.route)
        if let groupBy { object["group_by"] = .string(groupBy.description) }
        object["requests"] = count(report.requests)
        object["injected"] = count(report.injected)
        object["groups"] = count(report.groups)
        let retries = report.retries
        object["retries"] = [
            "groups_retried": count(retries.groupsRetried),
            "max_attempts": count(retries.maxAttempts),
            "gave_up": count(retries.gaveUp),
            "gaps_ms": [
                "p50": rounded(retries.gapsP50Milliseconds, places: 1),
                "p90": rounded(retries.gapsP90Milliseconds, places: 1),
            ],
        ]
        object["backoff"] = [
            "shape": .string(report.backoff.shape.rawValue),
            "factor": rounded(report.backoff.factor, places: 3),
            "first_gap_ms": rounded(report.backoff.firstGapMilliseconds, places: 1),
        ]
        object["jitter"] = [
            "present": .bool(report.jitter.present),
            "spread": rounded(report.jitter.spread, places: 3),
        ]
        object["herd"] = [
            "max_concurrent_retries": count(report.herd.maxConcurrentRetries),
            "aligned": .bool(report.herd.aligned),
        ]
        object["breaker"] = [
            "verdict": .string(report.breaker.verdict.rawValue),
            "calls_while_failing_per_s": rounded(report.breaker.callsWhileFailingPerSecond, places: 1),
            "longest_pause_ms": rounded(report.breaker.longestPauseMilliseconds, places: 1),
        ]
        object["timelines"] = .array(report.timelines.map { timeline in
            [
                "key": .string(timeline.key),
                "attempts": .array(timeline.attempts.map { attempt in
                    var item = JSONObject()
                    item["seq"] = unsigned(attempt.seq)
                    item["ts"] = .string(timestamp(attempt.timestamp))
                    item["status"] = status(attempt.outcome)
                    item["fault"] = optionalString(attempt.fault)
                    item["total_us"] = unsigned(attempt.totalNanoseconds / 1000)
                    if let grpcStatus = attempt.grpcStatus { item["grpc_status"] = .integer(Int64(grpcStatus)) }
                    return JSONValue.object(item)
                }),
            ]
        })
        return .object(object)
    }

    /// Reads a report written by `encode(_:groupBy:)`, numbers as written (no rounding). A
    /// `group_by` member, when present, must be a valid grouping but is not kept.
    /// - Throws: `ReportJSONError` naming the first member that is missing or of the wrong kind,
    ///   e.g. `timelines[0].attempts[1].status`.
    public static func decodeReport(_ value: JSONValue) throws(ReportJSONError) -> ClientReport {
        let root = try ReportJSONReader(value, path: "")
        let route = try root.string("route")
        if let groupBy = root.nullable("group_by") {
            let text = try ReportJSONReader.string(groupBy, path: root.path("group_by"))
            guard AttemptGrouping(parsing: text) != nil else {
                throw ReportJSONError(
                    path: root.path("group_by"),
                    message: "unknown grouping \(JSONWriter.render(.string(text))) (expected auto, header:NAME, method+path or source)"
                )
            }
        }
        let requests = try root.int("requests")
        let injected = try root.int("injected")
        let groups = try root.int("groups")
        let retriesObject = try root.object("retries")
        let gaps = try retriesObject.object("gaps_ms")
        let retries = ClientReport.Retries(
            groupsRetried: try retriesObject.int("groups_retried"),
            maxAttempts: try retriesObject.int("max_attempts"),
            gaveUp: try retriesObject.int("gave_up"),
            gapsP50Milliseconds: try gaps.nullableDouble("p50"),
            gapsP90Milliseconds: try gaps.nullableDouble("p90")
        )
        let backoffObject = try root.object("backoff")
        let shapeText = try backoffObject.string("shape")
        guard let shape = ClientReport.BackoffShape(rawValue: shapeText) else {
            throw ReportJSONError(
                path: backoffObject.path("shape"),
                message: "unknown shape \(JSONWriter.render(.string(shapeText))) (expected \(names(ClientReport.BackoffShape.allCases.map(\.rawValue))))"
            )
        }
        let backoff = ClientReport.Backoff(
            shape: shape, factor: try backoffObject.nullableDouble("factor"),
            firstGapMilliseconds: try backoffObject.nullableDouble("first_gap_ms")
        )
        let jitterObject = try root.object("jitter")
        let jitter = ClientReport.Jitter(present: try jitterObject.bool("present"), spread: try jitterObject.nullableDouble("spread"))
        let herdObject = try root.object("herd")
        let herd = ClientReport.Herd(
            maxConcurrentRetries: try herdObject.int("max_concurrent_retries"), aligned: try herdObject.bool("aligned")
        )
        let breakerObject = try root.object("breaker")
        let verdictText = try breakerObject.string("verdict")
        guard let verdict = ClientReport.BreakerVerdict(rawValue: verdictText) else {
            throw ReportJSONError(
                path: breakerObject.path("verdict"),
                message: "unknown verdict \(JSONWriter.render(.string(verdictText))) (expected \(names(ClientReport.BreakerVerdict.allCases.map(\.rawValue))))"
            )
        }
        let breaker = ClientReport.Breaker(
            verdict: verdict, callsWhileFailingPerSecond: try breakerObject.nullableDouble("calls_while_failing_per_s"),
            longestPauseMilliseconds: try breakerObject.double("longest_pause_ms")
        )
        var timelines: [ClientReport.Timeline] = []
        for (index, item) in try root.array("timelines").enumerated() {
            timelines.append(try decodeTimeline(item, path: JSONPath.index(root.path("timelines"), index)))
        }
        return ClientReport(
            route: route, requests: requests, injected: injected, groups: groups, retries: retries, backoff: backoff, jitter: jitter, herd: herd,
            breaker: breaker, timelines: timelines
        )
    }

    // MARK: Pieces

    private static func decodeRecord(_ value: JSONValue, path: String) throws(ReportJSONError) -> RequestRecord {
        let reader = try ReportJSONReader(value, path: path)
        let seq = try reader.unsigned("seq")
        let timestamp = try reader.timestamp("ts")
        let route = try reader.string("route")
        let conn = try reader.unsigned("conn")
        let source = try decodeSource(reader)
        let fault = try reader.nullableString("fault")
        guard reader.has("method") else {
            return RequestRecord(
                seq: seq, timestamp: timestamp, route: route, conn: conn, request: 0, source: source, http: nil,
                outcome: try decodeOutcome(reader.value("outcome"), path: reader.path("outcome")), fault: fault,
                upstreamNanoseconds: nil, totalNanoseconds: try reader.microseconds("duration_us")
            )
        }
        let keysReader = try reader.object("keys")
        let keys = RequestKeys(
            idempotencyKey: try keysReader.nullableString("idempotency-key"),
            requestID: try keysReader.nullableString("x-request-id"),
            traceparent: try keysReader.nullableString("traceparent")
        )
        let http = RequestRecord.HTTPPart(method: try reader.string("method"), path: try reader.string("path"), keys: keys)
        return RequestRecord(
            seq: seq, timestamp: timestamp, route: route, conn: conn, request: try reader.unsigned("req"), source: source,
            http: http, outcome: try decodeOutcome(reader.value("status"), path: reader.path("status")), fault: fault,
            upstreamNanoseconds: try reader.nullableMicroseconds("upstream_us"),
            totalNanoseconds: try reader.microseconds("total_us"),
            grpcStatus: reader.has("grpc_status") ? try reader.int("grpc_status") : nil
        )
    }

    private static func decodeTimeline(_ value: JSONValue, path: String) throws(ReportJSONError) -> ClientReport.Timeline {
        let reader = try ReportJSONReader(value, path: path)
        let key = try reader.string("key")
        var attempts: [ClientReport.Attempt] = []
        for (index, item) in try reader.array("attempts").enumerated() {
            let attempt = try ReportJSONReader(item, path: JSONPath.index(reader.path("attempts"), index))
            attempts.append(ClientReport.Attempt(
                seq: try attempt.unsigned("seq"), timestamp: try attempt.timestamp("ts"),
                outcome: try decodeOutcome(attempt.value("status"), path: attempt.path("status")),
                fault: try attempt.nullableString("fault"), totalNanoseconds: try attempt.microseconds("total_us"),
                grpcStatus: attempt.has("grpc_status") ? try attempt.int("grpc_status") : nil
            ))
        }
        return ClientReport.Timeline(key: key, attempts: attempts)
    }

    /// `127.0.0.1:50312`, `[::1]:50312`, or `unknown:50312` (an address the kernel did not give).
    private static func decodeSource(_ reader: ReportJSONReader) throws(ReportJSONError) -> SourceAddress {
        let text = try reader.string("source")
        if text.hasPrefix("unknown:"), let port = UInt16(text.dropFirst("unknown:".count)) {
            return SourceAddress(address: nil, port: port)
        }
        guard let endpoint = Endpoint(parsing: text) else {
            throw ReportJSONError(
                path: reader.path("source"),
                message: "invalid source address \(JSONWriter.render(.string(text))) (expected ADDRESS:PORT, IPv6 in brackets)"
            )
        }
        return SourceAddress(address: endpoint.address, port: endpoint.port)
    }

    /// An HTTP status number, or a label for an exchange that ended without one (and a tcp outcome).
    private static func decodeOutcome(_ value: JSONValue, path: String) throws(ReportJSONError) -> RequestOutcome {
        switch value {
        case .integer(let code):
            guard (100...999).contains(code) else {
                throw ReportJSONError(path: path, message: "status \(code) out of range (expected 100…999)")
            }
            return .status(Int(code))
        case .string(let label):
            if let outcome = RequestOutcome(label: label) {
                if case .status = outcome {} else { return outcome }
            }
            throw ReportJSONError(
                path: path,
                message: "unknown outcome \(JSONWriter.render(.string(label))) (expected a status number, \(names(outcomeLabels)))"
            )
        default:
            throw ReportJSONError(path: path, message: "expected a status number or an outcome label, got \(value.kindName)")
        }
    }

    private static let outcomeLabels = [
        RequestOutcome.reset, .closed, .hang, .abortedByClient, .relayed, .refused, .timedOut, .partitioned,
    ].map(\.label)

    private static func status(_ outcome: RequestOutcome) -> JSONValue {
        if case .status(let code) = outcome { return .integer(Int64(code)) }
        return .string(outcome.label)
    }

    private static func unsigned(_ value: UInt64) -> JSONValue {
        value <= UInt64(Int64.max) ? .integer(Int64(value)) : .unsignedInteger(value)
    }

    private static func count(_ value: Int) -> JSONValue { .integer(Int64(value)) }

    private static func optionalString(_ text: String?) -> JSONValue {
        text.map { .string($0) } ?? .null
    }

    /// `value` rounded half away from zero to `places` decimals; null for nil or a non-finite value.
    private static func rounded(_ value: Double?, places: Int) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return .double((value * scale).rounded() / scale)
    }

    /// `a, b or c`.
    private static func names(_ items: [String]) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " or " + items[items.count - 1]
    }
}

/// Why a request-log entry or a report could not be read: the JSON path of the member and what
/// is wrong with it, rendered `PATH: MESSAGE` (`timelines[0].attempts[1].status: expected a status
/// number or an outcome label, got boolean`).
public struct ReportJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `timelines[0].attempts[1].status`; `$` for the whole document.
    public var path: String
    /// What is wrong, without the path.
    public var message: String

    /// An error at `path`.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `PATH: MESSAGE`.
    public var description: String { "\(path): \(message)" }
}
