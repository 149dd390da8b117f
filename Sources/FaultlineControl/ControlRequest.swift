public import FaultlineHTTP1

/// One control-API request, decoded from HTTP: method, percent-decoded path, query and body.
public struct ControlRequest: Sendable, Hashable {
    /// One `name=value` pair of the query string, percent-decoded.
    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var method: String
    /// The path, percent-decoded (`/v1/routes/a`).
    public var path: String
    /// The path split at `/`, empty segments dropped (`["v1", "routes", "a"]`).
    public var segments: [String]
    public var query: [QueryItem]
    public var headers: HTTPHeaders
    public var body: [UInt8]

    /// A request from its parts; nil when the target is not an origin-form path with valid
    /// percent-escapes.
    public init?(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        guard target.hasPrefix("/") else { return nil }
        let pathPart: Substring
        var query: [QueryItem] = []
        if let mark = target.firstIndex(of: "?") {
            pathPart = target[..<mark]
            for pair in target[target.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = Self.percentDecode(parts[0], plusIsSpace: true),
                      let value = Self.percentDecode(parts.count > 1 ? parts[1] : "", plusIsSpace: true) else { return nil }
                query.append(QueryItem(name: name, value: value))
            }
        } else {
            pathPart = Substring(target)
        }
        var segments: [String] = []
        for raw in pathPart.split(separator: "/", omittingEmptySubsequences: true) {
            guard let segment = Self.percentDecode(raw, plusIsSpace: false) else { return nil }
            segments.append(segment)
        }
        self.method = method
        self.path = "/" + segments.joined(separator: "/")
        self.segments = segments
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first value of a query parameter.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    private static func percentDecode(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hex), let low = iterator.next().flatMap(hex) else { return nil }
                bytes.append(high << 4 | low)
            } else if byte == UInt8(ascii: "+") && plusIsSpace {
                bytes.append(0x20)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
