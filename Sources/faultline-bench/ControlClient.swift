// A minimal control-API client for the bench: one HTTP/1.1 request per connection over the
// daemon's Unix socket, timed from connect to the end of the answer.

import Glibc

enum ControlClient {
    /// Sends `method path` with `body` and returns the status and the wall time it took.
    static func request(socket path: String, method: String, path target: String, body: String = "") throws
        -> (status: Int, nanoseconds: UInt64)
    {
        let start = monotonicNanoseconds()
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError.errno("socket(AF_UNIX)") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw BenchError("\(path): path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw BenchError.errno("connect(\(path))") }
        let request = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        var out = Array(request.utf8)
        try Posix.writeAll(fd, &out, out.count)
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Posix.read(fd, &chunk, chunk.count)
            if n < 0 { throw BenchError.errno("read(\(path))") }
            if n == 0 { break }
            answer.append(contentsOf: chunk[0..<n])
        }
        let elapsed = monotonicNanoseconds() - start
        // "HTTP/1.1 201 Created"
        let line = String(decoding: answer.prefix(while: { $0 != 13 }), as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw BenchError("\(method) \(target): no status line in the answer") }
        return (status, elapsed)
    }
}
