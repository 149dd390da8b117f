public import FaultlineCore

/// What a client connection saw when it waited for more.
public enum HTTPConnectionEvent: Sendable, Equatable {
    case data([UInt8])
    /// The peer's FIN.
    case eof
    /// ECONNRESET.
    case reset
    /// Nothing before the deadline.
    case timedOut
    /// Another socket error.
    case failed(String)
}

/// A keep-alive HTTP/1.1 client connection for tests: requests are written as given, answers
/// are read with the strict `HTTPWire` rules (1xx skipped and remembered, chunked decoded, HEAD,
/// 204 and 304 without a body), so a proxy that mangles framing fails the read.
public final class HTTPTestConnection {
    /// The socket, for tests that script the bytes themselves (a sender thread, a reset).
    public let socket: TestSocket
    private let reader: HTTPWireReader

    /// Connects to `endpoint`.
    public init(to endpoint: Endpoint, timeout: Duration = .seconds(5)) throws(TestSocketError) {
        socket = try TestSocket.connect(to: endpoint, timeout: timeout)
        reader = HTTPWireReader(socket: socket)
    }

    /// Writes `request` (head and body).
    public func send(_ request: HTTPTestRequest, timeout: Duration = .seconds(30)) throws(TestSocketError) {
        try socket.send(request.serialized, timeout: timeout)
    }

    /// Writes raw bytes.
    public func send(raw bytes: [UInt8], timeout: Duration = .seconds(30)) throws(TestSocketError) {
        try socket.send(bytes, timeout: timeout)
    }

    /// Reads the next answer; `method` is the request's (HEAD and CONNECT change the framing).
    /// With `stopAtInterim`, a 1xx answer is returned as it comes instead of skipped.
    /// - Throws: `HTTPWireError`: malformed framing, EOF or reset inside the answer, timeout.
    public func readResponse(to method: String = "GET", timeout: Duration = .seconds(30), stopAtInterim: Bool = false) throws(HTTPWireError) -> HTTPTestResponse {
        let deadline = Deadline(after: timeout)
        var interim: [Int] = []
        while true {
            guard let raw = try reader.readHead(limit: 256 * 1024, deadline: deadline) else { throw .unexpectedEOF(got: 0) }
            let head = try HTTPWire.parseHead(raw, isRequest: false)
            let status = Int(head.startLine.1) ?? 0
            var response = HTTPTestResponse(
                version: head.startLine.0, status: status, reason: head.startLine.2, fields: head.fields, body: [],
                trailers: [], chunked: false, rawHead: raw, interim: interim)
            if (100..<200).contains(status) && status != 101 && !stopAtInterim {
                interim.append(status)
                continue
            }
            switch try HTTPWire.responseFraming(head, requestMethod: method) {
            case .none:
                break
            case .length(let length):
                response.body = try reader.readExactly(length, deadline: deadline)
            case .chunked:
                let decoded = try reader.readChunkedBody(deadline: deadline)
                response.body = decoded.body
                response.trailers = decoded.trailers
                response.chunked = true
            case .untilClose:
                response.body = try reader.readToEOF(deadline: deadline)
            }
            return response
        }
    }

    /// Sends `request` and reads its answer.
    public func exchange(_ request: HTTPTestRequest, timeout: Duration = .seconds(30)) throws -> HTTPTestResponse {
        try send(request, timeout: timeout)
        return try readResponse(to: request.method, timeout: timeout)
    }

    /// Exactly `count` bytes after the answers read so far (a tunnel's bytes).
    public func readBytes(_ count: Int, timeout: Duration = .seconds(30)) throws(HTTPWireError) -> [UInt8] {
        try reader.readExactly(count, deadline: Deadline(after: timeout))
    }

    /// What comes next: bytes (buffered ones first), the peer's FIN, a reset, or nothing within
    /// `timeout`.
    public func next(timeout: Duration) -> HTTPConnectionEvent {
        do {
            let bytes = try reader.readSome(deadline: Deadline(after: timeout))
            return bytes.isEmpty ? .eof : .data(bytes)
        } catch .reset {
            return .reset
        } catch .timedOut {
            return .timedOut
        } catch {
            return .failed(error.description)
        }
    }

    /// Closes (FIN).
    public func close() { socket.close() }
}

@available(*, unavailable)
extension HTTPTestConnection: Sendable {}
