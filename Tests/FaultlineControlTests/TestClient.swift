import FaultlineHTTP1
import FaultlineSystem

/// A blocking HTTP/1.1 client over a Unix or TCP socket, for driving the server in tests.
final class TestClient {
    struct Response {
        var head: HTTPResponseHead
        var body: [UInt8]
        var status: Int { head.status }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    private var fd: FileDescriptor?
    private var parser = HTTPResponseParser()

    init(unixPath: String) throws {
        let socket = try Posix.socket(family: .unix, nonBlocking: false)
        _ = try Posix.connect(socket, to: SocketAddress(unixPath: unixPath))
        fd = consume socket
    }

    init(port: UInt16) throws {
        let socket = try Posix.socket(family: .inet, nonBlocking: false)
        _ = try Posix.connect(socket, to: SocketAddress(ipv4: 127, 0, 0, 1, port: port))
        fd = consume socket
    }

    deinit { fd.take()?.close() }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let result: IOResult<Int> = try bytes.withUnsafeBytes { buffer in
                switch fd {
                case .some(let socket): return try Posix.write(socket, from: UnsafeRawBufferPointer(rebasing: buffer[offset...]))
                case .none: return .processed(0)
                }
            }
            guard case .processed(let written) = result, written > 0 else { throw SystemError(errno: 32, call: "send") }
            offset += written
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Sends one request with Host (and Content-Length for a body) and reads its response.
    func request(_ method: String, _ target: String, body: String? = nil, headers: HTTPHeaders = [:]) throws -> Response? {
        var head = HTTPRequestHead(method: method, target: target, headers: ["Host": "localhost"])
        for field in headers { head.headers.append(field) }
        parser.expectResponse(toMethod: method)
        try send(try HTTP1Serializer.request(head, body: Array((body ?? "").utf8)))
        return try readResponse()
    }

    /// Reads one whole response, waiting at most `timeoutMilliseconds` for each read.
    func readResponse(timeoutMilliseconds: Int32 = 5000) throws -> Response? {
        var head: HTTPResponseHead?
        var body: [UInt8] = []
        while true {
            while let event = try parser.next() {
                switch event {
                case .head(let received): head = received
                case .body(let bytes): body += bytes
                case .end:
                    guard let head else { return nil }
                    if head.isInterim { continue }
                    return Response(head: head, body: body)
                }
            }
            guard let chunk = try readChunk(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
            if chunk.isEmpty { parser.finish() } else { parser.feed(chunk) }
        }
    }

    /// True when the server closes the connection within the timeout (after any bytes it sends).
    func waitForClose(timeoutMilliseconds: Int32 = 5000) -> Bool {
        while true {
            guard let chunk = try? readChunk(timeoutMilliseconds: timeoutMilliseconds) else { return false }
            if chunk.isEmpty { return true }
        }
    }

    /// Bytes read, empty at end of stream, nil on timeout.
    private func readChunk(timeoutMilliseconds: Int32) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let readable: Bool
        switch fd {
        case .some(let socket): readable = Posix.waitReadable(socket, timeoutMilliseconds: timeoutMilliseconds)
        case .none: return []
        }
        guard readable else { return nil }
        let result: IOResult<Int> = try buffer.withUnsafeMutableBytes { bytes in
            switch fd {
            case .some(let socket): return try Posix.read(socket, into: bytes)
            case .none: return .processed(0)
            }
        }
        switch result {
        case .processed(let count): return Array(buffer[0..<count])
        case .wouldBlock: return nil
        }
    }
}
