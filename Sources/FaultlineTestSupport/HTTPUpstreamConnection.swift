import Glibc

/// One connection of `HTTPUpstream`, served on its own thread: read a request completely, record
/// it, answer it, and again, so pipelined requests are answered in order.
final class HTTPUpstreamConnection {
    /// The upstream's own head limit: larger than the proxy's 16 KiB, so an oversize head the
    /// proxy should refuse would get through to here and be seen.
    static let headLimit = 64 * 1024
    /// How long one message may take to arrive once it started.
    static let messageTimeout = Duration.seconds(30)

    let number: Int
    let socket: TestSocket
    let reader: HTTPWireReader
    let shared: HTTPUpstreamShared
    private var index = 0

    init(number: Int, socket: TestSocket, shared: HTTPUpstreamShared) {
        self.number = number
        self.socket = socket
        self.shared = shared
        reader = HTTPWireReader(socket: socket)
        reader.onRead = { [shared] count in shared.log.update { $0.bytesReceived += count } }
        reader.shouldStop = { [shared] in shared.stopping.load(ordering: .acquiring) }
    }

    func run() {
        defer {
            socket.close()
            shared.log.update { $0.connectionsOpen -= 1 }
        }
        do {
            while try serveOne() {}
        } catch {
            // The peer went away or reset, or the upstream is stopping: nothing to answer.
        }
    }

    /// Reads and answers one request; false when the connection is over.
    private func serveOne() throws(HTTPWireError) -> Bool {
        guard try reader.waitForData() else { return false }
        let deadline = Deadline(after: Self.messageTimeout)
        let head: HTTPHead
        let framing: HTTPBodyFraming
        do {
            guard let raw = try reader.readHead(limit: Self.headLimit, deadline: deadline) else { return false }
            do {
                head = try HTTPWire.parseHead(raw, isRequest: true)
                framing = try HTTPWire.requestFraming(head)
            } catch {
                try refuse(error, prefix: raw, status: 400)
                return false
            }
        } catch .headTooLarge(let size) {
            try refuse(.headTooLarge(size), prefix: [], status: 431)
            return false
        }
        if head.lists("expect", "100-continue"), framing != .none, framing != .length(0) {
            try write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        var body: [UInt8] = []
        var trailers: [HTTPField] = []
        var chunkCount = 0
        switch framing {
        case .none, .untilClose:
            break
        case .length(let length):
            body = try reader.readExactly(length, deadline: deadline)
        case .chunked:
            do {
                (body, trailers, chunkCount) = try reader.readChunkedBody(deadline: deadline)
            } catch .malformed(let rule) {
                try refuse(.malformed(rule), prefix: head.raw, status: 400)
                return false
            }
        }
        let request = HTTPUpstreamRequest(
            connection: number, index: index, method: head.startLine.0, target: head.startLine.1,
            version: head.startLine.2, fields: head.fields, rawHead: head.raw, bodyLength: body.count,
            bodySHA256: SHA256.hex(body), chunked: framing == .chunked, chunkCount: chunkCount, trailers: trailers)
        index += 1
        shared.log.update { $0.requests.append(request) }

        var response = HTTPUpstreamRoutes.answer(request, body: body) { key in
            shared.log.update { state in
                state.sideEffects[key, default: 0] += 1
                return state.sideEffects[key]!
            }
        }
        let keepAlive = head.startLine.2 == "HTTP/1.1" ? !head.lists("connection", "close") : head.lists("connection", "keep-alive")
        if !keepAlive && response.after == .keepAlive && response.rawHead == nil {
            response.fields.append(HTTPField("Connection", "close"))
            response.after = .close
        } else if keepAlive && head.startLine.2 == "HTTP/1.0" && response.after == .keepAlive {
            response.fields.append(HTTPField("Connection", "keep-alive"))
        }
        if response.delay > .zero { try pause(response.delay) }
        try write(response.serialized(headOnly: request.method == "HEAD"))
        switch response.after {
        case .keepAlive:
            return true
        case .close:
            try? socket.shutdownWrite()
            return false
        case .tunnel:
            try echoUntilEOF()
            return false
        }
    }

    /// Records what could not be parsed and answers `status` with `Connection: close`.
    private func refuse(_ error: HTTPWireError, prefix: [UInt8], status: Int) throws(HTTPWireError) {
        let rejection = HTTPUpstreamRejection(connection: number, reason: error.description, prefix: Array(prefix.prefix(512)))
        shared.log.update { $0.rejections.append(rejection) }
        let body = "upstream refused: \(error)\n"
        try write(Array("HTTP/1.1 \(status) Refused\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
        try? socket.shutdownWrite()
    }

    /// After a 101 or a CONNECT's 200: every byte read is written back; at the peer's FIN the
    /// upstream sends its own.
    private func echoUntilEOF() throws(HTTPWireError) {
        while true {
            let bytes = try reader.readSome(deadline: Deadline(after: .seconds(86_400)))
            if bytes.isEmpty {
                try? socket.shutdownWrite()
                return
            }
            try write(bytes)
        }
    }

    private func write(_ bytes: [UInt8]) throws(HTTPWireError) {
        do {
            try socket.send(bytes, timeout: .seconds(10))
        } catch {
            if case .system(_, let errno) = error { throw errno == ECONNRESET || errno == EPIPE ? .reset : .socket(errno) }
            throw .timedOut("send")
        }
    }

    /// Sleeps `duration`, in slices, so a stopping server is not held.
    private func pause(_ duration: Duration) throws(HTTPWireError) {
        let deadline = Deadline(after: duration)
        while !deadline.hasPassed {
            if shared.stopping.load(ordering: .acquiring) { throw .timedOut("stopped") }
            let left = min(deadline.remaining, .milliseconds(20))
            usleep(UInt32(max(1, left.totalNanoseconds / 1000)))
        }
    }
}

@available(*, unavailable)
extension HTTPUpstreamConnection: Sendable {}
