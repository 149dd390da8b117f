public import FaultlineCore

/// Where and for whom the control API listens (SPEC §2 `control`, §4).
public struct ControlConfig: Sendable, Hashable {
    /// Path of the Unix socket (mode 0600); nil for none.
    public var unixSocket: String?
    /// TCP listener for the API; nil for none. A non-loopback address requires `tokenFile`.
    public var httpListen: Endpoint?
    /// File holding the bearer token required on the TCP listener.
    public var tokenFile: String?
    /// Uids, besides root and the daemon's own, allowed on the Unix socket.
    public var allowedUIDs: [UInt32]

    /// A control section; every part defaults to absent.
    public init(
        unixSocket: String? = nil, httpListen: Endpoint? = nil, tokenFile: String? = nil, allowedUIDs: [UInt32] = []
    ) {
        self.unixSocket = unixSocket
        self.httpListen = httpListen
        self.tokenFile = tokenFile
        self.allowedUIDs = allowedUIDs
    }
}
