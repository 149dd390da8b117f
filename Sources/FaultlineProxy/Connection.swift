import FaultlineCore
import FaultlineLoop
import FaultlineSystem

/// A proxied connection: the client socket, the upstream socket and two half-streams.
///
/// Owned by one worker; every field is touched only on that worker's thread.
final class Connection {
    enum State {
        /// Waiting for the upstream connect to finish (or for `connect_delay`).
        case connecting
        case open
        case closed
    }

    /// Which socket an event or action concerns.
    enum Side: UInt8 {
        case client = 1
        case upstream = 2
    }

    let slot: UInt32
    let generation: UInt32
    let routeName: String
    /// Order of acceptance on its route (for seeded decisions).
    let serial: UInt64
    let counters: RouteCounters
    /// This worker's part of the route's request log.
    let log: RouteRequestLog
    let peer: SocketAddress
    /// When it was accepted (the loop's clock).
    let acceptedAt: UInt64
    /// For the request log of a tcp route: how the attempt ended, when a fault or the connect
    /// decided it, and the first fault bound to it.
    var logOutcome: RequestOutcome?
    var logFault: String?
    var state: State = .connecting

    var client: FileDescriptor?
    var upstream: FileDescriptor?
    var clientRegistration: Registration?
    var upstreamRegistration: Registration?

    var clientReadable = false
    var clientWritable = false
    var upstreamReadable = false
    var upstreamWritable = false
    /// epoll reported RDHUP/HUP/ERR for the side: read it until 0 or an error, never trusting a
    /// short read to mean "drained" (the FIN may have come with the last bytes).
    var clientHangup = false
    var upstreamHangup = false

    /// client → service
    var up = HalfStream(flow: .upstream)
    /// service → client
    var down = HalfStream(flow: .downstream)

    /// The nodes this connection links, for partitions.
    var link = Link()
    /// The addresses the upstream connect tries, in order, and the next one to try.
    var upstreamCandidates: [SocketAddress] = []
    var nextCandidate = 0
    /// The connect waits for the upstream's host name to resolve.
    var awaitingResolution = false
    /// When the wait in progress (for the name, or for one address) times out; earlier
    /// connect-timeout timers belong to waits that moved on.
    var connectDeadline: UInt64 = 0
    /// The upstream connect waits for a partition to heal.
    var connectHeld = false
    /// A `connect_delay` timer is pending.
    var connectDelayPending = false
    /// The faults bound to this connection by the current plan (boxed: nil when none).
    private var policyBox: PolicyBox?
    var policy: ConnectionPolicy {
        get { policyBox?.policy ?? PolicyBox.empty }
        set { policyBox = newValue == PolicyBox.empty ? nil : PolicyBox(policy: newValue) }
    }
    /// The plan changed since this connection was planned, and its re-plan waits for its next
    /// event (see `Worker.install`): nothing was bound to it and nothing the change brought acts
    /// on a connection that moves no bytes.
    var planStale = false
    /// Nothing holds this connection for a fault: no policy bound, no connect held or delayed.
    var replanCanWait: Bool { policyBox == nil && !connectHeld && !connectDelayPending }
    /// `fault.injected` journal events written for this connection (they are rate-limited).
    var journaledInjections = 0

    var onReadyList = false
    /// The HTTP/1.1 codec of an `http` route's connection; nil on tcp routes.
    var http: HTTPSessionBox?
    /// The HTTP/2 engine of an `http` route's connection that spoke HTTP/2; nil otherwise.
    var h2: H2Bridge?
    /// An http connection's upstream connect is in progress.
    var httpUpstreamConnecting: Bool {
        http?.machine.upstream == .connecting || h2?.upstreamPhase == .connecting
    }
    /// The TLS sessions of a route with TLS (either side); nil on plain routes.
    var tls: ConnectionTLS?
    /// An http route's connection that ends before it became one (its TLS handshake failed):
    /// the request log holds requests, so nothing is logged for it.
    var skipsAttemptLog = false
    /// An `http` route's connection: its bytes go through the codec (the session is made when the
    /// first bytes arrive, so an idle connection carries none).
    var isHTTP = false

    init(
        slot: UInt32, generation: UInt32, routeName: String, serial: UInt64,
        counters: RouteCounters, log: RouteRequestLog, client: consuming FileDescriptor, peer: SocketAddress,
        acceptedAt: UInt64
    ) {
        self.log = log
        self.acceptedAt = acceptedAt
        self.slot = slot
        self.generation = generation
        self.routeName = routeName
        self.serial = serial
        self.counters = counters
        self.client = consume client
        self.peer = peer
    }
}

@available(*, unavailable)
extension Connection: Sendable {}

extension Connection {
    /// Lends one side's socket to `body`; nil when that socket is already closed.
    @inline(__always)
    func withSocket<R, E: Error>(_ side: Side, _ body: (borrowing FileDescriptor) throws(E) -> R) throws(E) -> R? {
        switch side {
        case .client:
            switch client {
            case .some(let fd): return try body(fd)
            case .none: return nil
            }
        case .upstream:
            switch upstream {
            case .some(let fd): return try body(fd)
            case .none: return nil
            }
        }
    }

    /// The side's socket would block on write: wait for EPOLLOUT.
    @inline(__always)
    func setBlocked(_ side: Side) {
        if side == .upstream { upstreamWritable = false } else { clientWritable = false }
    }

    /// The client's address for the request log.
    var source: SourceAddress { SourceAddress(address: IPAddress(peer), port: peer.port) }

    /// The other side.
    static func opposite(_ side: Side) -> Side { side == .client ? .upstream : .client }
}

/// Heap storage for a connection's fault policy, allocated only when a fault is bound.
final class PolicyBox {
    static let empty = ConnectionPolicy()
    let policy: ConnectionPolicy

    init(policy: ConnectionPolicy) {
        self.policy = policy
    }
}

@available(*, unavailable)
extension PolicyBox: Sendable {}
