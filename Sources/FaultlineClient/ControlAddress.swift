/// Where the daemon's control API listens.
public enum ControlAddress: Sendable, Hashable, CustomStringConvertible {
    /// The Unix socket at this path (`control.unix_socket`).
    case unixSocket(path: String)
    /// A TCP listener (`control.http_listen`): a host name or IP literal (IPv6 without brackets)
    /// and a port.
    case tcp(host: String, port: UInt16)

    /// Parses `http://HOST:PORT` (a trailing `/` allowed), also without the scheme. IPv6 hosts go
    /// in brackets (`http://[::1]:8474`); a missing port means 80.
    /// - Throws: `FaultlineClientError` of kind `.invalidRequest` for another scheme, a path, or a
    ///   bad port.
    public init(url: String) throws(FaultlineClientError) {
        var rest = Substring(url)
        if let schemeEnd = rest.firstRange(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            guard scheme == "http" else {
                throw .invalidRequest("unsupported URL scheme \"\(scheme)\" in \(url) (only http)")
            }
            rest = rest[schemeEnd.upperBound...]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("?"), !rest.contains("@") else {
            throw .invalidRequest("expected http://HOST:PORT, got \(url)")
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidRequest("unclosed [ in \(url)") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidRequest("expected :PORT after ] in \(url)") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        var port: UInt16 = 80
        if let portText {
            guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt16(portText) else {
                throw .invalidRequest("\"\(portText)\" is not a port in \(url)")
            }
            port = value
        }
        guard !host.isEmpty else { throw .invalidRequest("no host in \(url)") }
        self = .tcp(host: String(host), port: port)
    }

    /// The `Host` header for requests to this address (`localhost` on a Unix socket).
    var hostHeader: String {
        switch self {
        case .unixSocket: return "localhost"
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// The socket path, or `http://host:port`.
    public var description: String {
        switch self {
        case .unixSocket(let path): return path
        case .tcp: return "http://\(hostHeader)"
        }
    }
}
