// Test-only HTTP/1.1 client for the daemon's control socket. Raw Glibc, like TestSocket: one
// blocking Unix-socket connection per request, deadlines on every wait.
import Foundation
import Glibc

/// A tiny HTTP/1.1-over-Unix-socket client for the control API (SPEC §4).
///
/// Every request opens a fresh connection and sends `Connection: close`, so the answer ends at
/// EOF (or at its `Content-Length`, whichever comes first). The server requires `Host`, which is
/// always sent.
public struct ControlHTTP: Sendable {
    /// One answer.
    public struct Response: Sendable, CustomStringConvertible {
        public var status: Int
        /// Header fields in order, names as sent.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The first header named `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        public var description: String { "\(status) \(text)" }
    }

    /// The control socket's path.
    public let socketPath: String

    public init(socketPath: String) { self.socketPath = socketPath }

    /// Sends `method path` with `json` as the body (if any) and reads the whole answer.
    /// - Throws: `TestSocketError` when the socket cannot be reached, or no complete answer
    ///   arrives within `timeout`.
    public func request(
        _ method: String, _ path: String, json: String? = nil, timeout: Duration = .seconds(10)
    ) throws(TestSocketError) -> Response {
        let deadline = Deadline(after: timeout)
        let fd = try connect(deadline: deadline)
        defer { _ = Glibc.close(fd) }
        let body = Array((json ?? "").utf8)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        if json != nil || method == "POST" || method == "PUT" || method == "PATCH" {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        try sendAll(fd, Array(head.utf8) + body, deadline: deadline)
        return try readResponse(fd, deadline: deadline)
    }

    /// `request` that also requires `expectedStatus`.
    /// - Throws: `DaemonError` naming the call and the answer when the status differs.
    public func expect(
        _ expectedStatus: Int, _ method: String, _ path: String, json: String? = nil, timeout: Duration = .seconds(10)
    ) throws -> Response {
        let response = try request(method, path, json: json, timeout: timeout)
        guard response.status == expectedStatus else {
            throw DaemonError("\(method) \(path) answered \(response.status), expected \(expectedStatus): \(response.text)")
        }
        return response
    }

    // MARK: Socket

    private func connect(deadline: Deadline) throws(TestSocketError) -> CInt {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { throw .system(call: "connect (path too long)", errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        // The daemon may still be binding; ENOENT and ECONNREFUSED are retried until the deadline.
        while true {
            let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if rc == 0 {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                return fd
            }
            let err = errno
            _ = Glibc.close(fd)
            guard err == ENOENT || err == ECONNREFUSED || err == EINTR, !deadline.hasPassed else {
                throw .system(call: "connect \(socketPath)", errno: err)
            }
            usleep(10_000)
        }
    }

    private func sendAll(_ fd: CInt, _ bytes: [UInt8], deadline: Deadline) throws(TestSocketError) {
        var offset = 0
        while offset < bytes.count {
            guard pollFor(fd, events: Int16(POLLOUT), deadline: deadline) else { throw .timedOut("control request send") }
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, CInt(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .system(call: "send", errno: errno)
            }
            offset += n
        }
    }

    private func readResponse(_ fd: CInt, deadline: Deadline) throws(TestSocketError) -> Response {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let response = Self.parse(data, complete: false) { return response }
            guard pollFor(fd, events: Int16(POLLIN), deadline: deadline) else {
                throw .timedOut("control answer (\(data.count) bytes so far)")
            }
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                data += buffer[0..<n]
            } else if n == 0 {
                guard let response = Self.parse(data, complete: true) else {
                    throw .unexpectedEOF(expected: data.count + 1, got: data.count)
                }
                return response
            } else if errno != EINTR && errno != EAGAIN {
                throw .system(call: "recv", errno: errno)
            }
        }
    }

    /// The response in `data`, if its head and body are all there (`complete`: EOF was seen).
    /// Interim (1xx) answers are skipped.
    static func parse(_ data: [UInt8], complete: Bool) -> Response? {
        var start = 0
        while true {
            guard let headEnd = find([13, 10, 13, 10], in: data, from: start) else { return nil }
            let headText = String(decoding: data[start..<headEnd], as: UTF8.self)
            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
            let headers: [(name: String, value: String)] = lines.compactMap { line in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            let bodyStart = headEnd + 4
            if (100..<200).contains(status) {
                start = bodyStart
                continue
            }
            let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) }
            if let length {
                guard data.count - bodyStart >= length else { return nil }
                return Response(status: status, headers: headers, body: Array(data[bodyStart..<(bodyStart + length)]))
            }
            guard complete else { return nil }
            return Response(status: status, headers: headers, body: Array(data[bodyStart...]))
        }
    }

    private static func find(_ needle: [UInt8], in data: [UInt8], from start: Int) -> Int? {
        guard data.count - start >= needle.count else { return nil }
        var index = start
        while index <= data.count - needle.count {
            if data[index] == needle[0] && Array(data[index..<(index + needle.count)]) == needle { return index }
            index += 1
        }
        return nil
    }
}
