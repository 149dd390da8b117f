extension ReportClassifier {
    /// The timeline key of one record.
    ///
    /// `.auto`: the `Idempotency-Key` value, else the `X-Request-Id` value, else
    /// `METHOD PATH from HOST`. `.header(name)`: that header's value when `name` is one of the
    /// three headers the log keeps (`RequestKeys.headerNames`) and the request carries it, else
    /// `METHOD PATH from HOST`. `.methodPath`: `METHOD PATH from HOST`. `.source`: `HOST`. A tcp
    /// record (no HTTP part) is keyed by `HOST` whatever the grouping. HOST is the client address
    /// without its port: a client opens a new connection (new port) for a retry often enough.
    static func groupKey(_ record: RequestRecord, groupBy: AttemptGrouping) -> String {
        let host = record.source.host
        guard let http = record.http else { return host }
        switch groupBy {
        case .auto:
            if let key = http.keys.idempotencyKey { return key }
            if let id = http.keys.requestID { return id }
        case .header(let name):
            if let value = keptHeader(name, in: http.keys) { return value }
        case .methodPath:
            break
        case .source:
            return host
        }
        return "\(http.method) \(http.path) from \(host)"
    }

    /// The value of one of the logged headers by (lowercased) name; nil for any other name.
    static func keptHeader(_ name: String, in keys: RequestKeys) -> String? {
        switch name {
        case "idempotency-key": return keys.idempotencyKey
        case "x-request-id": return keys.requestID
        case "traceparent": return keys.traceparent
        default: return nil
        }
    }

    /// The records grouped into timelines: attempts by timestamp then seq, timelines by their
    /// first attempt.
    static func timelines(of records: [RequestRecord], groupBy: AttemptGrouping) -> [ClientReport.Timeline] {
        var groupBy = groupBy
        if case .header(let name) = groupBy { groupBy = .header(name.lowercased()) }
        var position: [String: Int] = [:]
        var timelines: [ClientReport.Timeline] = []
        for record in records {
            let key = groupKey(record, groupBy: groupBy)
            let attempt = ClientReport.Attempt(
                seq: record.seq, timestamp: record.timestamp, outcome: record.outcome, fault: record.fault,
                totalNanoseconds: record.totalNanoseconds, grpcStatus: record.grpcStatus
            )
            if let index = position[key] {
                timelines[index].attempts.append(attempt)
            } else {
                position[key] = timelines.count
                timelines.append(ClientReport.Timeline(key: key, attempts: [attempt]))
            }
        }
        for index in timelines.indices { timelines[index].attempts.sort(by: startsBefore) }
        timelines.sort { startsBefore($0.attempts[0], $1.attempts[0]) }
        return timelines
    }
}
