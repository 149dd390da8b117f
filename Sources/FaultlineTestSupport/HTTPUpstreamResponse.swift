/// One answer of the test upstream, before it is written.
struct HTTPUpstreamResponse {
    enum Body {
        case none
        /// Sent after the head as is (the head carries its Content-Length).
        case bytes([UInt8])
        /// Sent chunked in these sizes (cycled), then the trailer fields.
        case chunked([UInt8], chunkSizes: [Int], trailers: [HTTPField])
        /// Sent after the head, then the connection closes: the end of the body is the close.
        case untilClose([UInt8])
    }

    /// What the connection does once the answer is written.
    enum After {
        case keepAlive
        case close
        /// Echo raw bytes both ways until the peer's FIN (after a 101 or a CONNECT's 200).
        case tunnel
    }

    var status: Int
    var reason: String
    var fields: [HTTPField]
    var body: Body = .none
    var after: After = .keepAlive
    /// Held this long before the head is written.
    var delay: Duration = .zero
    /// A head written byte for byte instead of one built from `status`, `reason` and `fields`.
    var rawHead: [UInt8]?

    /// The bytes on the wire; `headOnly` for an answer to HEAD.
    func serialized(headOnly: Bool) -> [UInt8] {
        var out: [UInt8]
        if let rawHead {
            out = rawHead
        } else {
            var text = "HTTP/1.1 \(status) \(reason)\r\n"
            for field in fields { text += "\(field.name): \(field.value)\r\n" }
            text += "\r\n"
            out = Array(text.utf8)
        }
        if headOnly { return out }
        switch body {
        case .none:
            break
        case .bytes(let bytes), .untilClose(let bytes):
            out += bytes
        case .chunked(let bytes, let sizes, let trailers):
            var offset = 0
            var turn = 0
            while offset < bytes.count {
                let size = min(max(1, sizes[turn % sizes.count]), bytes.count - offset)
                out += Array((String(size, radix: 16) + "\r\n").utf8)
                out += bytes[offset..<(offset + size)]
                out += [13, 10]
                offset += size
                turn += 1
            }
            var tail = "0\r\n"
            for field in trailers { tail += "\(field.name): \(field.value)\r\n" }
            tail += "\r\n"
            out += Array(tail.utf8)
        }
        return out
    }
}
