import Synchronization

/// One request the test upstream read completely (head and body), in arrival order.
public struct HTTPUpstreamRequest: Sendable, CustomStringConvertible {
    /// The upstream connection it came on: 0 for the first accepted, 1 for the next, …
    public var connection: Int
    /// Its index on that connection (0-based).
    public var index: Int
    public var method: String
    /// The request target as sent (path and query).
    public var target: String
    public var version: String
    public var fields: [HTTPField]
    /// The head exactly as received.
    public var rawHead: [UInt8]
    /// The decoded body's length and lowercase hex SHA-256.
    public var bodyLength: Int
    public var bodySHA256: String
    /// Whether the body came chunked (and in how many chunks).
    public var chunked: Bool
    public var chunkCount: Int
    public var trailers: [HTTPField]

    /// The target before `?`.
    public var path: String { String(target.prefix { $0 != "?" }) }

    /// The first value of the field `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var description: String {
        "#\(connection).\(index) \(method) \(target) (\(bodyLength) bytes\(chunked ? ", chunked" : ""))"
    }
}

/// Something the test upstream refused to parse: proof that a malformed message got through.
public struct HTTPUpstreamRejection: Sendable, CustomStringConvertible {
    public var connection: Int
    /// The rule broken, as `HTTPWireError` words it.
    public var reason: String
    /// The first bytes of what was refused (up to 512).
    public var prefix: [UInt8]

    public var description: String {
        "#\(connection): \(reason) in \(String(decoding: prefix, as: UTF8.self).debugDescription)"
    }
}

/// Everything the upstream saw, behind one lock.
final class HTTPUpstreamLog: Sendable {
    struct State {
        var requests: [HTTPUpstreamRequest] = []
        var rejections: [HTTPUpstreamRejection] = []
        var sideEffects: [String: Int] = [:]
        var connectionsAccepted = 0
        var connectionsOpen = 0
        var bytesReceived = 0
    }

    let state = Mutex(State())

    func update<R>(_ body: (inout State) -> R) -> R {
        state.withLock { body(&$0) }
    }

    var snapshot: State { state.withLock { $0 } }
}
