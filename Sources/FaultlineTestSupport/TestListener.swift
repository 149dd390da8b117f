public import FaultlineCore
import Glibc
import Synchronization

/// A loopback listener whose connections a test accepts and scripts by hand (half-close and
/// reset tests play the upstream themselves).
public final class TestListener: @unchecked Sendable {
    // `fd` is fixed at init; `open` (under its lock) makes close idempotent.
    let fd: CInt
    private let open = Mutex(true)
    /// The bound address, port resolved.
    public let endpoint: Endpoint

    /// Binds `endpoint` (port 0 picks a free port) and listens.
    /// - Throws: `TestSocketError.system` (e.g. EADDRNOTAVAIL when ::1 is missing).
    public init(endpoint: Endpoint = .loopback(port: 0), backlog: CInt = 1024, nonBlocking: Bool = false) throws(TestSocketError) {
        var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        let fd = Glibc.socket(endpoint.family, type, 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        var one: CInt = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        if endpoint.family == AF_INET6 {
            _ = setsockopt(fd, CInt(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<CInt>.size))
        }
        if endpoint.withSockAddr({ Glibc.bind(fd, $0, $1) }) != 0 || Glibc.listen(fd, backlog) != 0 {
            let err = errno
            _ = Glibc.close(fd)
            throw .system(call: "bind/listen", errno: err)
        }
        self.fd = fd
        guard let bound = Endpoint(boundTo: fd) else {
            _ = Glibc.close(fd)
            throw .system(call: "getsockname", errno: errno)
        }
        self.endpoint = bound
    }

    deinit { close() }

    /// Accepts one connection, waiting at most `timeout`.
    public func accept(timeout: Duration = .seconds(5)) throws(TestSocketError) -> TestSocket {
        let deadline = Deadline(after: timeout)
        while true {
            guard pollFor(fd, events: Int16(POLLIN), deadline: deadline) else { throw .timedOut("accept on \(endpoint)") }
            let conn = acceptConnection(fd)
            if conn >= 0 { return TestSocket(adopting: conn) }
            if errno == EAGAIN || errno == EINTR || errno == ECONNABORTED { continue }
            throw .system(call: "accept", errno: errno)
        }
    }

    /// Stops listening.
    public func close() {
        let wasOpen = open.withLock { isOpen in
            defer { isOpen = false }
            return isOpen
        }
        if wasOpen { _ = Glibc.close(fd) }
    }
}

/// Ports and upstreams with special behaviour.
public enum Loopback {
    /// A loopback port that was free a moment ago: bound to port 0, read back, closed. Only for
    /// the rare case that needs a port nobody listens on (a refused upstream).
    public static func freePort(ipv6: Bool = false) throws(TestSocketError) -> UInt16 {
        let listener = try TestListener(endpoint: ipv6 ? .loopbackV6(port: 0) : .loopback(port: 0), backlog: 1)
        let port = listener.endpoint.port
        listener.close()
        return port
    }

    /// Whether `::1` can be bound here.
    public static var hasIPv6: Bool {
        (try? TestListener(endpoint: .loopbackV6(port: 0), backlog: 1)) != nil
    }
}

/// An upstream that never completes a TCP handshake: a listener that never accepts, with its
/// accept queue filled, so Linux drops further SYNs and connects to it hang in SYN_SENT.
public final class UnresponsiveUpstream: @unchecked Sendable {
    // Written only in init; the sockets live until deinit.
    private let listener: TestListener
    private var fillers: [TestSocket] = []

    /// The address whose connects hang.
    public var endpoint: Endpoint { listener.endpoint }

    /// - Throws: when the queue cannot be filled (the host does not drop SYNs on a full queue).
    public init() throws(TestSocketError) {
        listener = try TestListener(backlog: 0)
        // With backlog 0 the accept queue holds one connection; open until one no longer completes.
        for _ in 0..<8 {
            do {
                fillers.append(try TestSocket.connect(to: listener.endpoint, timeout: .milliseconds(200)))
            } catch .timedOut {
                return
            }
        }
        throw .timedOut("could not fill the accept queue of \(listener.endpoint)")
    }
}
