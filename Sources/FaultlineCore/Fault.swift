/// The routes a fault applies to: `"*"`, one name, or a list.
public enum RouteSelector: Sendable, Hashable {
    case all
    case names([String])

    public func matches(_ route: String) -> Bool {
        switch self {
        case .all: return true
        case .names(let names): return names.contains(route)
        }
    }
}

/// How latency jitter is distributed.
public enum JitterDistribution: String, Sendable, Hashable {
    case uniform
    case normal
}

/// What `refuse` does to connections that are already open.
public enum RefuseExisting: String, Sendable, Hashable {
    case keep
    case reset
}

/// The type-specific part of a fault (SPEC §3.1).
public enum FaultKind: Sendable, Hashable {
    case latency(delay: Duration, jitter: Duration, distribution: JitterDistribution)
    case bandwidth(bytesPerSecond: Int)
    case slicer(averageSize: Int, sizeVariation: Int, delay: Duration)
    case blackhole
    case stall
    case reset(after: Duration, afterBytes: Int?)
    case timeout(Duration)
    case limitData(bytes: Int)
    case slowClose(delay: Duration)
    case refuse(existing: RefuseExisting)
    case connectDelay(Duration)
    case corrupt(bitFlipRate: Double)
    case partition(PartitionFault)
    /// HTTP (SPEC §3.3): answered by the proxy.
    case abort(HTTPAbort)
    /// HTTP: the request forwarded, or the response head passed on, after `delay ± jitter`.
    case delay(delay: Duration, jitter: Duration, phase: DelayPhase)
    /// HTTP: the upstream handles the request; its answer never reaches the client.
    case dropResponse(then: DropThen)
    /// HTTP: the request reaches the upstream `1 + copies` times, `spacing` apart.
    case duplicate(copies: Int, spacing: Duration)
    /// HTTP/2 (SPEC §3.5): the request's stream is reset with RST_STREAM `errorCode`.
    case rstStream(errorCode: UInt32)
    /// HTTP/2: the connection the request came on is sent GOAWAY `errorCode`; `graceful` lets
    /// streams already open finish, otherwise they are cut at once.
    case goaway(errorCode: UInt32, graceful: Bool)
    /// HTTP/2: no WINDOW_UPDATE is sent for the request's stream, so the peer's flow control stalls.
    case windowStall

    /// The `type` string of SPEC §3.
    public var typeName: String {
        switch self {
        case .latency: return "latency"
        case .bandwidth: return "bandwidth"
        case .slicer: return "slicer"
        case .blackhole: return "blackhole"
        case .stall: return "stall"
        case .reset: return "reset"
        case .timeout: return "timeout"
        case .limitData: return "limit_data"
        case .slowClose: return "slow_close"
        case .refuse: return "refuse"
        case .connectDelay: return "connect_delay"
        case .corrupt: return "corrupt"
        case .partition: return "partition"
        case .abort: return "abort"
        case .delay: return "delay"
        case .dropResponse: return "drop_response"
        case .duplicate: return "duplicate"
        case .rstStream: return "rst_stream"
        case .goaway: return "goaway"
        case .windowStall: return "window_stall"
        }
    }

    /// Whether this fault acts on HTTP requests (decided per request by the codec) rather than
    /// on bytes or connections.
    public var isHTTP: Bool {
        switch self {
        case .abort, .delay, .dropResponse, .duplicate, .rstStream, .goaway, .windowStall: return true
        default: return false
        }
    }

    /// Whether this HTTP fault acts only on HTTP/2 streams. An HTTP/1.1 request passes such a
    /// fault over as if its `match` failed (`HTTPFaultDecider.decide(..., http2: false)`).
    public var isHTTP2Only: Bool {
        switch self {
        case .rstStream, .goaway, .windowStall: return true
        default: return false
        }
    }

    /// Every `type` string this build understands.
    public static let typeNames = [
        "latency", "bandwidth", "slicer", "blackhole", "stall", "reset", "timeout", "limit_data",
        "slow_close", "refuse", "connect_delay", "corrupt", "partition",
    ] + httpTypeNames

    /// The `type` strings of HTTP faults.
    public static let httpTypeNames = ["abort", "delay", "drop_response", "duplicate"] + http2TypeNames

    /// The `type` strings of the HTTP faults that act on HTTP/2 streams only.
    public static let http2TypeNames = ["rst_stream", "goaway", "window_stall"]
}

/// One fault: the shared envelope (id, routes, direction, probability) around its kind.
public struct FaultSpec: Sendable, Hashable {
    public var id: String
    public var routes: RouteSelector
    public var direction: Direction
    /// Chance, drawn once per connection and direction from the seeded generator, that the fault applies.
    /// For HTTP faults: drawn per request instead.
    public var probability: Double
    public var kind: FaultKind
    /// HTTP faults: `match`, `attempts`, `mark` (empty for the others).
    public var http: HTTPFaultRule
    /// `for`: how long after it is applied the control side clears the fault (faults applied
    /// through the API only; nil: until cleared). The data path never reads it.
    public var lifetime: Duration?

    public init(
        id: String, routes: RouteSelector = .all, direction: Direction = .both, probability: Double = 1,
        kind: FaultKind, http: HTTPFaultRule = .none, lifetime: Duration? = nil
    ) {
        self.id = id
        self.routes = routes
        self.direction = direction
        self.probability = probability
        self.kind = kind
        self.http = http
        self.lifetime = lifetime
    }
}

extension FaultSpec {
    /// This fault with a partition generator resolved from the seed (other faults unchanged).
    public func resolvingPartitions(nodes: [String], seed: UInt64) -> FaultSpec {
        guard case .partition(let partition) = kind else { return self }
        var copy = self
        copy.kind = .partition(partition.resolving(nodes: nodes, seed: seed, faultID: id))
        return copy
    }
}
