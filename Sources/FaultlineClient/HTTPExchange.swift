internal import Glibc

/// One HTTP/1.1 request and its answer over a fresh connection (`Connection: close`).
///
/// The client is not on the data path, so it talks to the kernel directly with Glibc instead of
/// through FaultlineSystem (which this target does not depend on); every raw call stays in this
/// file. The socket is non-blocking and every wait is a `poll` bounded by the call's deadline, so
/// a daemon that accepts and never answers costs at most the timeout.
enum HTTPExchange {
    /// A request on the wire.
    struct Request {
        var method: String
        var target: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]?
    }

    /// An answer as read.
    struct Answer {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]
    }

    /// Sends `request` to `address` and reads the answer within `timeout`.
    /// - Throws: `.unreachable` for connect, send, receive and timeout failures;
    ///   `.invalidResponse` for an answer that is not HTTP/1.x.
    static func perform(_ request: Request, to address: ControlAddress, timeout: Duration) throws(FaultlineClientError) -> Answer {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let fd = try connect(to: address, deadline: deadline)
        // close(2) is not retried on EINTR: on Linux the descriptor is released either way.
        defer { _ = Glibc.close(fd) }
        try send(serialize(request, host: address.hostHeader), on: fd, deadline: deadline, address: address)
        return try receive(on: fd, deadline: deadline, address: address)
    }

    static func serialize(_ request: Request, host: String) -> [UInt8] {
        var head = "\(request.method) \(request.target) HTTP/1.1\r\nHost: \(host)\r\n"
        for header in request.headers { head += "\(header.name): \(header.value)\r\n" }
        if let body = request.body { head += "Content-Length: \(body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + (request.body ?? [])
    }

    // MARK: Connect

    private static func connect(to address: ControlAddress, deadline: ContinuousClock.Instant) throws(FaultlineClientError) -> Int32 {
        switch address {
        case .unixSocket(let path):
            var storage = sockaddr_un()
            storage.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: storage.sun_path)
            guard !bytes.isEmpty, bytes.count < capacity else {
                throw .invalidRequest("socket path \(path) is empty or longer than \(capacity - 1) bytes")
            }
            withUnsafeMutableBytes(of: &storage.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
            return try withUnsafePointer(to: &storage) { (pointer) throws(FaultlineClientError) -> Int32 in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(FaultlineClientError) -> Int32 in
                    try connect(family: AF_UNIX, sa, length, deadline: deadline, describing: path)
                }
            }
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0, let first = list else {
                throw .unreachable("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
            }
            defer { freeaddrinfo(first) }
            var lastError = FaultlineClientError.unreachable("no address for \(host)")
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let info = entry {
                do {
                    return try connect(
                        family: info.pointee.ai_family, info.pointee.ai_addr, info.pointee.ai_addrlen, deadline: deadline,
                        describing: address.description
                    )
                } catch {
                    lastError = error
                }
                entry = info.pointee.ai_next
            }
            throw lastError
        }
    }

    private static func connect(
        family: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t, deadline: ContinuousClock.Instant,
        describing name: String
    ) throws(FaultlineClientError) -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .unreachable("socket: \(errnoText())") }
        var result: Int32
        repeat { result = Glibc.connect(fd, address, length) } while result < 0 && errno == EINTR
        if result == 0 { return fd }
        let code = errno
        guard code == EINPROGRESS else {
            _ = Glibc.close(fd)
            throw .unreachable("cannot connect to \(name): \(String(cString: strerror(code)))")
        }
        do {
            try wait(fd, for: Int16(POLLOUT), deadline: deadline, doing: "connecting to \(name)")
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        var soError: Int32 = 0
        var soLength = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &soLength)
        guard soError == 0 else {
            _ = Glibc.close(fd)
            throw .unreachable("cannot connect to \(name): \(String(cString: strerror(soError)))")
        }
        return fd
    }

    // MARK: Send and receive

    private static func send(_ bytes: [UInt8], on fd: Int32, deadline: ContinuousClock.Instant, address: ControlAddress) throws(FaultlineClientError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                // MSG_NOSIGNAL: a daemon that closed early must not kill the caller with SIGPIPE.
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent >= 0 {
                offset += sent
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN: try wait(fd, for: Int16(POLLOUT), deadline: deadline, doing: "sending to \(address)")
            default: throw .unreachable("sending to \(address): \(errnoText())")
            }
        }
    }

    private static func receive(on fd: Int32, deadline: ContinuousClock.Instant, address: ControlAddress) throws(FaultlineClientError) -> Answer {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var atEOF = false
        func readMore() throws(FaultlineClientError) {
            while true {
                let count = chunk.count
                let got = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress!, count, 0) }
                if got > 0 {
                    buffer.append(contentsOf: chunk[0..<got])
                    return
                }
                if got == 0 {
                    atEOF = true
                    return
                }
                switch errno {
                case EINTR: continue
                case EAGAIN: try wait(fd, for: Int16(POLLIN), deadline: deadline, doing: "waiting for an answer from \(address)")
                default: throw .unreachable("reading from \(address): \(errnoText())")
                }
            }
        }
        while true {
            // Read one head; skip interim 1xx answers.
            var headEnd: Int?
            while headEnd == nil {
                headEnd = findHeadEnd(buffer)
                if headEnd != nil { break }
                if atEOF {
                    if buffer.isEmpty { throw .unreachable("\(address) closed the connection without answering") }
                    throw .invalidResponse("the answer from \(address) ended inside its head")
                }
                if buffer.count > 64 * 1024 { throw .invalidResponse("the answer head from \(address) is over 64 KiB") }
                try readMore()
            }
            let end = headEnd!
            let (status, headers) = try parseHead(buffer[..<end], address: address)
            buffer.removeFirst(end + 4)
            if (100..<200).contains(status) { continue }
            let lengthText = headers.last { $0.name.lowercased() == "content-length" }?.value
            if let lengthText {
                guard let length = Int(lengthText.trimmingSpaces), length >= 0 else {
                    throw .invalidResponse("bad Content-Length \"\(lengthText)\" from \(address)")
                }
                while buffer.count < length {
                    if atEOF { throw .invalidResponse("the answer from \(address) ended after \(buffer.count) of \(length) body bytes") }
                    try readMore()
                }
                return Answer(status: status, headers: headers, body: Array(buffer[..<length]))
            }
            if status == 204 || status == 304 { return Answer(status: status, headers: headers, body: []) }
            while !atEOF { try readMore() }
            return Answer(status: status, headers: headers, body: buffer)
        }
    }

    private static func findHeadEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>, address: ControlAddress) throws(FaultlineClientError) -> (Int, [(name: String, value: String)]) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).makeIterator()
        let statusLine = lines.next() ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
            throw .invalidResponse("\(address) did not answer with HTTP/1.x (status line \"\(statusLine.prefix(80))\")")
        }
        var headers: [(name: String, value: String)] = []
        while let line = lines.next() {
            guard let colon = line.firstIndex(of: ":") else {
                throw .invalidResponse("malformed header line \"\(line.prefix(80))\" from \(address)")
            }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces))
        }
        return (status, headers)
    }

    // MARK: Waiting

    private static func wait(_ fd: Int32, for events: Int16, deadline: ContinuousClock.Instant, doing what: String) throws(FaultlineClientError) {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { throw .unreachable("timed out \(what)") }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return }  // errors and hang-ups surface in the call that follows
            if ready < 0 && errno != EINTR { throw .unreachable("\(what): poll: \(errnoText())") }
        }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (header values).
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
