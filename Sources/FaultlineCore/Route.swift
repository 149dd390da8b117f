/// What a route speaks on its listener.
public enum RouteProtocol: String, Sendable, Hashable, CaseIterable {
    case tcp
    case http
    case grpc

    /// Whether the route speaks HTTP (`http`, and `grpc`, which is HTTP/2 with gRPC-aware aborts).
    public var isHTTP: Bool { self != .tcp }
}

/// What an http or grpc route speaks to its upstream (SPEC §3.5 `upstream_protocol`).
public enum UpstreamProtocol: String, Sendable, Hashable, CaseIterable {
    /// HTTP/1.1.
    case http1
    /// HTTP/2 (prior knowledge in clear text, ALPN `h2` under TLS).
    case h2
}

/// One listener and the upstream it forwards to (SPEC §2 `routes[]`).
public struct RouteSpec: Sendable, Hashable {
    public var name: String
    public var listen: Endpoint
    /// An IP endpoint or a DNS name and port, as written.
    public var upstream: UpstreamAddress
    public var protocolKind: RouteProtocol
    /// Node names the route links, used by partitions.
    public var from: String?
    public var to: String?
    public var enabled: Bool
    /// TLS terminated on the listener; nil: the listener speaks plain TCP.
    public var tls: TLSSettings?
    /// TLS originated to the upstream; nil: plain TCP to the upstream.
    public var upstreamTLS: UpstreamTLSSettings?
    /// http and grpc routes: the protocol spoken to the upstream; nil: the one the client used.
    public var upstreamProtocol: UpstreamProtocol?

    public init(
        name: String, listen: Endpoint, upstream: UpstreamAddress, protocolKind: RouteProtocol = .tcp,
        from: String? = nil, to: String? = nil, enabled: Bool = true,
        tls: TLSSettings? = nil, upstreamTLS: UpstreamTLSSettings? = nil, upstreamProtocol: UpstreamProtocol? = nil
    ) {
        self.upstreamProtocol = upstreamProtocol
        self.tls = tls
        self.upstreamTLS = upstreamTLS
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.protocolKind = protocolKind
        self.from = from
        self.to = to
        self.enabled = enabled
    }
}

/// Daemon-wide limits (SPEC §2 `limits`).
public struct Limits: Sendable, Hashable {
    public var maxConnections: Int
    public var connectTimeout: Duration
    public var shutdownGrace: Duration
    /// Size of each pooled relay buffer; one per busy half-stream.
    public var bufferBytes: Int
    /// Entries each route's request log keeps (SPEC §3.4); 0 turns the log off.
    public var requestLog: Int
    /// How long a TLS handshake (either side) may take before the connection is closed.
    public var tlsHandshakeTimeout: Duration
    /// Bytes a latency fault may hold in one direction of one connection (its queue and the
    /// relay buffer together); beyond it the direction stops reading.
    public var latencyQueueBytes: Int

    public static let defaults = Limits(
        maxConnections: 100_000, connectTimeout: .seconds(5), shutdownGrace: .seconds(10), bufferBytes: 262_144
    )

    public init(
        maxConnections: Int, connectTimeout: Duration, shutdownGrace: Duration, bufferBytes: Int, requestLog: Int = 100_000,
        tlsHandshakeTimeout: Duration = .seconds(10), latencyQueueBytes: Int = 8_388_608
    ) {
        self.latencyQueueBytes = latencyQueueBytes
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.maxConnections = maxConnections
        self.connectTimeout = connectTimeout
        self.shutdownGrace = shutdownGrace
        self.bufferBytes = bufferBytes
        self.requestLog = requestLog
    }
}
