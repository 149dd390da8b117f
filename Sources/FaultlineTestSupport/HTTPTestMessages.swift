/// A request a test sends, serialized exactly as described (nothing is added but `Host` when
/// absent and the body's framing field).
public struct HTTPTestRequest: Sendable {
    /// How the body goes on the wire.
    public enum Framing: Sendable, Equatable {
        /// No body and no framing field.
        case none
        case contentLength
        /// Chunked, in these chunk sizes (cycled; 0 or less counts as 1).
        case chunked([Int])
    }

    public var method: String
    public var target: String
    public var version: String
    /// Header fields in order (a `Host` is put first when none is given).
    public var fields: [HTTPField]
    public var body: [UInt8]
    public var framing: Framing

    /// - Parameters:
    ///   - chunked: chunk sizes to send the body chunked in; nil sends Content-Length when there is
    ///     a body (or the method is POST, PUT or PATCH), none otherwise.
    public init(_ method: String = "GET", _ target: String, fields: [HTTPField] = [], body: [UInt8] = [],
                chunked: [Int]? = nil, version: String = "HTTP/1.1") {
        self.method = method
        self.target = target
        self.version = version
        self.fields = fields
        self.body = body
        if let chunked {
            framing = .chunked(chunked.isEmpty ? [body.count] : chunked)
        } else {
            framing = body.isEmpty && !["POST", "PUT", "PATCH"].contains(method) ? .none : .contentLength
        }
    }

    /// The head, blank line included.
    public var head: [UInt8] {
        var text = "\(method) \(target) \(version)\r\n"
        if !fields.contains(where: { $0.name.lowercased() == "host" }) { text += "Host: 127.0.0.1\r\n" }
        for field in fields { text += "\(field.name): \(field.value)\r\n" }
        switch framing {
        case .none: break
        case .contentLength: text += "Content-Length: \(body.count)\r\n"
        case .chunked: text += "Transfer-Encoding: chunked\r\n"
        }
        return Array((text + "\r\n").utf8)
    }

    /// The body as framed on the wire.
    public var framedBody: [UInt8] {
        guard case .chunked(let sizes) = framing else { return body }
        var out: [UInt8] = []
        out.reserveCapacity(body.count + body.count / 100 + 16)
        var offset = 0
        var turn = 0
        while offset < body.count {
            let size = min(max(1, sizes[turn % sizes.count]), body.count - offset)
            out += Array((String(size, radix: 16) + "\r\n").utf8)
            out += body[offset..<(offset + size)]
            out += [13, 10]
            offset += size
            turn += 1
        }
        return out + Array("0\r\n\r\n".utf8)
    }

    /// Head and body.
    public var serialized: [UInt8] { head + framedBody }
}

/// An answer a test client read.
public struct HTTPTestResponse: Sendable, CustomStringConvertible {
    public var version: String
    public var status: Int
    public var reason: String
    public var fields: [HTTPField]
    /// The body, de-chunked.
    public var body: [UInt8]
    public var trailers: [HTTPField]
    /// Whether the body came chunked.
    public var chunked: Bool
    /// The head exactly as received.
    public var rawHead: [UInt8]
    /// Statuses of the interim (1xx) answers that came before this one.
    public var interim: [Int]

    /// The first value of `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Every value of `name`, in order.
    public func headers(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
    public var bodySHA256: String { SHA256.hex(body) }

    public var description: String {
        "\(status) \(reason) \(fields) body \(body.count) bytes\(body.count <= 200 ? " \(text.debugDescription)" : "")"
    }
}
