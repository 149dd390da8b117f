public import FaultlineConfig

/// An answer of the control API, as it came: status, headers and body bytes.
public struct FaultlineResponse: Sendable, Hashable {
    /// One header field.
    public struct Header: Sendable, Hashable {
        /// The name as sent.
        public var name: String
        /// The value, surrounding spaces removed.
        public var value: String

        /// A header field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The HTTP status (2xx from `send`; any from `request`).
    public var status: Int
    /// The header fields in order.
    public var headers: [Header]
    /// The body bytes.
    public var body: [UInt8]

    /// A response from its parts.
    public init(status: Int, headers: [Header] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of the last header called `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.last { $0.name.lowercased() == wanted }?.value
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as JSON.
    /// - Throws: `FaultlineClientError` of kind `.invalidResponse` when it is not JSON.
    public func json() throws(FaultlineClientError) -> JSONValue {
        switch JSONParser.parse(bytes: body) {
        case .success(let value): return value
        case .failure(let error): throw .invalidResponse("the answer is not JSON: \(error)")
        }
    }
}
