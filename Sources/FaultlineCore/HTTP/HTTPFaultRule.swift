/// A header name and value, as Core sees them (names compared case-insensitively).
public struct HTTPHeaderPair: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One header condition of a `match`: the header is present (`value` nil, written `"*"`) or has
/// exactly this value.
public struct HTTPHeaderMatch: Sendable, Hashable {
    /// Lowercased.
    public var name: String
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name.lowercased()
        self.value = value
    }
}

/// Which requests an HTTP fault acts on (SPEC §3.3 `match`); every given field must match.
public struct HTTPMatch: Sendable, Hashable {
    /// Any of these methods (case-sensitive, as HTTP methods are); nil matches every method.
    public var methods: [String]?
    /// The path (target before `?`) equals this.
    public var path: String?
    /// The path starts with this.
    public var pathPrefix: String?
    public var headers: [HTTPHeaderMatch]

    public init(methods: [String]? = nil, path: String? = nil, pathPrefix: String? = nil, headers: [HTTPHeaderMatch] = []) {
        self.methods = methods
        self.path = path
        self.pathPrefix = pathPrefix
        self.headers = headers
    }

    /// Whether `request` meets every condition.
    public func matches(_ request: HTTPRequestFacts) -> Bool {
        if let methods, !methods.contains(request.method) { return false }
        if let path, request.path != path { return false }
        if let pathPrefix, !request.path.hasPrefix(pathPrefix) { return false }
        for condition in headers {
            guard let value = request.header(condition.name) else { return false }
            if let wanted = condition.value, wanted != value { return false }
        }
        return true
    }
}

/// What `attempts` counts requests by.
public enum AttemptKey: Sendable, Hashable {
    /// A header's value (`header:idempotency-key`); the name is lowercased. Requests without the
    /// header are not counted and not faulted.
    case header(String)
    case path
    case methodAndPath
    /// The client connection (its serial on the route).
    case connection

    /// The key as written in a config (`header:NAME`, `path`, `method+path`, `connection`).
    public var text: String {
        switch self {
        case .header(let name): return "header:\(name)"
        case .path: return "path"
        case .methodAndPath: return "method+path"
        case .connection: return "connection"
        }
    }

    /// Parses the written form; nil when it is none of the forms.
    public init?(text: String) {
        switch text {
        case "path": self = .path
        case "method+path": self = .methodAndPath
        case "connection": self = .connection
        default:
            guard text.hasPrefix("header:") else { return nil }
            let name = text.dropFirst("header:".count)
            guard !name.isEmpty, name.utf8.allSatisfy(HTTPMatch.isTokenByte) else { return nil }
            self = .header(name.lowercased())
        }
    }

    /// This request's value of the key; nil when the request does not carry it.
    public func value(of request: HTTPRequestFacts, serial: UInt64) -> String? {
        switch self {
        case .header(let name): return request.header(name)
        case .path: return request.path
        case .methodAndPath: return request.method + " " + request.path
        case .connection: return String(serial)
        }
    }
}

/// Counting instead of chance: the first `first` requests of each distinct key value get the fault.
public struct Attempts: Sendable, Hashable {
    public var key: AttemptKey
    public var first: Int

    public init(key: AttemptKey, first: Int) {
        self.key = key
        self.first = first
    }
}

/// The HTTP part of a fault's envelope: which requests, counted how, and whether answers are marked.
public struct HTTPFaultRule: Sendable, Hashable {
    /// nil matches every request.
    public var match: HTTPMatch?
    public var attempts: Attempts?
    /// Add `x-faultline-fault: <id>` to the response the client gets for a request the fault acted on.
    public var mark: Bool

    public init(match: HTTPMatch? = nil, attempts: Attempts? = nil, mark: Bool = false) {
        self.match = match
        self.attempts = attempts
        self.mark = mark
    }

    public static let none = HTTPFaultRule()
}

extension HTTPMatch {
    /// RFC 9110 tchar.
    public static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
