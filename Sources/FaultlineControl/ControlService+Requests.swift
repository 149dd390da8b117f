import FaultlineConfig
import FaultlineCore

/// `GET /v1/requests` and `GET /v1/report` (SPEC §3.4): the request log of a route, and the
/// client-behaviour report drawn from it.
extension ControlService {
    /// What both endpoints ask for.
    struct LogQuery {
        var route: String
        var since: UInt64 = 0
        var groupBy = AttemptGrouping.auto
    }

    /// Reads `route`, `since` and (for the report) `group_by`; an error response otherwise.
    func logQuery(_ request: ControlRequest, allowGroupBy: Bool) -> Result<LogQuery, ControlResponseError> {
        var route: String?
        var since: UInt64 = 0
        var groupBy = AttemptGrouping.auto
        for item in request.query {
            switch item.name {
            case "route":
                route = item.value
            case "since":
                guard let value = UInt64(item.value) else {
                    return .failure(ControlResponseError(.error(
                        400, code: "invalid_query", message: "since must be a sequence number, got \"\(item.value)\"",
                        path: "since")))
                }
                since = value
            case "group_by" where allowGroupBy:
                guard let grouping = AttemptGrouping(parsing: item.value) else {
                    return .failure(ControlResponseError(.error(
                        422, code: "invalid_query",
                        message: "group_by must be auto, header:NAME, method+path or source, got \"\(item.value)\"",
                        path: "group_by")))
                }
                groupBy = grouping
            default:
                return .failure(ControlResponseError(.error(
                    400, code: "invalid_query", message: "unexpected query parameter \"\(item.name)\"")))
            }
        }
        guard let route else {
            return .failure(ControlResponseError(.error(
                400, code: "invalid_query", message: "route is required (?route=NAME)", path: "route")))
        }
        guard state.route(named: route) != nil else {
            return .failure(ControlResponseError(.notFound("no route named \"\(route)\"")))
        }
        return .success(LogQuery(route: route, since: since, groupBy: groupBy))
    }

    /// `GET /v1/requests?route=R&since=SEQ`: the log's entries after SEQ as JSON lines.
    func requestsResponse(_ request: ControlRequest) -> ControlResponse {
        let query: LogQuery
        switch logQuery(request, allowGroupBy: false) {
        case .success(let parsed): query = parsed
        case .failure(let error): return error.response
        }
        let records = dataPlane.requestLog(route: query.route, since: query.since)
        var text = ""
        text.reserveCapacity(records.count * 200)
        for record in records {
            JSONWriter.write(ReportJSON.encode(record), into: &text)
            text += "\n"
        }
        var response = ControlResponse.text(200, text, contentType: "application/x-ndjson")
        response.headers.append(name: "X-Faultline-Requests-Last", value: String(records.last?.seq ?? query.since))
        return response
    }

    /// `GET /v1/report?route=R&since=SEQ&group_by=…`: timelines and verdicts.
    func reportResponse(_ request: ControlRequest) -> ControlResponse {
        let query: LogQuery
        switch logQuery(request, allowGroupBy: true) {
        case .success(let parsed): query = parsed
        case .failure(let error): return error.response
        }
        let records = dataPlane.requestLog(route: query.route, since: query.since)
        let report = ReportClassifier.report(route: query.route, records: records, groupBy: query.groupBy)
        return .json(200, ReportJSON.encode(report, groupBy: query.groupBy))
    }
}

/// An error answer carried through a `Result`.
struct ControlResponseError: Error {
    let response: ControlResponse

    init(_ response: ControlResponse) {
        self.response = response
    }
}
