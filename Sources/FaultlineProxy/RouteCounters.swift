public import FaultlineMetrics

/// The metric families the proxy writes, created once and shared by every worker.
public struct ProxyMetrics: Sendable {
    public let connectionsAccepted: CounterFamily
    public let connectionsActive: GaugeFamily
    public let connectionsRejected: CounterFamily
    /// `faultline_accept_failures_total{listener,reason}`, shared with the control thread.
    public let acceptFailures: CounterFamily
    public let upstreamConnectFailures: CounterFamily
    public let bytes: CounterFamily
    public let bytesDiscarded: CounterFamily
    /// `faultline_latency_queued_bytes{route,direction}`: bytes latency faults hold now.
    public let latencyQueued: GaugeFamily
    public let faultInjections: CounterFamily
    public let httpRequests: CounterFamily
    public let httpRequestDuration: HistogramFamily
    /// How late latency-held bytes were released: the proxy's own share of a latency error.
    public let latencyReleaseLateness: HistogramFamily
    public let requestLogDropped: CounterFamily
    public let tlsHandshakeFailures: CounterFamily
    public let http2ProtocolErrors: CounterFamily

    /// Creates the families and registers them, in SPEC §5 order.
    public init(registry: MetricsRegistry) {
        connectionsAccepted = CounterFamily(
            name: "faultline_connections_accepted_total", help: "Connections accepted, per route.", labelNames: ["route"])
        connectionsActive = GaugeFamily(
            name: "faultline_connections_active", help: "Connections open now, per route.", labelNames: ["route"])
        connectionsRejected = CounterFamily(
            name: "faultline_connections_rejected_total",
            help: "Connections closed at accept because limits.max_connections was reached.", labelNames: ["route"])
        acceptFailures = CounterFamily.acceptFailures()
        upstreamConnectFailures = CounterFamily(
            name: "faultline_upstream_connect_failures_total",
            help: "Upstream connects that failed, by reason (refused, timeout, unreachable, error, resolve).",
            labelNames: ["route", "reason"])
        bytes = CounterFamily(
            name: "faultline_bytes_total",
            help: "Bytes relayed, per route and direction (upstream = client to service).",
            labelNames: ["route", "direction"])
        bytesDiscarded = CounterFamily(
            name: "faultline_bytes_discarded_total",
            help: "Bytes read and dropped by a blackhole, timeout or partition, per route and direction (not in faultline_bytes_total).",
            labelNames: ["route", "direction"])
        latencyQueued = GaugeFamily(
            name: "faultline_latency_queued_bytes",
            help: "Bytes held by latency faults now (at most limits.latency_queue_bytes per connection and direction), per route and direction.",
            labelNames: ["route", "direction"])
        faultInjections = CounterFamily(
            name: "faultline_fault_injections_total",
            help: "Times a fault was bound to a connection (per direction), or acted on one at accept.",
            labelNames: ["route", "fault", "type"])
        httpRequests = CounterFamily(
            name: "faultline_http_requests_total",
            help: "HTTP requests finished, per route and what the client got (a status, or reset/closed/hang).",
            labelNames: ["route", "code"])
        httpRequestDuration = HistogramFamily(
            name: "faultline_http_request_duration_seconds",
            help: "HTTP requests finished, by time from the request head to the end of the client's answer.",
            labelNames: ["route"])
        latencyReleaseLateness = HistogramFamily(
            name: "faultline_latency_release_lateness_seconds",
            help: "Chunks held by a latency fault, by how long after their due time the relay let them go (the proxy's own lateness; the peer's wake-up is not in it).",
            labelNames: ["route"],
            upperBoundsSeconds: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1])
        tlsHandshakeFailures = CounterFamily(
            name: "faultline_tls_handshake_failures_total",
            help: "TLS handshakes that failed, by side (client: terminated here, upstream: originated here) and reason.",
            labelNames: ["route", "side", "reason"])
        http2ProtocolErrors = CounterFamily(
            name: "faultline_http2_protocol_errors_total",
            help: "HTTP/2 connections ended for breaking the protocol (a bad preface, bad frames, a flood), by side and reason.",
            labelNames: ["route", "side", "reason"])
        requestLogDropped = CounterFamily(
            name: "faultline_request_log_dropped_total",
            help: "Request-log entries dropped because the route's log (limits.request_log) was full.",
            labelNames: ["route"])
        registry.register(connectionsAccepted)
        registry.register(connectionsActive)
        registry.register(connectionsRejected)
        registry.register(acceptFailures)
        registry.register(upstreamConnectFailures)
        registry.register(bytes)
        registry.register(bytesDiscarded)
        registry.register(latencyQueued)
        registry.register(faultInjections)
        registry.register(httpRequests)
        registry.register(httpRequestDuration)
        registry.register(latencyReleaseLateness)
        registry.register(tlsHandshakeFailures)
        registry.register(http2ProtocolErrors)
        registry.register(requestLogDropped)
    }
}

extension ProxyMetrics {
    /// Drops `worker`'s shards of the series that name a route in `routes` or an injection
    /// series whose `(route, fault)` pair is in `faults`: called by the worker itself, on the
    /// plan that deletes them, after it has closed the route's connections and forgotten the
    /// shards it cached. Each series goes from `/metrics` when its last worker has done so,
    /// which every worker has when the API answers (the plan is in force on all of them).
    func dropShards(worker: Int, routes: Set<String>, faults: Set<InjectionKey>) {
        guard !routes.isEmpty || !faults.isEmpty else { return }
        if !routes.isEmpty {
            let named: @Sendable ([String]) -> Bool = { routes.contains($0[0]) }
            for family in [connectionsAccepted, connectionsRejected, acceptFailures, upstreamConnectFailures, bytes, bytesDiscarded, httpRequests,
                           tlsHandshakeFailures, http2ProtocolErrors, requestLogDropped] {
                family.removeShards(worker: worker, where: named)
            }
            connectionsActive.removeShards(worker: worker, where: named)
            latencyQueued.removeShards(worker: worker, where: named)
            httpRequestDuration.removeShards(worker: worker, where: named)
            latencyReleaseLateness.removeShards(worker: worker, where: named)
        }
        faultInjections.removeShards(worker: worker) { labels in
            routes.contains(labels[0]) || faults.contains(InjectionKey(route: labels[0], fault: labels[1], type: labels[2]))
        }
    }
}

/// Why an upstream connect failed.
enum ConnectFailure: String, CaseIterable {
    case refused
    case timeout
    case unreachable
    case error
    /// The upstream's host name did not resolve.
    case resolve
}

/// One worker's counter shards for one route; written only by that worker's thread.
final class RouteCounters {
    let accepted: Counter
    let active: Gauge
    let rejected: Counter
    let bytesUpstream: Counter
    let bytesDownstream: Counter
    /// Made on the first discarded byte, so a route that never drops any has no series.
    private(set) lazy var discardedUpstream = metrics.bytesDiscarded.shard(labels: [route, "upstream"], worker: worker)
    private(set) lazy var discardedDownstream = metrics.bytesDiscarded.shard(labels: [route, "downstream"], worker: worker)
    /// Made when a latency fault is first bound on the route.
    private(set) lazy var latencyLateness = metrics.latencyReleaseLateness.shard(labels: [route], worker: worker)
    /// Made on the first byte a latency queue holds, so a route without latency has no series.
    private(set) lazy var queuedUpstream = metrics.latencyQueued.shard(labels: [route, "upstream"], worker: worker)
    private(set) lazy var queuedDownstream = metrics.latencyQueued.shard(labels: [route, "downstream"], worker: worker)
    private let failures: [Counter]
    /// The route's HTTP request counters, made on the first finished request (a tcp route has none,
    /// so its series never appear).
    private(set) lazy var http = HTTPCounters(route: route, worker: worker, metrics: metrics)
    private let route: String
    private let worker: Int
    private let metrics: ProxyMetrics

    init(route: String, worker: Int, metrics: ProxyMetrics) {
        self.route = route
        self.worker = worker
        self.metrics = metrics
        accepted = metrics.connectionsAccepted.shard(labels: [route], worker: worker)
        active = metrics.connectionsActive.shard(labels: [route], worker: worker)
        rejected = metrics.connectionsRejected.shard(labels: [route], worker: worker)
        bytesUpstream = metrics.bytes.shard(labels: [route, "upstream"], worker: worker)
        bytesDownstream = metrics.bytes.shard(labels: [route, "downstream"], worker: worker)
        failures = ConnectFailure.allCases.map {
            metrics.upstreamConnectFailures.shard(labels: [route, $0.rawValue], worker: worker)
        }
    }

    func failure(_ reason: ConnectFailure) -> Counter {
        failures[ConnectFailure.allCases.firstIndex(of: reason)!]
    }
}

@available(*, unavailable)
extension RouteCounters: Sendable {}

/// One worker's HTTP request counters for one route: a shard per code, made on first use.
final class HTTPCounters {
    private let route: String
    private let worker: Int
    private let metrics: ProxyMetrics
    private var byCode: [String: Counter] = [:]
    private let duration: Histogram

    init(route: String, worker: Int, metrics: ProxyMetrics) {
        duration = metrics.httpRequestDuration.shard(labels: [route], worker: worker)
        self.route = route
        self.worker = worker
        self.metrics = metrics
    }

    /// A finished request: what the client got and how long the exchange took.
    func record(code: String, nanoseconds: UInt64) {
        duration.observe(nanoseconds: nanoseconds)
        if let counter = byCode[code] {
            counter.increment()
        } else {
            let counter = metrics.httpRequests.shard(labels: [route, code], worker: worker)
            byCode[code] = counter
            counter.increment()
        }
    }
}

@available(*, unavailable)
extension HTTPCounters: Sendable {}
