/// A buffered reader of HTTP/1.1 messages on a blocking `TestSocket`, with a deadline on every
/// wait. Shared by the test upstream and the test client, so both read bodies the same way.
final class HTTPWireReader {
    let socket: TestSocket
    private var buffer: [UInt8] = []
    private var start = 0
    /// Whether the peer's FIN was read.
    private(set) var sawEOF = false
    /// Told the size of every read (the upstream counts the bytes it received).
    var onRead: (Int) -> Void = { _ in }
    /// Asked between waits; true ends a wait with `.timedOut`.
    var shouldStop: () -> Bool = { false }

    init(socket: TestSocket) { self.socket = socket }

    /// Bytes read but not consumed yet.
    var buffered: Int { buffer.count - start }

    /// Reads once more into the buffer; false on EOF. Waits in short slices so that a server
    /// that is stopping (`shouldStop`) is not held by a peer that sends nothing.
    /// - Throws: `.reset`, `.timedOut`, `.socket`.
    @discardableResult
    func fill(deadline: Deadline, what: @autoclosure () -> String) throws(HTTPWireError) -> Bool {
        if sawEOF { return false }
        while true {
            let slice = min(deadline.remaining, .milliseconds(100))
            switch socket.read(maxBytes: 256 * 1024, timeout: slice) {
            case .data(let bytes):
                onRead(bytes.count)
                if start > 1 << 20 {
                    buffer.removeFirst(start)
                    start = 0
                }
                buffer += bytes
                return true
            case .eof:
                sawEOF = true
                return false
            case .reset: throw .reset
            case .timedOut:
                if deadline.hasPassed { throw .timedOut(what()) }
                if shouldStop() { throw .timedOut("stopped while waiting for \(what())") }
            case .error(let errno): throw .socket(errno)
            }
        }
    }

    /// Waits (without a deadline, until `shouldStop`) for the next byte; false on EOF first.
    func waitForData() throws(HTTPWireError) -> Bool {
        if buffered > 0 { return true }
        return try fill(deadline: Deadline(after: .seconds(86_400)), what: "the next request")
    }

    /// The next head, raw, blank line included; nil when the peer closed before sending a byte
    /// of it.
    /// - Throws: `.headTooLarge` past `limit`, `.unexpectedEOF` inside it, and socket errors.
    func readHead(limit: Int, deadline: Deadline) throws(HTTPWireError) -> [UInt8]? {
        while true {
            if let length = HTTPWire.headLength(buffer[start...]) {
                guard length <= limit else { throw .headTooLarge(length) }
                return take(length)
            }
            if buffered > limit { throw .headTooLarge(buffered) }
            if try !fill(deadline: deadline, what: "head (\(buffered) bytes so far)") {
                if buffered == 0 { return nil }
                throw .unexpectedEOF(got: buffered)
            }
        }
    }

    /// Exactly `count` bytes.
    func readExactly(_ count: Int, deadline: Deadline) throws(HTTPWireError) -> [UInt8] {
        while buffered < count {
            if try !fill(deadline: deadline, what: "body (\(buffered) of \(count) bytes)") {
                throw .unexpectedEOF(got: buffered)
            }
        }
        return take(count)
    }

    /// Everything until EOF.
    func readToEOF(deadline: Deadline) throws(HTTPWireError) -> [UInt8] {
        while try fill(deadline: deadline, what: "body until close (\(buffered) bytes so far)") {}
        return take(buffered)
    }

    /// Whatever is buffered, or one read's worth; empty at EOF.
    func readSome(deadline: Deadline) throws(HTTPWireError) -> [UInt8] {
        if buffered == 0 { _ = try fill(deadline: deadline, what: "data") }
        return take(buffered)
    }

    /// One line ending in CRLF, without it.
    /// - Throws: `.malformed` for a bare LF or a line longer than `limit`.
    func readLine(limit: Int, deadline: Deadline) throws(HTTPWireError) -> [UInt8] {
        while true {
            if let lf = buffer[start...].firstIndex(of: HTTPWire.lf) {
                guard lf > start, buffer[lf - 1] == HTTPWire.cr else { throw .malformed("bare LF in chunked framing") }
                let line = take(lf + 1 - start)
                return Array(line.dropLast(2))
            }
            if buffered > limit { throw .malformed("line longer than \(limit) bytes") }
            if try !fill(deadline: deadline, what: "line") { throw .unexpectedEOF(got: buffered) }
        }
    }

    /// A chunked body, decoded; its trailer fields are returned too.
    /// - Throws: `.malformed` for a bad chunk size, a chunk not followed by CRLF, a bad trailer.
    func readChunkedBody(deadline: Deadline, maxBytes: Int = 64 << 20) throws(HTTPWireError) -> (body: [UInt8], trailers: [HTTPField], chunkCount: Int) {
        var body: [UInt8] = []
        var chunks = 0
        while true {
            let line = try readLine(limit: 4096, deadline: deadline)
            let sizeText = line.prefix { $0 != UInt8(ascii: ";") }
            guard !sizeText.isEmpty, sizeText.count <= 15, sizeText.allSatisfy({ $0.isHexDigit }),
                  let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16) else {
                throw .malformed("bad chunk size line \(String(decoding: line, as: UTF8.self).debugDescription)")
            }
            if size == 0 { break }
            guard body.count + size <= maxBytes else { throw .malformed("chunked body over \(maxBytes) bytes") }
            body += try readExactly(size, deadline: deadline)
            chunks += 1
            guard try readExactly(2, deadline: deadline) == [HTTPWire.cr, HTTPWire.lf] else {
                throw .malformed("chunk data not followed by CRLF")
            }
        }
        var trailerHead: [UInt8] = Array("X / HTTP/1.1\r\n".utf8)
        while true {
            let line = try readLine(limit: 8192, deadline: deadline)
            if line.isEmpty { break }
            trailerHead += line + [HTTPWire.cr, HTTPWire.lf]
        }
        let trailers = try HTTPWire.parseHead(trailerHead + [HTTPWire.cr, HTTPWire.lf], isRequest: true).fields
        return (body, trailers, chunks)
    }

    private func take(_ count: Int) -> [UInt8] {
        let out = Array(buffer[start..<(start + count)])
        start += count
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return out
    }
}

@available(*, unavailable)
extension HTTPWireReader: Sendable {}

extension UInt8 {
    var isHexDigit: Bool {
        (48...57).contains(self) || (65...70).contains(self) || (97...102).contains(self)
    }
}
