import Glibc
import FaultlineLoop
import FaultlineSystem
import Testing

/// A connected nonblocking AF_UNIX stream pair for moving bytes into and out of a `RelayBuffer`:
/// bytes written to `feed` are read into the buffer from `source`; the buffer writes to `source`
/// and they come out of `feed`.
struct SocketPair: ~Copyable {
    let source: FileDescriptor
    let feed: FileDescriptor

    init() throws {
        var fds: [CInt] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        try #require(socketpair(AF_UNIX, type, 0, &fds) == 0, "socketpair: errno \(errno)")
        source = FileDescriptor(unsafeTaking: fds[0])
        feed = FileDescriptor(unsafeTaking: fds[1])
    }

    /// Reads `bytes` into `buffer` (as the relay does: `read` then `didRead`); returns the count.
    func fill(_ buffer: inout RelayBuffer, with bytes: [UInt8], pool: BufferPool) throws -> Int {
        let sent = try bytes.withUnsafeBytes { try Posix.write(feed, from: $0) }
        try #require(sent == .processed(bytes.count))
        var total = 0
        while total < bytes.count {
            guard case .processed(let n) = try buffer.read(from: source, limit: bytes.count - total, pool: pool), n > 0 else {
                Issue.record("short read into relay buffer")
                break
            }
            buffer.didRead(n)
            total += n
        }
        return total
    }

    /// Writes `count` held bytes out of `buffer` and returns them.
    func drain(_ buffer: inout RelayBuffer, count: Int) throws -> [UInt8] {
        let result = try buffer.write(to: source, limit: count)
        try #require(result == .processed(count))
        var out = [UInt8](repeating: 0, count: count)
        let got = try out.withUnsafeMutableBytes { try Posix.read(feed, into: $0) }
        try #require(got == .processed(count))
        return out
    }
}
