public import FaultlineConfig
import FaultlineCore

/// How the API shows the state.
extension ControlState {
    /// A route as the API shows it: the config keys, plus `bound` (the listening address with
    /// port 0 resolved, null while disabled) and `origin`.
    public func json(_ route: ManagedRoute) -> JSONValue {
        let spec = route.spec
        var object = JSONObject()
        object["name"] = .string(spec.name)
        object["listen"] = .string(spec.listen.description)
        object["bound"] = boundAddresses[spec.name].map { .string($0.description) } ?? .null
        object["upstream"] = .string(spec.upstream.description)
        object["protocol"] = .string(spec.protocolKind.rawValue)
        object["from"] = spec.from.map { .string($0) } ?? .null
        object["to"] = spec.to.map { .string($0) } ?? .null
        object["enabled"] = .bool(spec.enabled)
        object["tls"] = spec.tls.map(Self.json) ?? .null
        object["upstream_tls"] = spec.upstreamTLS.map(Self.json) ?? .null
        object["upstream_protocol"] = spec.upstreamProtocol.map { .string($0.rawValue) } ?? .null
        object["origin"] = .string(route.origin.rawValue)
        return .object(object)
    }

    /// A listener's TLS settings: the certificate file and ALPN list; the key is not shown.
    static func json(_ tls: TLSSettings) -> JSONValue {
        ["cert": .string(tls.certificate), "alpn": .array(tls.alpn.map { .string($0) })]
    }

    /// Origination settings as the config writes them (`ca` null: the system's CAs).
    static func json(_ tls: UpstreamTLSSettings) -> JSONValue {
        [
            "ca": tls.ca.map { .string($0) } ?? .null, "sni": tls.serverName.map { .string($0) } ?? .null,
            "verify": .bool(tls.verify), "alpn": .array(tls.alpn.map { .string($0) }),
        ]
    }

    /// `{"routes": [...]}`.
    public var routesJSON: JSONValue {
        ["routes": .array(routes.map(json))]
    }

    /// `{"faults": [...]}`, in apply order, with the time left at `now` on those with `for`.
    public func faultsJSON(now: UInt64?) -> JSONValue {
        ["faults": .array(faults.map { faultJSON($0, now: now) })]
    }

    /// `GET /v1/status`.
    public func statusJSON(_ environment: ControlEnvironment) -> JSONValue {
        var object = JSONObject()
        object["version"] = .string(environment.version)
        let uptime = environment.uptime.components
        object["uptime_seconds"] = .double(Double(uptime.seconds) + Double(uptime.attoseconds / 1_000_000_000_000_000) / 1000)
        object["workers"] = .integer(Int64(environment.workers))
        object["seed"] = config.seed <= UInt64(Int64.max) ? .integer(Int64(config.seed)) : .unsignedInteger(config.seed)
        object["plan_version"] = .integer(Int64(planVersion))
        object["open_connections"] = .integer(Int64(environment.openConnections))
        object["routes"] = .array(routes.map(json))
        object["faults"] = .array(faults.map { faultJSON($0, now: environment.monotonicNow) })
        object["schedule"] = environment.schedule
        return .object(object)
    }
}

/// What `GET /v1/status` reports besides the state.
public struct ControlEnvironment: Sendable, Hashable {
    public var version: String
    public var uptime: Duration
    public var workers: Int
    public var openConnections: Int
    /// The schedule runner's summary (`{"state": "none"}` without a schedule).
    public var schedule: JSONValue
    /// Monotonic nanoseconds now, for the time faults with `for` have left (nil: not known).
    public var monotonicNow: UInt64?

    public init(
        version: String, uptime: Duration, workers: Int, openConnections: Int, schedule: JSONValue = ["state": "none"],
        monotonicNow: UInt64? = nil
    ) {
        self.version = version
        self.uptime = uptime
        self.workers = workers
        self.openConnections = openConnections
        self.schedule = schedule
        self.monotonicNow = monotonicNow
    }
}

/// Journal events the control side writes (SPEC §6).
enum ControlEvents {
    static func routeAdded(_ spec: RouteSpec) -> JournalEvent {
        JournalEvent(event: "route.added", fields: [
            .string("route", spec.name), .string("listen", spec.listen.description),
            .string("upstream", spec.upstream.description), .string("protocol", spec.protocolKind.rawValue),
            JournalField("enabled", json: spec.enabled ? "true" : "false"),
        ])
    }

    static func routeRemoved(_ name: String) -> JournalEvent {
        JournalEvent(event: "route.removed", fields: [.string("route", name)])
    }

    static func routeEnabled(_ name: String, _ enabled: Bool) -> JournalEvent {
        JournalEvent(event: enabled ? "route.enabled" : "route.disabled", fields: [.string("route", name)])
    }

    static func routeUpdated(_ spec: RouteSpec) -> JournalEvent {
        JournalEvent(event: "route.updated", fields: [
            .string("route", spec.name), .string("listen", spec.listen.description),
            .string("upstream", spec.upstream.description),
        ])
    }

    static func faultApplied(_ fault: FaultSpec) -> JournalEvent {
        JournalEvent(event: "fault.applied", fields: [JournalField("fault", json: JSONWriter.render(FaultEncoder.encode(fault)))])
    }

    static func faultCleared(_ id: String, reason: String) -> JournalEvent {
        JournalEvent(event: "fault.cleared", fields: [.string("id", id), .string("reason", reason)])
    }

    static func configReloaded(path: String, routes: Int, faults: Int) -> JournalEvent {
        JournalEvent(event: "config.reloaded", fields: [.string("path", path), .int("routes", routes), .int("faults", faults)])
    }

    static func daemonStarted(version: String, seed: UInt64, workers: Int) -> JournalEvent {
        JournalEvent(event: "daemon.started", fields: [
            .string("version", version), .int("seed", seed), .int("workers", workers),
        ])
    }
}
