/// What a fault decision may look at in a request head: method, path and headers.
public struct HTTPRequestFacts: Sendable, Hashable {
    public var method: String
    /// The request-target before `?`.
    public var path: String
    /// In received order.
    public var headers: [HTTPHeaderPair]

    public init(method: String, path: String, headers: [HTTPHeaderPair]) {
        self.method = method
        self.path = path
        self.headers = headers
    }

    /// The first value of a header, by case-insensitive name (`name` lowercased).
    public func header(_ name: String) -> String? {
        for pair in headers where pair.name.count == name.count && pair.name.lowercased() == name {
            return pair.value
        }
        return nil
    }
}
