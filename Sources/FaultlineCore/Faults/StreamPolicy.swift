/// A fault's parameters together with the id of the fault they came from.
public struct Bound<Value: Sendable & Hashable>: Sendable, Hashable {
    public var faultID: String
    public var value: Value

    public init(_ faultID: String, _ value: Value) {
        self.faultID = faultID
        self.value = value
    }
}

/// `reset` parameters.
public struct ResetTrigger: Sendable, Hashable {
    /// Wait after the trigger (or after the fault takes effect, without `afterBytes`).
    public var after: Duration
    /// Reset once this many bytes have passed in the direction.
    public var afterBytes: Int?

    public init(after: Duration, afterBytes: Int?) {
        self.after = after
        self.afterBytes = afterBytes
    }
}

/// The faults in force on one direction of one connection, after the probability draws.
///
/// For each type the most recently applied fault that covers the direction acts; an empty
/// policy is a clean relay.
public struct StreamPolicy: Sendable, Hashable {
    public var latency: Bound<Latency>?
    public var bandwidth: Bound<Int>?
    public var slicer: Bound<Slicer>?
    public var blackhole: Bound<Bool>?
    public var stall: Bound<Bool>?
    public var reset: Bound<ResetTrigger>?
    public var timeout: Bound<Duration>?
    public var limitData: Bound<Int>?
    public var slowClose: Bound<Duration>?
    public var corrupt: Bound<Double>?
    /// A blackhole partition cuts this direction: bytes are dropped and not even a FIN passes
    /// until it heals.
    public var partitioned: Bound<Bool>?

    public init() {}

    /// No fault acts on this direction.
    public var isEmpty: Bool { self == StreamPolicy() }
}

/// Everything the faults decide for one connection.
public struct ConnectionPolicy: Sendable, Hashable {
    /// client → service
    public var upstream = StreamPolicy()
    /// service → client
    public var downstream = StreamPolicy()
    /// New connections are reset on accept.
    public var refuse: Bound<RefuseExisting>?
    /// The upstream connect waits this long.
    public var connectDelay: Bound<Duration>?
    /// A blackhole partition blocks the link: the upstream is not dialled until it heals.
    public var holdConnect: Bound<Bool>?
    /// Every (fault, direction) that the draws bound to this connection, in plan order;
    /// `flow` is nil for connection-level faults. Each is one injection.
    public var bindings: [FaultBinding] = []

    public init() {}

    public func stream(_ flow: Flow) -> StreamPolicy {
        flow == .upstream ? upstream : downstream
    }
}

/// One fault bound to one connection (and direction).
public struct FaultBinding: Sendable, Hashable {
    public var faultID: String
    public var type: String
    public var flow: Flow?

    public init(faultID: String, type: String, flow: Flow?) {
        self.faultID = faultID
        self.type = type
        self.flow = flow
    }
}

/// The two nodes a connection links: the route's `from` (or the caller's node, learned from its
/// address) and the route's `to`.
public struct Link: Sendable, Hashable {
    public var from: String?
    public var to: String?

    public init(from: String? = nil, to: String? = nil) {
        self.from = from
        self.to = to
    }
}

/// Decides which faults act on a connection: a pure function of the plan's faults, the seed
/// and the connection's serial, so one seed replays the same decisions on any worker.
public enum PolicyCompiler {
    /// RNG stream of the per-connection draw for each direction (0, 1) and for the connection (2).
    static func drawStream(_ flow: Flow?) -> UInt64 { flow.map { UInt64($0.rawValue) } ?? 2 }

    /// RNG stream for per-chunk decisions (latency jitter, slice sizes, bit flips) of a direction.
    public static func chunkStream(_ flow: Flow) -> UInt64 { 10 + UInt64(flow.rawValue) }

    /// Whether `fault` acts on this connection's `flow` (nil: the connection as a whole).
    public static func draws(_ fault: FaultSpec, seed: UInt64, serial: UInt64, flow: Flow?) -> Bool {
        var rng = DecisionRNG(seed: seed, faultID: fault.id, serial: serial, stream: drawStream(flow))
        return rng.chance(fault.probability)
    }

    /// The faults bound to connection `serial` of a route whose link is `link`.
    public static func compile(faults: [FaultSpec], seed: UInt64, serial: UInt64, link: Link = Link()) -> ConnectionPolicy {
        var policy = ConnectionPolicy()
        for fault in faults {
            switch fault.kind {
            case .partition(let partition):
                guard let blocked = partition.blocks(from: link.from, to: link.to) else { continue }
                switch partition.mode {
                case .reset:
                    policy.refuse = Bound(fault.id, .reset)
                    policy.bindings.append(FaultBinding(faultID: fault.id, type: fault.kind.typeName, flow: nil))
                case .blackhole:
                    // Blocked both ways, the upstream is not even dialled (as across a real cut).
                    // One way, it must be: the other direction still carries bytes.
                    if blocked == .both { policy.holdConnect = Bound(fault.id, true) }
                    for flow in Flow.allCases where blocked.covers(flow) {
                        if flow == .upstream {
                            policy.upstream.partitioned = Bound(fault.id, true)
                        } else {
                            policy.downstream.partitioned = Bound(fault.id, true)
                        }
                        policy.bindings.append(FaultBinding(faultID: fault.id, type: fault.kind.typeName, flow: flow))
                    }
                }
            case .refuse(let existing):
                if draws(fault, seed: seed, serial: serial, flow: nil) {
                    policy.refuse = Bound(fault.id, existing)
                    policy.bindings.append(FaultBinding(faultID: fault.id, type: fault.kind.typeName, flow: nil))
                }
            case .connectDelay(let delay):
                if draws(fault, seed: seed, serial: serial, flow: nil) {
                    policy.connectDelay = Bound(fault.id, delay)
                    policy.bindings.append(FaultBinding(faultID: fault.id, type: fault.kind.typeName, flow: nil))
                }
            case .abort, .delay, .dropResponse, .duplicate:
                // Decided per request by the HTTP codec (HTTPFaultDecider), not per connection.
                continue
            default:
                for flow in Flow.allCases where fault.direction.covers(flow) {
                    guard draws(fault, seed: seed, serial: serial, flow: flow) else { continue }
                    if flow == .upstream {
                        bind(fault, into: &policy.upstream)
                    } else {
                        bind(fault, into: &policy.downstream)
                    }
                    policy.bindings.append(FaultBinding(faultID: fault.id, type: fault.kind.typeName, flow: flow))
                }
            }
        }
        return policy
    }

    private static func bind(_ fault: FaultSpec, into stream: inout StreamPolicy) {
        let id = fault.id
        switch fault.kind {
        case .latency(let delay, let jitter, let distribution):
            stream.latency = Bound(id, Latency(delay: delay, jitter: jitter, distribution: distribution))
        case .bandwidth(let rate): stream.bandwidth = Bound(id, rate)
        case .slicer(let size, let variation, let delay):
            stream.slicer = Bound(id, Slicer(averageSize: size, sizeVariation: variation, delay: delay))
        case .blackhole: stream.blackhole = Bound(id, true)
        case .stall: stream.stall = Bound(id, true)
        case .reset(let after, let afterBytes): stream.reset = Bound(id, ResetTrigger(after: after, afterBytes: afterBytes))
        case .timeout(let timeout): stream.timeout = Bound(id, timeout)
        case .limitData(let bytes): stream.limitData = Bound(id, bytes)
        case .slowClose(let delay): stream.slowClose = Bound(id, delay)
        case .corrupt(let rate): stream.corrupt = Bound(id, rate)
        case .refuse, .connectDelay, .partition, .abort, .delay, .dropResponse, .duplicate, .rstStream, .goaway, .windowStall:
            break
        }
    }
}
