public import FaultlineConfig
public import FaultlineCore

// MARK: Request log and client-behaviour report (SPEC §3.4)

extension FaultlineClient {
    /// `GET /v1/requests?route=R&since=SEQ`: the entries of a route's request log with `seq`
    /// greater than `since`, oldest first — finished HTTP requests, or tcp connection attempts.
    /// - Parameters:
    ///   - route: the route's name.
    ///   - since: only entries after this sequence number (0: every retained entry).
    /// - Throws: `FaultlineClientError` (404 `not_found` for an unknown route; `.invalidResponse`
    ///   naming the line and member the daemon got wrong).
    public func requests(route: String, since: UInt64 = 0) throws(FaultlineClientError) -> [RequestRecord] {
        let path = "/v1/requests?" + FaultlineClient.query([("route", route), ("since", String(since))])
        var records: [RequestRecord] = []
        var lineNumber = 0
        for line in try send("GET", path).text.split(separator: "\n", omittingEmptySubsequences: true) {
            lineNumber += 1
            let value: JSONValue
            switch JSONParser.parse(String(line)) {
            case .success(let parsed): value = parsed
            case .failure(let error): throw .invalidResponse("request log line \(lineNumber) is not JSON: \(error)")
            }
            do {
                records.append(try ReportJSON.decodeRecord(value))
            } catch {
                throw .invalidResponse("request log line \(lineNumber): \(error)")
            }
        }
        return records
    }

    /// `GET /v1/report?route=R&since=SEQ&group_by=…`: the route's log grouped into attempt
    /// timelines, with the verdicts drawn from them (retries, backoff shape, jitter, herd,
    /// circuit breaking).
    ///
    /// ```swift
    /// let report = try client.report(route: "pay")
    /// XCTAssertEqual(report.backoff.shape, .exponential)
    /// XCTAssertEqual(report.breaker.verdict, .opened)
    /// ```
    /// - Parameters:
    ///   - route: the route's name.
    ///   - since: only log entries after this sequence number.
    ///   - groupBy: how attempts are grouped into timelines.
    /// - Throws: `FaultlineClientError` (404 `not_found` for an unknown route; `.invalidResponse`
    ///   naming the member the daemon got wrong).
    public func report(route: String, since: UInt64 = 0, groupBy: AttemptGrouping = .auto) throws(FaultlineClientError) -> ClientReport {
        let json = try send("GET", FaultlineClient.reportPath(route: route, since: since, groupBy: groupBy)).json()
        return try FaultlineClient.decodeReport(json)
    }

    /// The request target of `report(route:since:groupBy:)`, for callers that want the answer's
    /// JSON as sent (`send("GET", …)`).
    public static func reportPath(route: String, since: UInt64 = 0, groupBy: AttemptGrouping = .auto) -> String {
        "/v1/report?" + query([("route", route), ("since", String(since)), ("group_by", groupBy.description)])
    }

    /// Reads a `GET /v1/report` answer.
    /// - Throws: `FaultlineClientError` of kind `.invalidResponse` naming the member that is
    ///   missing or malformed.
    public static func decodeReport(_ json: JSONValue) throws(FaultlineClientError) -> ClientReport {
        do {
            return try ReportJSON.decodeReport(json)
        } catch {
            throw .invalidResponse("the report answer: \(error)")
        }
    }

    /// A query string, names and values percent-encoded as `pathSegment` does — so `+` in
    /// `method+path` is sent as `%2B`, not read as a space.
    static func query(_ items: [(name: String, value: String)]) -> String {
        items.map { pathSegment($0.name) + "=" + pathSegment($0.value) }.joined(separator: "&")
    }
}
