public import FaultlineConfig
import FaultlineCore
import FaultlineMetrics
import FaultlineSystem

/// The live status page (SPEC §4 `GET /ui`, `GET /v1/ui/snapshot`): the page itself, served from
/// the binary, and the JSON it redraws from every second.
///
/// The snapshot is a view of what the rest of the API serves — the routes of `/v1/routes`, the
/// faults of `/v1/faults`, the schedule summary of `/v1/status`, the counters of `/metrics` — put
/// together so the page needs one request per refresh. Its cost does not grow with traffic: it
/// reads the metric families' per-route totals (one pass over label sets and worker shards) and
/// never visits a connection.
extension ControlService {
    /// `GET /ui`, `/ui/app.js`, `/ui/app.css` and `/v1/ui/snapshot`; nil for any other path.
    /// Only GET is served: the page changes nothing.
    func statusPageResponse(_ request: ControlRequest) -> ControlResponse? {
        let segments = request.segments
        let isSnapshot = segments == ["v1", "ui", "snapshot"]
        guard isSnapshot || segments.first == "ui" else { return nil }
        guard request.method == "GET" else {
            return .methodNotAllowed(request.method, path: request.path, allowed: ["GET"])
        }
        if let unexpected = request.query.first {
            return .error(400, code: "invalid_query", message: "unexpected query parameter \"\(unexpected.name)\"")
        }
        if isSnapshot {
            var response = ControlResponse.json(200, uiSnapshotJSON())
            response.headers.append(name: "Cache-Control", value: "no-store")
            return response
        }
        guard let asset = StatusPage.asset(path: Array(segments.dropFirst())) else {
            return .notFound("no endpoint \(request.path)")
        }
        var response = ControlResponse.text(200, asset.text, contentType: asset.contentType)
        for (name, value) in StatusPage.headers { response.headers.append(name: name, value: value) }
        return response
    }

    /// The body of `GET /v1/ui/snapshot`.
    ///
    /// `uptime_ms` is the monotonic clock the page divides counter deltas by; `routes[].traffic`
    /// holds running totals (bytes each way, connections accepted, HTTP answers by class) and the
    /// open connections; `links` is one entry per directed node link a route makes, with the
    /// partitions that cut it; `faults[]` wraps each active fault as `/v1/faults` shows it with
    /// its injections so far and, when the schedule will clear it, the time it has left.
    public func uiSnapshotJSON() -> JSONValue {
        let now = monotonicClock()
        let traffic = UITraffic(registry: registry)
        var object = JSONObject()
        object["version"] = .string(version)
        object["uptime_ms"] = .integer(Int64(clamping: (now &- startedAt) / 1_000_000))
        object["time"] = .string(Timestamp.rfc3339(nanoseconds: realtimeClock()))
        object["seed"] = state.config.seed <= UInt64(Int64.max) ? .integer(Int64(state.config.seed)) : .unsignedInteger(state.config.seed)
        object["plan_version"] = .integer(Int64(state.planVersion))
        object["workers"] = .integer(Int64(dataPlane.workerCount))
        object["open_connections"] = .integer(Int64(dataPlane.openConnections))
        object["journal_last"] = .integer(Int64(clamping: journal.lastSequence))
        object["nodes"] = .array(state.nodeNames.map { .string($0) })
        object["links"] = .array(uiLinks())
        object["routes"] = .array(state.routes.map { route in
            guard case .object(var item) = state.json(route) else { return .null }
            item["traffic"] = traffic.json(route: route.spec.name, http: route.spec.protocolKind.isHTTP)
            return .object(item)
        })
        object["faults"] = .array(state.faults.map { fault in
            var item = JSONObject()
            item["fault"] = state.faultJSON(fault, now: now)
            item["origin"] = .string(fault.origin.rawValue)
            item["injections"] = .integer(Int64(clamping: traffic.injections[fault.spec.id] ?? 0))
            item["ends"] = uiEnding(of: fault, now: now)
            return .object(item)
        })
        object["schedule"] = scheduleJSON(withSpec: false)
        return .object(object)
    }

    /// Every directed link a route makes between named nodes: `from → to`, or, for a route that
    /// learns its caller from the source address, each node of the `nodes` map with an address
    /// (but its `to`), as `FaultPlan.partitionLinksBlocked` counts them. `cut` is the direction the
    /// partitions in force block (`upstream`: from → to, `downstream`: the answers back, `both`),
    /// decided by `PartitionFault.blocks` as the workers decide it.
    func uiLinks() -> [JSONValue] {
        let learnedCallers = state.config.nodes.filter { !$0.value.isEmpty }.keys.sorted()
        var links: [JSONValue] = []
        for route in state.routes {
            guard let to = route.spec.to else { continue }
            let partitions = state.faults.compactMap { fault -> (id: String, partition: PartitionFault)? in
                guard case .partition(let partition) = fault.spec.kind, fault.spec.routes.matches(route.spec.name) else { return nil }
                return (fault.spec.id, partition)
            }
            let callers = route.spec.from.map { [$0] } ?? learnedCallers.filter { $0 != to }
            for caller in callers {
                var up = false
                var down = false
                var cutBy: [JSONValue] = []
                for (id, partition) in partitions {
                    guard let blocked = partition.blocks(from: caller, to: to) else { continue }
                    cutBy.append(.string(id))
                    if blocked != .downstream { up = true }
                    if blocked != .upstream { down = true }
                }
                var link = JSONObject()
                link["route"] = .string(route.spec.name)
                link["from"] = .string(caller)
                link["to"] = .string(to)
                link["learned"] = .bool(route.spec.from == nil)
                link["enabled"] = .bool(route.spec.enabled)
                switch (up, down) {
                case (true, true): link["cut"] = "both"
                case (true, false): link["cut"] = "upstream"
                case (false, true): link["cut"] = "downstream"
                case (false, false): link["cut"] = .null
                }
                link["partitions"] = .array(cutBy)
                links.append(.object(link))
            }
        }
        return links
    }

    /// When the fault ends: `{"in_ms", "step", "by", "paused"}` — `by` `expires` for a fault
    /// applied with `for` (`step` null), else `for` or `clear` when the schedule will clear it
    /// (time on the schedule's clock, which stands still while paused); null when nothing will.
    func uiEnding(of fault: ManagedFault, now: UInt64) -> JSONValue {
        if let expiresAt = fault.expiresAt {
            // Applied through the API with `for`: the fault's own clock, which no pause stops.
            var ending = JSONObject()
            ending["in_ms"] = .integer(Int64(clamping: (expiresAt > now ? expiresAt - now : 0) / 1_000_000))
            ending["step"] = .null
            ending["by"] = "expires"
            ending["paused"] = false
            return .object(ending)
        }
        guard let machine = schedule, let entry = machine.pendingClear(of: fault.spec.id), let elapsed = machine.elapsed(now: now) else {
            return .null
        }
        var ending = JSONObject()
        ending["in_ms"] = .integer(Int64(clamping: (entry.offset > elapsed ? entry.offset - elapsed : 0) / 1_000_000))
        ending["step"] = .integer(Int64(entry.step))
        ending["by"] = .string(entry.isForClear ? "for" : "clear")
        ending["paused"] = .bool(machine.phase == .paused)
        return .object(ending)
    }
}

/// The per-route totals of the proxy's metric families (SPEC §5), read once per snapshot.
///
/// The family names are the proxy's (`ProxyMetrics`); this target cannot import it, so they are
/// spelled here, and a family that is not registered (a test's registry) reads as zeros.
struct UITraffic {
    static let bytesFamily = "faultline_bytes_total"
    static let acceptedFamily = "faultline_connections_accepted_total"
    static let activeFamily = "faultline_connections_active"
    static let httpFamily = "faultline_http_requests_total"
    static let injectionsFamily = "faultline_fault_injections_total"
    /// The HTTP answer classes, in the order the snapshot lists them; `other` is what the client got
    /// instead of a status (`reset`, `closed`, `hang`).
    static let httpClasses = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"]

    var bytesUpstream: [String: UInt64] = [:]
    var bytesDownstream: [String: UInt64] = [:]
    var accepted: [String: UInt64] = [:]
    var active: [String: Int64] = [:]
    var http: [String: [String: UInt64]] = [:]
    /// By fault id, summed over the routes it acted on.
    var injections: [String: UInt64] = [:]

    init(registry: MetricsRegistry) {
        for sample in registry.samples(of: Self.bytesFamily) ?? [] where sample.labelValues.count == 2 {
            let route = sample.labelValues[0]
            if sample.labelValues[1] == "upstream" {
                bytesUpstream[route, default: 0] &+= sample.value.unsignedValue
            } else {
                bytesDownstream[route, default: 0] &+= sample.value.unsignedValue
            }
        }
        for sample in registry.samples(of: Self.acceptedFamily) ?? [] where sample.labelValues.count == 1 {
            accepted[sample.labelValues[0], default: 0] &+= sample.value.unsignedValue
        }
        for sample in registry.samples(of: Self.activeFamily) ?? [] where sample.labelValues.count == 1 {
            active[sample.labelValues[0], default: 0] &+= sample.value.signedValue
        }
        for sample in registry.samples(of: Self.httpFamily) ?? [] where sample.labelValues.count == 2 {
            http[sample.labelValues[0], default: [:]][Self.httpClass(sample.labelValues[1]), default: 0] &+= sample.value.unsignedValue
        }
        for sample in registry.samples(of: Self.injectionsFamily) ?? [] where sample.labelValues.count == 3 {
            injections[sample.labelValues[1], default: 0] &+= sample.value.unsignedValue
        }
    }

    /// `2xx` for `"204"`; `other` for `reset`, `closed`, `hang`.
    static func httpClass(_ code: String) -> String {
        let digits = Array(code.utf8)
        guard digits.count == 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), digits[0] >= 0x31, digits[0] <= 0x35 else {
            return "other"
        }
        return "\(digits[0] - 0x30)xx"
    }

    /// A route's `traffic` object; `http` (every class, zeros included) only for an http route.
    func json(route: String, http isHTTP: Bool) -> JSONValue {
        var object = JSONObject()
        object["bytes_upstream"] = .integer(Int64(clamping: bytesUpstream[route] ?? 0))
        object["bytes_downstream"] = .integer(Int64(clamping: bytesDownstream[route] ?? 0))
        object["connections_accepted"] = .integer(Int64(clamping: accepted[route] ?? 0))
        object["connections_active"] = .integer(active[route] ?? 0)
        if isHTTP {
            let counts = http[route] ?? [:]
            object["http"] = .object(JSONObject(Self.httpClasses.map { ($0, .integer(Int64(clamping: counts[$0] ?? 0))) }))
        }
        return .object(object)
    }
}

extension SampleValue {
    /// The value as a count (negative and fractional values clamp to 0 and truncate).
    var unsignedValue: UInt64 {
        switch self {
        case .unsigned(let value): return value
        case .signed(let value): return value > 0 ? UInt64(value) : 0
        case .double(let value): return value > 0 && value < 1.8e19 ? UInt64(value) : 0
        }
    }

    /// The value as a signed number (saturating).
    var signedValue: Int64 {
        switch self {
        case .unsigned(let value): return Int64(clamping: value)
        case .signed(let value): return value
        case .double(let value): return value.isFinite ? Int64(max(min(value, 9.2e18), -9.2e18)) : 0
        }
    }
}
