public import FaultlineConfig
import FaultlineCore
public import FaultlineMetrics
public import FaultlineSystem

/// The listener a request arrived on; it decides which endpoints exist.
public enum ControlListenerKind: Sendable, Hashable {
    /// The Unix socket: the whole `/v1` API and `/metrics`.
    case unix
    /// `control.http_listen`: the same, plus Toxiproxy's API.
    case tcp
    /// `metrics_listen`: `GET /metrics` only.
    case metrics
}

/// The control API without sockets: routes a decoded request to the state transitions, the
/// journal and the metrics, and keeps the authoritative `ControlState`.
///
/// Owned by the control thread (every call on it); tests drive it directly with a fake
/// `DataPlane`. Authentication is the server's job and has happened before `handle` is called.
public final class ControlService {
    /// The state in force.
    public private(set) var state: ControlState
    /// The schedule runner's state machine; nil without a schedule (see `ControlService+Schedule`).
    var schedule: ScheduleStateMachine?
    let dataPlane: any DataPlane
    let journal: Journal
    let registry: MetricsRegistry
    let metrics: ControlMetrics
    private let configPath: String
    let version: String
    let log: Logger
    let monotonicClock: () -> UInt64
    /// CLOCK_REALTIME nanoseconds, for a schedule's RFC 3339 start and the wall times it shows.
    let realtimeClock: () -> UInt64
    private let loadConfig: (String) -> Result<DaemonConfig, ConfigErrors>
    let startedAt: UInt64
    private let toxiproxy = ToxiproxyCompatibility()

    /// A service for `config` (loaded from `configPath`), with no plan in force until `start()`.
    /// - Parameters:
    ///   - monotonicClock: CLOCK_MONOTONIC nanoseconds, for uptime and the schedule.
    ///   - loadConfig: reads and decodes the config file (reload).
    ///   - realtimeClock: CLOCK_REALTIME nanoseconds, for the schedule's wall times.
    public init(
        config: DaemonConfig, configPath: String, dataPlane: any DataPlane, journal: Journal,
        registry: MetricsRegistry, metrics: ControlMetrics, version: String, log: Logger,
        monotonicClock: @escaping () -> UInt64 = { Linux.monotonicNanoseconds() },
        loadConfig: @escaping (String) -> Result<DaemonConfig, ConfigErrors> = { ConfigLoader.load(path: $0) },
        realtimeClock: @escaping () -> UInt64 = { Linux.realtimeNanoseconds() }
    ) {
        state = ControlState(config: config)
        self.dataPlane = dataPlane
        self.journal = journal
        self.registry = registry
        self.metrics = metrics
        self.configPath = configPath
        self.version = version
        self.log = log
        self.monotonicClock = monotonicClock
        self.realtimeClock = realtimeClock
        self.loadConfig = loadConfig
        startedAt = monotonicClock()
    }

    /// Puts the config's plan in force, journals `daemon.started`, then loads the config's
    /// schedule (starting it when its `start` is `on_load`).
    /// - Throws: whatever the data plane throws (a route that cannot listen).
    public func start() throws {
        let applied = try dataPlane.apply(state.nextPlan())
        state = state.committed(applied: applied)
        metrics.update(activeFaults: state.faults.map(\.spec))
        metrics.update(partitionLinksBlocked: state.partitionLinksBlocked)
        journal.record(ControlEvents.daemonStarted(version: version, seed: state.config.seed, workers: dataPlane.workerCount))
        if let spec = state.config.schedule { loadSchedule(spec) }
    }

    /// Answers one request.
    public func handle(_ request: ControlRequest, on listener: ControlListenerKind) -> ControlResponse {
        let segments = request.segments
        let method = request.method
        if listener == .metrics && segments != ["metrics"] {
            return .notFound("only GET /metrics is served here")
        }
        if listener == .tcp, let first = segments.first, ToxiproxyCompatibility.ownsPath(first) {
            return toxiproxy.handle(request, state: { self.state }, perform: { self.perform($0) })
        }
        if segments == ["v1", "journal"] {
            guard method == "GET" else { return .methodNotAllowed(method, path: request.path, allowed: ["GET"]) }
            return journalResponse(request)
        }
        if segments == ["v1", "requests"] || segments == ["v1", "report"] {
            guard method == "GET" else { return .methodNotAllowed(method, path: request.path, allowed: ["GET"]) }
            return segments[1] == "requests" ? requestsResponse(request) : reportResponse(request)
        }
        if let response = statusPageResponse(request) { return response }
        if let unexpected = request.query.first {
            return .error(400, code: "invalid_query", message: "unexpected query parameter \"\(unexpected.name)\"")
        }
        switch segments {
        case ["metrics"]:
            guard method == "GET" else { return .methodNotAllowed(method, path: request.path, allowed: ["GET"]) }
            return .text(200, registry.render(), contentType: "text/plain; version=0.0.4")
        case ["v1", "status"]:
            guard method == "GET" else { return .methodNotAllowed(method, path: request.path, allowed: ["GET"]) }
            return .json(200, state.statusJSON(environment))
        case ["v1", "routes"]:
            switch method {
            case "GET": return .json(200, state.routesJSON)
            case "POST": return perform(state.addRoute(body: request.body))
            default: return .methodNotAllowed(method, path: request.path, allowed: ["GET", "POST"])
            }
        case _ where segments.count == 3 && segments[0] == "v1" && segments[1] == "routes":
            let name = segments[2]
            switch method {
            case "GET":
                guard let route = state.route(named: name) else { return .notFound("no route named \"\(name)\"") }
                return .json(200, state.json(route))
            case "PATCH": return perform(state.updateRoute(named: name, body: request.body))
            case "DELETE": return perform(state.removeRoute(named: name))
            default: return .methodNotAllowed(method, path: request.path, allowed: ["GET", "PATCH", "DELETE"])
            }
        case ["v1", "faults"]:
            switch method {
            case "GET": return .json(200, state.faultsJSON(now: monotonicClock()))
            case "POST": return perform(state.applyFault(body: request.body, now: monotonicClock()))
            case "DELETE": return perform(state.clearAllFaults())
            default: return .methodNotAllowed(method, path: request.path, allowed: ["GET", "POST", "DELETE"])
            }
        case _ where segments.count == 3 && segments[0] == "v1" && segments[1] == "faults":
            let id = segments[2]
            switch method {
            case "GET":
                guard let fault = state.fault(id: id) else { return .notFound("no fault with id \"\(id)\"") }
                return .json(200, state.faultJSON(fault, now: monotonicClock()))
            case "DELETE": return perform(state.clearFault(id: id))
            default: return .methodNotAllowed(method, path: request.path, allowed: ["GET", "DELETE"])
            }
        case ["v1", "reload"]:
            guard method == "POST" else { return .methodNotAllowed(method, path: request.path, allowed: ["POST"]) }
            return reload()
        case ["v1", "partitions"]:
            switch method {
            case "POST": return perform(state.applyPartition(body: request.body, now: monotonicClock()))
            case "DELETE": return perform(state.healPartitions())
            default: return .methodNotAllowed(method, path: request.path, allowed: ["POST", "DELETE"])
            }
        case ["v1", "schedule"]:
            switch method {
            case "GET": return .json(200, scheduleJSON(withSpec: true))
            case "PUT": return replaceSchedule(body: request.body)
            default: return .methodNotAllowed(method, path: request.path, allowed: ["GET", "PUT"])
            }
        case _ where segments.count == 3 && segments[0] == "v1" && segments[1] == "schedule"
            && ["start", "stop", "pause", "resume"].contains(segments[2]):
            guard method == "POST" else { return .methodNotAllowed(method, path: request.path, allowed: ["POST"]) }
            return scheduleCommand(segments[2])
        default:
            return .notFound("no endpoint \(request.path)")
        }
    }

    /// Re-reads the config file (`POST /v1/reload`, SIGHUP). An invalid file answers 422
    /// `invalid_config` with every error and changes nothing.
    public func reload() -> ControlResponse {
        switch loadConfig(configPath) {
        case .failure(let errors):
            log.error("config.reload_rejected", ["path": configPath, "errors": "\(errors.errors.count)"])
            for line in errors.lines { log.error("config.invalid", ["error": line]) }
            return .invalid(code: "invalid_config", errors)
        case .success(let config):
            for key in state.restartOnlyChanges(config) {
                log.warning("config.reload_ignored", ["key": key, "reason": "takes effect on restart"])
            }
            if config.schedule != state.config.schedule {
                log.warning("config.reload_ignored", ["key": "schedule", "reason": "replace it with PUT /v1/schedule"])
            }
            let response = perform(state.reload(to: config, path: configPath))
            if response.status == 200 {
                log.info("config.reloaded", ["path": configPath, "routes": "\(state.routes.count)", "faults": "\(state.faults.count)"])
            } else {
                log.error("config.reload_rejected", ["path": configPath, "status": "\(response.status)",
                                                     "error": response.jsonBody.map { "\($0)" } ?? ""])
            }
            return response
        }
    }

    private var environment: ControlEnvironment {
        ControlEnvironment(
            version: version, uptime: .nanoseconds(Int64(monotonicClock() &- startedAt)),
            workers: dataPlane.workerCount, openConnections: dataPlane.openConnections,
            schedule: scheduleJSON(withSpec: false), monotonicNow: monotonicClock()
        )
    }

    /// Carries out a transition and brings the metrics and the schedule's bookkeeping up to date.
    func perform(_ outcome: ControlOutcome) -> ControlResponse {
        let response = state.perform(outcome, on: dataPlane, journal: journal, now: monotonicClock())
        if case .change = outcome {
            metrics.update(activeFaults: state.faults.map(\.spec))
            metrics.update(partitionLinksBlocked: state.partitionLinksBlocked)
            // A fault cleared by the API (or a reload) is no longer the schedule's to clear.
            schedule?.retain(active: Set(state.faults.map(\.spec.id)))
        }
        return response
    }

    /// `GET /v1/journal?since=SEQ`: retained events after SEQ (default 0) as JSON lines.
    private func journalResponse(_ request: ControlRequest) -> ControlResponse {
        var since: UInt64 = 0
        for item in request.query {
            guard item.name == "since" else {
                return .error(400, code: "invalid_query", message: "unexpected query parameter \"\(item.name)\"")
            }
            guard let value = UInt64(item.value) else {
                return .error(400, code: "invalid_query", message: "since must be a sequence number, got \"\(item.value)\"", path: "since")
            }
            since = value
        }
        let (entries, oldest) = journal.entries(after: since)
        var text = ""
        for entry in entries {
            text += entry.line
            text += "\n"
        }
        var response = ControlResponse.text(200, text, contentType: "application/x-ndjson")
        response.headers.append(name: "X-Faultline-Journal-Oldest", value: String(oldest))
        response.headers.append(name: "X-Faultline-Journal-Last", value: String(journal.lastSequence))
        return response
    }
}

@available(*, unavailable)
extension ControlService: Sendable {}
