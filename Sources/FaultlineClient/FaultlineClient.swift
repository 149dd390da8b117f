// The client's API is made of FaultlineCore's model (FaultSpec, Direction, Endpoint, …) and
// FaultlineConfig's JSONValue; re-exporting them lets a test suite write `import FaultlineClient`
// alone and still name every type it passes in or gets back.
@_exported public import FaultlineConfig
@_exported public import FaultlineCore

/// A synchronous client of the `faultlined` control API (SPEC §4), for test suites and tools.
///
/// Each call is one HTTP/1.1 request on a fresh connection, answered before the call returns.
/// Changes are in force on every worker, for new and already open connections, when the call
/// returns: no sleep is needed between `apply` and the traffic that should see the fault.
///
/// ```swift
/// let client = FaultlineClient(socket: "/run/faultline/control.sock")
/// try client.withFault(.latency(route: "db", delay: .milliseconds(100), direction: .downstream)) { _ in
///     // every reply on route db now arrives 100 ms late
/// }
/// ```
///
/// Every method throws `FaultlineClientError`: `.rejected` with the daemon's status, code,
/// message and JSON path; `.unreachable` when there is no answer within `timeout`.
public struct FaultlineClient: Sendable {
    /// Where the daemon listens.
    public let address: ControlAddress
    /// The bearer token sent as `Authorization: Bearer …`, if any.
    public let token: String?
    /// The longest one call may take, from connect to the last byte of the answer.
    public let timeout: Duration

    /// A client of the daemon's Unix socket (`control.unix_socket`).
    /// - Parameters:
    ///   - path: the socket's path.
    ///   - timeout: the longest one call may take.
    public init(socket path: String, timeout: Duration = .seconds(10)) {
        self.init(address: .unixSocket(path: path), token: nil, timeout: timeout)
    }

    /// A client of the daemon's TCP listener (`control.http_listen`), e.g. `http://127.0.0.1:8474`.
    /// - Parameters:
    ///   - url: `http://HOST:PORT`.
    ///   - token: the bearer token, when the listener has `token_file`.
    ///   - timeout: the longest one call may take.
    /// - Throws: `FaultlineClientError` of kind `.invalidRequest` for a URL that is not
    ///   `http://HOST:PORT`.
    public init(url: String, token: String? = nil, timeout: Duration = .seconds(10)) throws(FaultlineClientError) {
        self.init(address: try ControlAddress(url: url), token: token, timeout: timeout)
    }

    /// A client of `address`.
    public init(address: ControlAddress, token: String? = nil, timeout: Duration = .seconds(10)) {
        self.address = address
        self.token = token
        self.timeout = timeout
    }

    // MARK: Any endpoint

    /// Sends one request and returns the answer when its status is 2xx.
    ///
    /// The typed methods below are built on this; use it for endpoints they do not cover, or to
    /// get an answer's raw JSON.
    /// - Parameters:
    ///   - method: `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    ///   - path: the request target, e.g. `/v1/faults/slow-db` or `/v1/journal?since=4`.
    ///   - body: a JSON body, sent with `Content-Type: application/json`.
    /// - Throws: `FaultlineClientError`: `.rejected` for any other status, with the fields of the
    ///   daemon's error body; `.unreachable`; `.invalidResponse`.
    public func send(_ method: String, _ path: String, body: JSONValue? = nil) throws(FaultlineClientError) -> FaultlineResponse {
        let response = try request(method, path, body: body)
        guard (200..<300).contains(response.status) else {
            throw FaultlineClient.rejection(status: response.status, body: response.body)
        }
        return response
    }

    /// Sends one request and returns the answer whatever its status, for a relay that passes the
    /// daemon's answers on as they are (`faultctl ui --listen`); `send` is this plus the status check.
    /// - Throws: `FaultlineClientError`: `.unreachable`; `.invalidResponse`.
    public func request(_ method: String, _ path: String, body: JSONValue? = nil) throws(FaultlineClientError) -> FaultlineResponse {
        var headers: [(name: String, value: String)] = [("User-Agent", "FaultlineClient"), ("Accept", "*/*")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        var bytes: [UInt8]?
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array(JSONWriter.render(body).utf8)
        } else if ["POST", "PUT", "PATCH"].contains(method) {
            bytes = []
        }
        let request = HTTPExchange.Request(method: method, target: path, headers: headers, body: bytes)
        let answer = try HTTPExchange.perform(request, to: address, timeout: timeout)
        return FaultlineResponse(
            status: answer.status, headers: answer.headers.map { FaultlineResponse.Header(name: $0.name, value: $0.value) },
            body: answer.body
        )
    }

    /// The error for a non-2xx answer: the control API's `{"error": {code, message, path}}`,
    /// Toxiproxy's `{"error": "…", "status": N}`, or the body text.
    static func rejection(status: Int, body: [UInt8]) -> FaultlineClientError {
        let fallback = FaultlineClientError(
            kind: .rejected, status: status, code: "http_\(status)",
            message: String(decoding: body, as: UTF8.self).trimmingSpaces.isEmpty
                ? "the daemon answered \(status)" : String(decoding: body.prefix(512), as: UTF8.self)
        )
        guard case .success(let value) = JSONParser.parse(bytes: body), let object = value.objectValue,
              let error = object["error"] else { return fallback }
        if let message = error.stringValue {
            return FaultlineClientError(kind: .rejected, status: status, code: "http_\(status)", message: message)
        }
        guard let detail = error.objectValue, let code = detail["code"]?.stringValue else { return fallback }
        let problems: [FaultlineClientError.Problem] = (object["errors"]?.arrayValue ?? []).compactMap { item in
            guard let path = item.objectValue?["path"]?.stringValue, let message = item.objectValue?["message"]?.stringValue
            else { return nil }
            return FaultlineClientError.Problem(path: path, message: message)
        }
        return FaultlineClientError(
            kind: .rejected, status: status, code: code, message: detail["message"]?.stringValue ?? "",
            path: detail["path"]?.stringValue, problems: problems
        )
    }

    /// `name` percent-encoded as one path segment (for `send`): every byte but letters, digits,
    /// `-`, `.`, `_` and `~` as `%XX`.
    public static func pathSegment(_ name: String) -> String {
        var out = ""
        for byte in name.utf8 {
            let unreserved = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if unreserved {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count < 2 ? "0" : "") + hex
            }
        }
        return out
    }

    // MARK: Status and routes

    /// `GET /v1/status`: version, uptime, workers, seed, routes, faults, schedule state.
    /// - Throws: `FaultlineClientError`.
    public func status() throws(FaultlineClientError) -> DaemonStatus {
        try DaemonStatus(json: send("GET", "/v1/status").json())
    }

    /// `GET /v1/routes`: every route, in plan order.
    /// - Throws: `FaultlineClientError`.
    public func routes() throws(FaultlineClientError) -> [RouteInfo] {
        let items = try AnswerReader(send("GET", "/v1/routes").json(), what: "the routes answer").array("routes")
        var routes: [RouteInfo] = []
        for item in items { routes.append(try RouteInfo(json: item)) }
        return routes
    }

    /// `GET /v1/routes/{name}`.
    /// - Throws: `FaultlineClientError` (404 `not_found` for an unknown name).
    public func route(_ name: String) throws(FaultlineClientError) -> RouteInfo {
        try RouteInfo(json: send("GET", "/v1/routes/" + FaultlineClient.pathSegment(name)).json())
    }

    /// `POST /v1/routes`: adds a route at runtime and returns it as stored (with `bound`).
    /// - Parameters:
    ///   - listen: `host:port`; port 0 picks a free port (see `RouteInfo.bound`).
    ///   - upstream: `host:port` of the service.
    ///   - from: the calling node's name, for partitions.
    ///   - to: the service's node name, for partitions.
    ///   - upstreamProtocol: what the proxy speaks to the upstream (nil: the protocol the client
    ///     used). This build does not translate: a grpc route takes `.h2`, an http route neither
    ///     (422 at `upstream_protocol`).
    /// - Throws: `FaultlineClientError` (422 `invalid_route`, 409 `route_exists`,
    ///   `address_in_use`, `apply_failed`).
    @discardableResult
    public func addRoute(
        name: String, listen: String = "127.0.0.1:0", upstream: String, protocol protocolKind: RouteProtocol = .tcp,
        from: String? = nil, to: String? = nil, enabled: Bool = true, upstreamProtocol: UpstreamProtocol? = nil
    ) throws(FaultlineClientError) -> RouteInfo {
        var object = JSONObject()
        object["name"] = .string(name)
        object["listen"] = .string(listen)
        object["upstream"] = .string(upstream)
        object["protocol"] = .string(protocolKind.rawValue)
        if let from { object["from"] = .string(from) }
        if let to { object["to"] = .string(to) }
        object["enabled"] = .bool(enabled)
        if let upstreamProtocol { object["upstream_protocol"] = .string(upstreamProtocol.rawValue) }
        return try RouteInfo(json: send("POST", "/v1/routes", body: .object(object)).json())
    }

    /// `POST /v1/routes` with a route spec.
    /// - Throws: `FaultlineClientError`, as `addRoute(name:listen:upstream:protocol:from:to:enabled:upstreamProtocol:)`.
    @discardableResult
    public func addRoute(_ spec: RouteSpec) throws(FaultlineClientError) -> RouteInfo {
        try addRoute(
            name: spec.name, listen: spec.listen.description, upstream: spec.upstream.description,
            protocol: spec.protocolKind, from: spec.from, to: spec.to, enabled: spec.enabled,
            upstreamProtocol: spec.upstreamProtocol
        )
    }

    /// `PATCH /v1/routes/{name}` `{"enabled": …}`: disabling closes the route's listener,
    /// enabling binds it again.
    /// - Throws: `FaultlineClientError` (404 `not_found`, 409 `apply_failed`).
    @discardableResult
    public func setRouteEnabled(_ name: String, _ enabled: Bool) throws(FaultlineClientError) -> RouteInfo {
        try RouteInfo(json: send("PATCH", "/v1/routes/" + FaultlineClient.pathSegment(name), body: ["enabled": .bool(enabled)]).json())
    }

    /// `DELETE /v1/routes/{name}`.
    /// - Throws: `FaultlineClientError` (404 `not_found`, 409 `route_in_use` while a fault names it).
    public func removeRoute(_ name: String) throws(FaultlineClientError) {
        _ = try send("DELETE", "/v1/routes/" + FaultlineClient.pathSegment(name))
    }

    // MARK: Faults

    /// `GET /v1/faults`: every active fault, in apply order.
    /// - Throws: `FaultlineClientError`.
    public func faults() throws(FaultlineClientError) -> [FaultSpec] {
        let items = try AnswerReader(send("GET", "/v1/faults").json(), what: "the faults answer").array("faults")
        return try FaultJSON.decodeList(items, key: "faults")
    }

    /// `GET /v1/faults/{id}`.
    /// - Throws: `FaultlineClientError` (404 `not_found`).
    public func fault(_ id: String) throws(FaultlineClientError) -> FaultSpec {
        try FaultJSON.decode(send("GET", "/v1/faults/" + FaultlineClient.pathSegment(id)).json(), path: "$")
    }

    /// `POST /v1/faults`: puts `fault` in force and returns it as stored, with every parameter
    /// and its id (generated as `<type>-<n>` when `fault.id` is empty). When this returns, the
    /// fault acts on new and open connections.
    /// - Throws: `FaultlineClientError` (422 `invalid_fault` with every problem, 409
    ///   `fault_exists`).
    @discardableResult
    public func apply(_ fault: FaultSpec) throws(FaultlineClientError) -> FaultSpec {
        try FaultJSON.decode(send("POST", "/v1/faults", body: FaultJSON.body(fault)).json(), path: "$")
    }

    /// `POST /v1/faults` with an array: puts every fault in force at once, or none of them, and
    /// returns them as stored, in order.
    /// - Throws: `FaultlineClientError`; a refusal names the element (`[1].delay`).
    @discardableResult
    public func apply(_ faults: [FaultSpec]) throws(FaultlineClientError) -> [FaultSpec] {
        let answer = try send("POST", "/v1/faults", body: .array(faults.map(FaultJSON.body))).json()
        guard let items = answer.objectValue?["faults"]?.arrayValue else {
            throw .invalidResponse("the answer to an array of faults has no faults list")
        }
        return try FaultJSON.decodeList(items, key: "faults")
    }

    /// `POST /v1/faults` with a fault object as the config file writes it (SPEC §3), e.g. for
    /// fault types this client has no builder for.
    /// - Returns: the stored fault's JSON.
    /// - Throws: `FaultlineClientError`.
    @discardableResult
    public func apply(json fault: JSONValue) throws(FaultlineClientError) -> JSONValue {
        try send("POST", "/v1/faults", body: fault).json()
    }

    /// `DELETE /v1/faults/{id}`.
    /// - Throws: `FaultlineClientError` (404 `not_found`).
    public func clear(_ id: String) throws(FaultlineClientError) {
        _ = try send("DELETE", "/v1/faults/" + FaultlineClient.pathSegment(id))
    }

    /// `DELETE /v1/faults`: clears every active fault.
    /// - Returns: the ids cleared, in apply order.
    /// - Throws: `FaultlineClientError`.
    @discardableResult
    public func clearAll() throws(FaultlineClientError) -> [String] {
        let items = try AnswerReader(send("DELETE", "/v1/faults").json(), what: "the clear answer").array("cleared")
        return items.compactMap(\.stringValue)
    }

    /// Applies `fault`, runs `body` with the stored fault, and clears the fault afterwards —
    /// also when `body` throws.
    ///
    /// When `body` throws, its error is rethrown even if clearing fails too; when only clearing
    /// fails, that error is thrown.
    /// - Returns: what `body` returns.
    /// - Throws: the error of `apply`, of `body`, or of `clear`.
    public func withFault<Value>(_ fault: FaultSpec, body: (FaultSpec) throws -> Value) throws -> Value {
        let stored = try apply(fault)
        let result: Value
        do {
            result = try body(stored)
        } catch {
            try? clear(stored.id)
            throw error
        }
        try clear(stored.id)
        return result
    }

    // MARK: Partitions

    /// `POST /v1/partitions`: blocks every route between nodes in different groups.
    /// - Returns: the stored partition fault.
    /// - Throws: `FaultlineClientError` (501 `not_implemented` from daemons without the shorthand;
    ///   `apply(.partition(groups:))` works on every daemon).
    @discardableResult
    public func partition(
        groups: [[String]], mode: PartitionMode = .blackhole, oneWay: Bool = false, id: String = FaultSpec.generatedID
    ) throws(FaultlineClientError) -> FaultSpec {
        try postPartition(.partition(groups: groups, mode: mode, oneWay: oneWay, id: id))
    }

    /// `POST /v1/partitions` with a generator (`.isolate(node: "n1")`, `.randomHalves`, …),
    /// resolved by the daemon from its seed.
    /// - Returns: the stored partition fault.
    /// - Throws: `FaultlineClientError`, as `partition(groups:mode:oneWay:id:)`.
    @discardableResult
    public func partition(
        _ generator: PartitionGenerator, mode: PartitionMode = .blackhole, oneWay: Bool = false, id: String = FaultSpec.generatedID
    ) throws(FaultlineClientError) -> FaultSpec {
        try postPartition(.partition(generator, mode: mode, oneWay: oneWay, id: id))
    }

    private func postPartition(_ fault: FaultSpec) throws(FaultlineClientError) -> FaultSpec {
        try FaultJSON.decode(send("POST", "/v1/partitions", body: FaultlineClient.partitionBody(fault)).json(), path: "$")
    }

    /// The partition shorthand's body: the fault object without `type` (implied) and `route`
    /// (a partition names nodes, not routes).
    static func partitionBody(_ fault: FaultSpec) -> JSONValue {
        guard case .object(var object) = FaultJSON.body(fault) else { return FaultJSON.body(fault) }
        object["type"] = nil
        object["route"] = nil
        return .object(object)
    }

    /// `DELETE /v1/partitions`: heals every partition.
    /// - Returns: the answer's JSON (`null` for an empty answer).
    /// - Throws: `FaultlineClientError` (501 `not_implemented` from daemons without it).
    @discardableResult
    public func heal() throws(FaultlineClientError) -> JSONValue {
        let response = try send("DELETE", "/v1/partitions")
        return response.body.isEmpty ? .null : try response.json()
    }

    // MARK: Schedule

    /// The schedule actions of `POST /v1/schedule/{action}`.
    public enum ScheduleAction: String, Sendable, Hashable, CaseIterable {
        /// Start a `manual` schedule (or restart a stopped one).
        case start
        /// Stop and clear what the schedule applied.
        case stop
        /// Hold the schedule's clock.
        case pause
        /// Let a paused schedule's clock run again.
        case resume
    }

    /// `GET /v1/schedule`: the schedule and its state, as the daemon sends it.
    /// - Throws: `FaultlineClientError` (501 `not_implemented` from daemons without schedules).
    public func schedule() throws(FaultlineClientError) -> JSONValue {
        try send("GET", "/v1/schedule").json()
    }

    /// `POST /v1/schedule/{action}`.
    /// - Returns: the answer's JSON (`null` for an empty answer).
    /// - Throws: `FaultlineClientError` (501 `not_implemented` from daemons without schedules).
    @discardableResult
    public func schedule(_ action: ScheduleAction) throws(FaultlineClientError) -> JSONValue {
        let response = try send("POST", "/v1/schedule/" + action.rawValue)
        return response.body.isEmpty ? .null : try response.json()
    }

    // MARK: Journal, metrics, reload

    /// `GET /v1/journal?since=SEQ`: the retained events with `seq` greater than `since`, oldest
    /// first.
    /// - Throws: `FaultlineClientError`.
    public func journal(since: UInt64 = 0) throws(FaultlineClientError) -> [JournalEntry] {
        try JournalEntry.parse(lines: send("GET", "/v1/journal?since=\(since)").text)
    }

    /// `GET /metrics`: the Prometheus text exposition.
    /// - Throws: `FaultlineClientError`.
    public func metrics() throws(FaultlineClientError) -> String {
        try send("GET", "/metrics").text
    }

    /// `POST /v1/reload`: re-reads the config file; routes and faults added through the API stay.
    /// - Throws: `FaultlineClientError` (422 `invalid_config` with every error of the file, 409
    ///   `reload_conflict`); nothing changes then.
    @discardableResult
    public func reload() throws(FaultlineClientError) -> ReloadResult {
        try ReloadResult(json: send("POST", "/v1/reload").json())
    }
}
