/// One entry of a route's request log (SPEC §3.4): a finished HTTP request, or a tcp connection
/// attempt. Written by the workers, read by the control side and the report.
public struct RequestRecord: Sendable, Hashable {
    /// Route-wide order of recording (1, 2, …), shared by every worker.
    public var seq: UInt64
    /// When the request head (or the connection) arrived: nanoseconds since the Unix epoch, UTC.
    public var timestamp: Int64
    public var route: String
    /// The connection's serial on its route.
    public var conn: UInt64
    /// The request's index on its connection (0 for a tcp attempt).
    public var request: UInt64
    /// The client's address and port.
    public var source: SourceAddress
    /// The HTTP part; nil for a tcp connection attempt.
    public var http: HTTPPart?
    /// What the client got.
    public var outcome: RequestOutcome
    /// The fault that acted on it, if one did.
    public var fault: String?
    /// From forwarding the request to the upstream's answer head; nil without an upstream leg.
    public var upstreamNanoseconds: UInt64?
    /// From the request head (or the accept) to the end of the client's answer (or the close).
    public var totalNanoseconds: UInt64
    /// A gRPC call's `grpc-status` (from its trailers, or a trailers-only answer); nil otherwise.
    public var grpcStatus: Int?

    /// Method, path and the headers that identify an attempt.
    public struct HTTPPart: Sendable, Hashable {
        public var method: String
        /// The request-target before `?`.
        public var path: String
        public var keys: RequestKeys

        public init(method: String, path: String, keys: RequestKeys = RequestKeys()) {
            self.method = method
            self.path = path
            self.keys = keys
        }
    }

    public init(
        seq: UInt64, timestamp: Int64, route: String, conn: UInt64, request: UInt64, source: SourceAddress,
        http: HTTPPart?, outcome: RequestOutcome, fault: String?, upstreamNanoseconds: UInt64?, totalNanoseconds: UInt64,
        grpcStatus: Int? = nil
    ) {
        self.grpcStatus = grpcStatus
        self.seq = seq
        self.timestamp = timestamp
        self.route = route
        self.conn = conn
        self.request = request
        self.source = source
        self.http = http
        self.outcome = outcome
        self.fault = fault
        self.upstreamNanoseconds = upstreamNanoseconds
        self.totalNanoseconds = totalNanoseconds
    }

    /// The attempt failed: its outcome did (a 5xx, 429, 408, a reset, …), or its gRPC status did.
    public var isFailure: Bool { outcome.isFailure || grpcStatus.map(GRPCStatusCode.isFailure) == true }

    /// When the client's answer ended (or the connection closed).
    public var endTimestamp: Int64 { timestamp &+ Int64(clamping: totalNanoseconds) }
}

/// The request headers the log keeps, by which the report groups attempts.
public struct RequestKeys: Sendable, Hashable {
    /// `Idempotency-Key`
    public var idempotencyKey: String?
    /// `X-Request-Id`
    public var requestID: String?
    /// `traceparent`
    public var traceparent: String?

    /// The header names, lowercased, in the order of the fields above.
    public static let headerNames = ["idempotency-key", "x-request-id", "traceparent"]

    public init(idempotencyKey: String? = nil, requestID: String? = nil, traceparent: String? = nil) {
        self.idempotencyKey = idempotencyKey
        self.requestID = requestID
        self.traceparent = traceparent
    }
}

/// A client's address: kept as bytes on the hot path, formatted when read.
public struct SourceAddress: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress?
    public var port: UInt16

    public init(address: IPAddress?, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// The address alone (`127.0.0.1`, `::1`), or `unknown`: the report's "client".
    public var host: String { address.map(\.description) ?? "unknown" }

    /// `127.0.0.1:5123`, `[::1]:5123`.
    public var description: String {
        switch address {
        case .v6?: return "[\(host)]:\(port)"
        default: return "\(host):\(port)"
        }
    }
}

/// What the client got: an HTTP status or how the exchange ended without one; for a tcp
/// connection attempt, what became of the connection.
public enum RequestOutcome: Sendable, Hashable {
    case status(Int)
    /// The client's connection was reset.
    case reset
    /// The connection closed without an answer.
    case closed
    /// `drop_response` with `then: hang`: the answer never came.
    case hang
    /// The client left before its answer was complete.
    case abortedByClient
    /// tcp: the connection reached the upstream and ended normally.
    case relayed
    /// tcp: a `refuse` fault, or the upstream refused the connect.
    case refused
    /// tcp: a `timeout` fault or the upstream connect timed out.
    case timedOut
    /// tcp: a partition held or cut it.
    case partitioned

    /// The JSON spelling of a non-status outcome (`reset`, `aborted_by_client`, `timed_out`, …).
    public var label: String {
        switch self {
        case .status(let code): return String(code)
        case .reset: return "reset"
        case .closed: return "closed"
        case .hang: return "hang"
        case .abortedByClient: return "aborted_by_client"
        case .relayed: return "relayed"
        case .refused: return "refused"
        case .timedOut: return "timed_out"
        case .partitioned: return "partitioned"
        }
    }

    /// Parses `label` back (a number is a status).
    public init?(label: String) {
        if let code = Int(label) {
            self = .status(code)
            return
        }
        switch label {
        case "reset": self = .reset
        case "closed": self = .closed
        case "hang": self = .hang
        case "aborted_by_client": self = .abortedByClient
        case "relayed": self = .relayed
        case "refused": self = .refused
        case "timed_out": self = .timedOut
        case "partitioned": self = .partitioned
        default: return nil
        }
    }

    /// A failure the client would retry: 5xx, 429, 408, or no answer at all.
    public var isFailure: Bool {
        switch self {
        case .status(let code): return code >= 500 || code == 429 || code == 408
        case .relayed: return false
        default: return true
        }
    }
}
