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
    /// Whether the config has a `control` section. Without one the daemon listens on
    /// `defaultUnixSocket(effectiveUID:runtimeDirectory:)`.
    public var isGiven: Bool

    /// A control section; every part defaults to absent.
    public init(
        unixSocket: String? = nil, httpListen: Endpoint? = nil, tokenFile: String? = nil, allowedUIDs: [UInt32] = [],
        isGiven: Bool = false
    ) {
        self.unixSocket = unixSocket
        self.httpListen = httpListen
        self.tokenFile = tokenFile
        self.allowedUIDs = allowedUIDs
        self.isGiven = isGiven
    }

    /// Where the control socket is when the config has no `control` section, and where
    /// `faultctl` looks when told nothing: `$RUNTIME_DIRECTORY/control.sock` when systemd gave
    /// the service a `RuntimeDirectory=` (so a unit with `DynamicUser=` works), else
    /// `/run/faultline/control.sock` for root and `$XDG_RUNTIME_DIR/faultline/control.sock` for
    /// anyone else; nil for a user without `XDG_RUNTIME_DIR`. Relative directories are ignored
    /// (the XDG spec says so).
    public static func defaultUnixSocket(
        effectiveUID: UInt32, runtimeDirectory: String?, serviceRuntimeDirectory: String? = nil
    ) -> String? {
        func absolute(_ directory: String?) -> String? {
            guard let directory, directory.hasPrefix("/") else { return nil }
            return directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        }
        // systemd may list several directories, separated by colons; the first is the unit's own.
        if let service = absolute(serviceRuntimeDirectory?.split(separator: ":").first.map(String.init)) {
            return service + "/control.sock"
        }
        if effectiveUID == 0 { return "/run/faultline/control.sock" }
        guard let directory = absolute(runtimeDirectory) else { return nil }
        return directory + "/faultline/control.sock"
    }
}
