/// `abort`: the proxy answers; the upstream never sees the request.
public struct HTTPAbort: Sendable, Hashable {
    /// 200–599.
    public var status: Int
    public var body: String
    /// Extra response headers, in order.
    public var headers: [HTTPHeaderPair]
    /// gRPC routes: answer trailers-only with `grpc-status` (0–16, `GRPCStatusCode`); nil: a
    /// plain HTTP answer.
    public var grpcStatus: Int?
    /// The `grpc-message` sent with `grpcStatus` (empty: none).
    public var grpcMessage: String

    public init(
        status: Int, body: String = "", headers: [HTTPHeaderPair] = [], grpcStatus: Int? = nil, grpcMessage: String = ""
    ) {
        self.status = status
        self.body = body
        self.headers = headers
        self.grpcStatus = grpcStatus
        self.grpcMessage = grpcMessage
    }
}

/// When `delay` holds: before the request is forwarded, or before the response head is passed on.
public enum DelayPhase: String, Sendable, Hashable, CaseIterable {
    case request
    case response
}

/// What the client gets after `drop_response` swallowed the answer.
public enum DropThen: String, Sendable, Hashable, CaseIterable {
    /// An RST.
    case reset
    /// A FIN.
    case close
    /// Nothing: the connection stays open and silent until the client gives up.
    case hang
}
