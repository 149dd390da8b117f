public import FaultlineConfig
public import FaultlineCore

/// A route as the daemon reports it: its config entry, the address it actually listens on, and
/// where it came from.
public struct RouteInfo: Sendable, Hashable {
    /// Where a route was defined.
    public enum Origin: String, Sendable, Hashable {
        /// The config file.
        case config
        /// The control API (`addRoute`).
        case runtime
    }

    /// The route as configured (`listen` may have port 0).
    public var spec: RouteSpec
    /// The address the listener is bound to, port 0 resolved; nil while the route is disabled.
    public var bound: Endpoint?
    /// Where the route was defined.
    public var origin: Origin

    /// A route from its parts.
    public init(spec: RouteSpec, bound: Endpoint?, origin: Origin) {
        self.spec = spec
        self.bound = bound
        self.origin = origin
    }

    /// The route's name.
    public var name: String { spec.name }

    /// Whether the route is listening.
    public var enabled: Bool { spec.enabled }

    /// Reads one route object of `GET /v1/routes`.
    /// - Throws: `FaultlineClientError` of kind `.invalidResponse` naming the member that is
    ///   missing or malformed.
    public init(json: JSONValue) throws(FaultlineClientError) {
        let reader = try AnswerReader(json, what: "a route")
        let name = try reader.string("name")
        func endpoint(_ key: String) throws(FaultlineClientError) -> Endpoint? {
            guard let text = try reader.optionalString(key) else { return nil }
            guard let endpoint = Endpoint(parsing: text) else {
                throw .invalidResponse("\"\(key)\" of route \(name) is not host:port: \(text)")
            }
            return endpoint
        }
        guard let listen = try endpoint("listen") else { throw .invalidResponse("route \(name) has no \"listen\"") }
        guard let upstreamText = try reader.optionalString("upstream") else { throw .invalidResponse("route \(name) has no \"upstream\"") }
        guard let upstream = UpstreamAddress(parsing: upstreamText) else {
            throw .invalidResponse("\"upstream\" of route \(name) is not host:port: \(upstreamText)")
        }
        let protocolName = try reader.string("protocol")
        guard let protocolKind = RouteProtocol(rawValue: protocolName) else {
            throw .invalidResponse("route \(name) has unknown protocol \"\(protocolName)\"")
        }
        var upstreamProtocol: UpstreamProtocol?
        if let upstreamProtocolName = try reader.optionalString("upstream_protocol") {
            guard let known = UpstreamProtocol(rawValue: upstreamProtocolName) else {
                throw .invalidResponse("route \(name) has unknown upstream_protocol \"\(upstreamProtocolName)\"")
            }
            upstreamProtocol = known
        }
        let originName = try reader.string("origin")
        guard let origin = Origin(rawValue: originName) else {
            throw .invalidResponse("route \(name) has unknown origin \"\(originName)\"")
        }
        spec = RouteSpec(
            name: name, listen: listen, upstream: upstream, protocolKind: protocolKind,
            from: try reader.optionalString("from"), to: try reader.optionalString("to"), enabled: try reader.bool("enabled"),
            tls: try Self.tls(reader.object["tls"], route: name),
            upstreamTLS: try Self.upstreamTLS(reader.object["upstream_tls"], route: name), upstreamProtocol: upstreamProtocol
        )
        bound = try endpoint("bound")
        self.origin = origin
    }

    /// `tls` as the daemon shows it (`cert`, `alpn`); the key is never shown, so `key` is empty.
    private static func tls(_ value: JSONValue?, route: String) throws(FaultlineClientError) -> TLSSettings? {
        guard let value, !value.isNull else { return nil }
        let reader = try AnswerReader(value, what: "the tls of route \(route)")
        return TLSSettings(certificate: try reader.string("cert"), key: "", alpn: try alpn(reader))
    }

    private static func upstreamTLS(_ value: JSONValue?, route: String) throws(FaultlineClientError) -> UpstreamTLSSettings? {
        guard let value, !value.isNull else { return nil }
        let reader = try AnswerReader(value, what: "the upstream_tls of route \(route)")
        return UpstreamTLSSettings(
            ca: try reader.optionalString("ca"), serverName: try reader.optionalString("sni"),
            verify: try reader.bool("verify"), alpn: try alpn(reader))
    }

    private static func alpn(_ reader: AnswerReader) throws(FaultlineClientError) -> [String] {
        var names: [String] = []
        for item in try reader.array("alpn") {
            guard let name = item.stringValue else { throw .invalidResponse("\(reader.what): alpn holds a \(item.kindName)") }
            names.append(name)
        }
        return names
    }
}
