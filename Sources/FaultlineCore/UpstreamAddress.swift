/// Where a route forwards to: an IP literal and port, or a DNS name and port that the proxy
/// resolves when it connects (Toxiproxy's `"upstream": "redis:6379"`).
///
/// Kept as written: `localhost:6379` stays `localhost:6379` in the API, and is resolved like
/// any other name.
public struct UpstreamAddress: Sendable, Hashable {
    /// The host part.
    public enum Host: Sendable, Hashable {
        /// An IP literal: connected to as is.
        case address(IPAddress)
        /// A DNS name: resolved (getaddrinfo) off the workers' loops.
        case name(String)
    }

    public var host: Host
    public var port: UInt16

    public init(host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// An IP endpoint.
    public init(_ endpoint: Endpoint) {
        self.init(host: .address(endpoint.address), port: endpoint.port)
    }

    /// Parses `host:port`: an IP literal (IPv6 in brackets) or a DNS name (`localhost` included).
    public init?(parsing text: String) {
        if !text.hasPrefix("["), let colon = text.lastIndex(of: ":") {
            let host = String(text[..<colon])
            let portText = text[text.index(after: colon)...]
            if Self.isHostName(host) {
                guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                      let port = UInt16(portText) else { return nil }
                self.init(host: .name(host), port: port)
                return
            }
        }
        guard let endpoint = Endpoint(parsing: text) else { return nil }
        self.init(endpoint)
    }

    /// The IP endpoint; nil for a name.
    public var endpoint: Endpoint? {
        if case .address(let address) = host { return Endpoint(address: address, port: port) }
        return nil
    }

    /// The host as written: the name, or the IP address without brackets.
    public var hostText: String {
        switch host {
        case .address(let address): return address.description
        case .name(let name): return name
        }
    }

    /// A DNS name: dot-separated labels of 1–63 letters, digits, hyphens (not first or last) and
    /// underscores (docker-compose service names use them, and glibc resolves them), at most 253
    /// characters. The last label is not all digits, so `10.0.0` (which getaddrinfo would read as
    /// an address) and other malformed IPv4 literals are not names.
    public static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-",
                  label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return false }
        }
        return !labels.last!.allSatisfy({ $0.isNumber })
    }
}

extension UpstreamAddress: CustomStringConvertible {
    public var description: String {
        switch host {
        case .address(let address): return Endpoint(address: address, port: port).description
        case .name(let name): return "\(name):\(port)"
        }
    }
}
