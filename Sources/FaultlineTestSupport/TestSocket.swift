// Test-only socket code. It calls Glibc directly rather than through FaultlineSystem because tests
// need what the daemon's syscall door deliberately does not offer: blocking calls with deadlines,
// copyable handles shared between a test and its helper threads, and reading the raw outcome of a
// peer's RST. Nothing here runs in the daemon.
public import FaultlineCore
import Glibc
import Synchronization

/// A socket-level failure seen by a test helper.
public enum TestSocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call failed with this errno.
    case system(call: String, errno: Int32)
    /// Nothing happened before the deadline.
    case timedOut(String)
    /// The peer closed before the expected bytes arrived.
    case unexpectedEOF(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .system(let call, let errno): return "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
        case .timedOut(let what): return "timed out: \(what)"
        case .unexpectedEOF(let expected, let got): return "EOF after \(got) of \(expected) bytes"
        }
    }

    /// True when the errno is ECONNRESET.
    public var isConnectionReset: Bool {
        if case .system(_, let errno) = self { return errno == ECONNRESET }
        return false
    }
}

/// What one read saw.
public enum ReadOutcome: Sendable, Equatable {
    case data([UInt8])
    /// Orderly end of stream (FIN).
    case eof
    /// The peer reset the connection (ECONNRESET).
    case reset
    /// Nothing arrived before the deadline.
    case timedOut
    /// Another errno.
    case error(Int32)
}

/// How a connection ended, as seen by draining it.
public enum CloseKind: Sendable, Equatable {
    case eof
    case reset
}

/// A blocking TCP socket for tests, with deadlines on every wait.
///
/// Copyable (a class) so a test can hand it to a helper thread; the descriptor is closed once,
/// under `state`'s lock, by `close()`, `reset()` or deinit.
public final class TestSocket: @unchecked Sendable {
    // `fd` is fixed at init; `state` guards whether it is still open, so close/reset race safely.
    private let fd: CInt
    private let state = Mutex(true)

    /// Adopts an open descriptor (made blocking here).
    public init(adopting fd: CInt) {
        self.fd = fd
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        var one: CInt = 1
        _ = setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
    }

    deinit {
        close()
    }

    /// The raw descriptor (for assertions only; do not close it).
    public var rawDescriptor: CInt { fd }

    /// Connects to `endpoint`, failing after `timeout` (nonblocking connect plus poll).
    /// - Throws: `TestSocketError.system` (e.g. ECONNREFUSED) or `.timedOut`.
    public static func connect(to endpoint: Endpoint, timeout: Duration = .seconds(5)) throws(TestSocketError) -> TestSocket {
        let fd = Glibc.socket(endpoint.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        let rc = endpoint.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc != 0 && errno != EINPROGRESS {
            let err = errno
            _ = Glibc.close(fd)
            throw .system(call: "connect", errno: err)
        }
        if rc != 0 {
            guard pollFor(fd, events: Int16(POLLOUT), deadline: Deadline(after: timeout)) else {
                _ = Glibc.close(fd)
                throw .timedOut("connect to \(endpoint)")
            }
            var err: CInt = 0
            var len = socklen_t(MemoryLayout<CInt>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 {
                _ = Glibc.close(fd)
                throw .system(call: "connect", errno: err)
            }
        }
        return TestSocket(adopting: fd)
    }

    /// Sends every byte (blocking); fails after `timeout` without progress.
    public func send(_ bytes: [UInt8], timeout: Duration = .seconds(10)) throws(TestSocketError) {
        let outcome: Result<Void, TestSocketError> = bytes.withUnsafeBytes { raw in
            do throws(TestSocketError) {
                try send(raw, timeout: timeout)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try outcome.get()
    }

    /// Sends every byte of `raw`.
    public func send(_ raw: UnsafeRawBufferPointer, timeout: Duration = .seconds(10)) throws(TestSocketError) {
        var offset = 0
        while offset < raw.count {
            guard pollFor(fd, events: Int16(POLLOUT), deadline: Deadline(after: timeout)) else {
                throw .timedOut("send (\(offset) of \(raw.count) bytes sent)")
            }
            let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, CInt(MSG_NOSIGNAL | MSG_DONTWAIT))
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .system(call: "send", errno: errno)
            }
            offset += n
        }
    }

    /// One read of up to `maxBytes`, waiting at most `timeout`.
    public func read(maxBytes: Int = 65536, timeout: Duration = .seconds(5)) -> ReadOutcome {
        guard pollFor(fd, events: Int16(POLLIN), deadline: Deadline(after: timeout)) else { return .timedOut }
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, maxBytes, CInt(MSG_DONTWAIT)) }
            if n > 0 { return .data(Array(buffer[0..<n])) }
            if n == 0 { return .eof }
            switch errno {
            case EINTR: continue
            case EAGAIN: return read(maxBytes: maxBytes, timeout: timeout)
            case ECONNRESET: return .reset
            case let other: return .error(other)
            }
        }
    }

    /// Reads exactly `count` bytes.
    /// - Throws: `.unexpectedEOF`, `.timedOut`, or `.system` (ECONNRESET for a reset).
    public func read(exactly count: Int, timeout: Duration = .seconds(10)) throws(TestSocketError) -> [UInt8] {
        let deadline = Deadline(after: timeout)
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            switch read(maxBytes: min(65536, count - out.count), timeout: deadline.remaining) {
            case .data(let bytes): out += bytes
            case .eof: throw .unexpectedEOF(expected: count, got: out.count)
            case .reset: throw .system(call: "recv", errno: ECONNRESET)
            case .timedOut: throw .timedOut("read \(count) bytes (got \(out.count))")
            case .error(let errno): throw .system(call: "recv", errno: errno)
            }
        }
        return out
    }

    /// Reads until EOF and returns everything read.
    /// - Throws: `.timedOut` when EOF does not come within `timeout`; `.system` on reset.
    public func readAll(timeout: Duration = .seconds(10)) throws(TestSocketError) -> [UInt8] {
        let deadline = Deadline(after: timeout)
        var out: [UInt8] = []
        while true {
            switch read(timeout: deadline.remaining) {
            case .data(let bytes): out += bytes
            case .eof: return out
            case .reset: throw .system(call: "recv", errno: ECONNRESET)
            case .timedOut: throw .timedOut("EOF (got \(out.count) bytes)")
            case .error(let errno): throw .system(call: "recv", errno: errno)
            }
        }
    }

    /// Reads (discarding data) until the connection ends; nil if it is still open after `timeout`.
    public func waitForClose(timeout: Duration) -> CloseKind? {
        let deadline = Deadline(after: timeout)
        while true {
            switch read(timeout: deadline.remaining) {
            case .data: continue
            case .eof: return .eof
            case .reset, .error: return .reset
            case .timedOut: return nil
            }
        }
    }

    /// Waits until the connection is known to be reset, also after an EOF was already read.
    ///
    /// Linux reports a peer's RST on `recv` only before a FIN arrived: once a FIN was read, `recv`
    /// returns 0 for good and the RST shows only as EPIPE/ECONNRESET on `send`. So after an EOF
    /// this probes with a nonblocking one-byte send (which would add that byte to the stream if
    /// the connection were still alive). False after `timeout`.
    public func waitForReset(timeout: Duration) -> Bool {
        let deadline = Deadline(after: timeout)
        while !deadline.hasPassed {
            switch read(timeout: deadline.remaining) {
            case .reset:
                return true
            case .eof:
                var byte: UInt8 = 0
                if Glibc.send(fd, &byte, 1, CInt(MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 && (errno == EPIPE || errno == ECONNRESET) {
                    return true
                }
                usleep(5_000)
            case .data, .timedOut, .error:
                continue
            }
        }
        return false
    }

    /// `shutdown(SHUT_WR)`: sends FIN, keeps reading.
    public func shutdownWrite() throws(TestSocketError) {
        if Glibc.shutdown(fd, CInt(SHUT_WR)) != 0 { throw .system(call: "shutdown", errno: errno) }
    }

    /// Closes (FIN, or RST if unread data is pending, as the kernel decides).
    public func close() {
        let wasOpen = state.withLock { open in
            defer { open = false }
            return open
        }
        if wasOpen { _ = Glibc.close(fd) }
    }

    /// Closes with SO_LINGER 0, so the peer sees RST.
    public func reset() {
        let wasOpen = state.withLock { open in
            defer { open = false }
            return open
        }
        guard wasOpen else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        _ = Glibc.close(fd)
    }

    /// The local address of the socket.
    public var localEndpoint: Endpoint? { Endpoint(boundTo: fd) }
}

/// A monotonic deadline.
public struct Deadline: Sendable {
    /// CLOCK_MONOTONIC nanoseconds.
    public let nanoseconds: UInt64

    public init(after duration: Duration) {
        nanoseconds = Deadline.now() &+ UInt64(max(0, duration.totalNanoseconds))
    }

    /// Time left, never negative.
    public var remaining: Duration {
        let now = Deadline.now()
        return now >= nanoseconds ? .zero : .nanoseconds(Int64(nanoseconds - now))
    }

    public var hasPassed: Bool { Deadline.now() >= nanoseconds }

    /// CLOCK_MONOTONIC in nanoseconds.
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

extension Duration {
    /// Whole nanoseconds (saturating at Int64).
    public var totalNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : ns &+ attoseconds / 1_000_000_000
    }

    /// Seconds as a Double, for messages and tolerances.
    public var seconds: Double { Double(totalNanoseconds) / 1e9 }
}

/// `accept` (accept4 needs _GNU_SOURCE, which Glibc's module lacks), then close-on-exec and
/// nonblocking set by hand.
func acceptConnection(_ listenFD: CInt) -> CInt {
    let fd = Glibc.accept(listenFD, nil, nil)
    guard fd >= 0 else { return fd }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    return fd
}

/// Waits for `events` on `fd` until `deadline`; true when ready (or errored/hung up).
func pollFor(_ fd: CInt, events: Int16, deadline: Deadline) -> Bool {
    var entry = pollfd(fd: fd, events: events, revents: 0)
    while true {
        let left = deadline.remaining.totalNanoseconds
        let ms = CInt(min(Int64(Int32.max), (left + 999_999) / 1_000_000))
        let rc = poll(&entry, 1, ms)
        if rc < 0 && errno == EINTR { continue }
        if rc > 0 { return true }
        if deadline.hasPassed { return false }
    }
}

extension Endpoint {
    /// AF_INET or AF_INET6.
    var family: CInt {
        switch address {
        case .v4: return AF_INET
        case .v6: return AF_INET6
        }
    }

    /// Lends a `sockaddr` for this endpoint.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var storage = sockaddr_storage()
        let length: socklen_t
        switch address {
        case .v4(let a, let b, let c, let d):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr.s_addr = (UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)).bigEndian
            withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: sin) { dst.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        case .v6(let bytes):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
            withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: sin6) { dst.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// The address a socket is bound to.
    init?(boundTo fd: CInt) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            let sin = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            let bytes = withUnsafeBytes(of: sin.sin_addr) { Array($0) }
            self.init(address: .v4(bytes[0], bytes[1], bytes[2], bytes[3]), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            self.init(address: .v6(withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }), port: UInt16(bigEndian: sin6.sin6_port))
        default:
            return nil
        }
    }

    /// `127.0.0.1:port`.
    public static func loopback(port: UInt16) -> Endpoint { Endpoint(address: .v4(127, 0, 0, 1), port: port) }

    /// `[::1]:port`.
    public static func loopbackV6(port: UInt16) -> Endpoint {
        Endpoint(address: .v6([UInt8](repeating: 0, count: 15) + [1]), port: port)
    }
}
