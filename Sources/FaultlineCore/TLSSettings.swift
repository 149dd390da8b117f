/// TLS termination on a route's listener (SPEC §3.6 `routes[].tls`).
///
/// Files are named, not read: the proxy reads them when it builds the route (at start, on a
/// reload, when the route is added) and reports a file it cannot use as a config error.
public struct TLSSettings: Sendable, Hashable {
    /// PEM certificate chain (leaf first).
    public var certificate: String
    /// PEM private key of the leaf certificate.
    public var key: String
    /// ALPN protocols the listener accepts, in its order of preference; empty: no ALPN.
    public var alpn: [String]

    public init(certificate: String, key: String, alpn: [String] = []) {
        self.certificate = certificate
        self.key = key
        self.alpn = alpn
    }
}

/// TLS origination to a route's upstream (SPEC §3.6 `routes[].upstream_tls`).
public struct UpstreamTLSSettings: Sendable, Hashable {
    /// PEM file of the CAs that may sign the upstream's certificate; nil: the system's CAs.
    public var ca: String?
    /// Server name sent (SNI) and checked against the certificate; nil: the upstream's address
    /// is checked (an IP address is never sent as SNI).
    public var serverName: String?
    /// Whether the upstream's certificate is verified (on unless said otherwise).
    public var verify: Bool
    /// ALPN protocols offered, in order; empty: none.
    public var alpn: [String]

    public init(ca: String? = nil, serverName: String? = nil, verify: Bool = true, alpn: [String] = []) {
        self.ca = ca
        self.serverName = serverName
        self.verify = verify
        self.alpn = alpn
    }
}

/// The ALPN protocol names a route may list.
public enum ALPNProtocol {
    public static let http2 = "h2"
    public static let http11 = "http/1.1"
    public static let all = [http2, http11]
}
