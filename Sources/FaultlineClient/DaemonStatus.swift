public import FaultlineConfig
public import FaultlineCore

/// What `GET /v1/status` reports.
public struct DaemonStatus: Sendable, Hashable {
    /// The daemon's version string.
    public var version: String
    /// Time since the daemon started.
    public var uptime: Duration
    /// Event-loop threads.
    public var workers: Int
    /// The seed every random decision is drawn from.
    public var seed: UInt64
    /// Increases with every change put in force.
    public var planVersion: Int
    /// Proxied connections open now, over all routes.
    public var openConnections: Int
    /// Every route, in plan order.
    public var routes: [RouteInfo]
    /// Every active fault, in apply order.
    public var faults: [FaultSpec]
    /// The schedule's state (`none` when there is no schedule).
    public var scheduleState: String
    /// The whole answer, for members this type does not model.
    public var json: JSONValue

    /// Reads a `GET /v1/status` answer.
    /// - Throws: `FaultlineClientError` of kind `.invalidResponse` naming what is missing or
    ///   malformed.
    public init(json: JSONValue) throws(FaultlineClientError) {
        let reader = try AnswerReader(json, what: "the status")
        version = try reader.string("version")
        let seconds = try reader.double("uptime_seconds")
        uptime = .milliseconds(Int64((seconds * 1000).rounded()))
        workers = try reader.int("workers")
        seed = try reader.unsigned("seed")
        planVersion = try reader.int("plan_version")
        openConnections = try reader.int("open_connections")
        var routes: [RouteInfo] = []
        for item in try reader.array("routes") { routes.append(try RouteInfo(json: item)) }
        self.routes = routes
        faults = try FaultJSON.decodeList(try reader.array("faults"), key: "faults")
        scheduleState = try AnswerReader(try reader.value("schedule"), what: "the schedule").string("state")
        self.json = json
    }
}
