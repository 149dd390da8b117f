public import FaultlineCore
import FaultlineSystem
import Glibc
import Synchronization

/// An in-process loopback upstream: epoll threads sharing one listener, thousands of
/// connections. By default it echoes every byte and, after the client's FIN, finishes echoing,
/// then shuts down its write side.
public final class EchoServer: Sendable {
    /// What each accepted connection gets.
    public enum Behavior: Sendable, Equatable {
        /// Echo every byte; on FIN finish echoing, then send FIN.
        case echo
        /// Echo until this many bytes have been received in total on the connection, then close
        /// with RST (SO_LINGER 0).
        case resetAfterBytes(Int)
        /// Close (FIN) right after accept.
        case closeImmediately
        /// Accept and never read or write; keep the connection open until `stop()`.
        case silent
    }

    /// Counters a test can assert on.
    public struct Stats: Sendable, Equatable {
        public var accepted = 0
        public var open = 0
        /// The most connections open at once.
        public var peakOpen = 0
        public var bytesReceived = 0
        public var resetsSent = 0
    }

    /// The bound address, port resolved.
    public let endpoint: Endpoint
    public let behavior: Behavior
    private let listener: TestListener
    /// Per thread, a pipe (read end, write end): a byte written stops that thread.
    private let stopPipes: [(read: CInt, write: CInt)]
    private let threads: Mutex<[ThreadHandle]>
    private let shared: EchoShared

    /// Starts listening on `endpoint` (port 0 = free port) with `threads` epoll threads.
    /// - Throws: `TestSocketError` if it cannot bind.
    public init(endpoint: Endpoint = .loopback(port: 0), behavior: Behavior = .echo, threads threadCount: Int = 2) throws(TestSocketError) {
        listener = try TestListener(endpoint: endpoint, backlog: 4096, nonBlocking: true)
        self.endpoint = listener.endpoint
        self.behavior = behavior
        shared = EchoShared(behavior: behavior)
        var stops: [(read: CInt, write: CInt)] = []
        for _ in 0..<threadCount {
            var ends: [CInt] = [-1, -1]
            guard pipe(&ends) == 0 else { throw .system(call: "pipe", errno: errno) }
            stops.append((ends[0], ends[1]))
        }
        stopPipes = stops
        threads = Mutex([])
        let listenFD = listener.fd
        var handles: [ThreadHandle] = []
        for (index, stopFD) in stops.map(\.read).enumerated() {
            // The threads hold only `shared`, so dropping the server stops them (deinit).
            handles.append(Threads.spawn(name: "echo-\(index)") { [shared] in
                EchoLoop(shared: shared, listenFD: listenFD, stopFD: stopFD).run()
            })
        }
        threads.withLock { $0 = handles }
    }

    deinit {
        stop()
        for ends in stopPipes {
            _ = Glibc.close(ends.read)
            _ = Glibc.close(ends.write)
        }
    }

    /// A snapshot of the counters.
    public var stats: Stats { shared.stats.withLock { $0 } }

    /// Stops the threads and closes every connection (FIN) and the listener. Idempotent.
    public func stop() {
        let handles = threads.withLock { handles in
            defer { handles = [] }
            return handles
        }
        guard !handles.isEmpty else { return }
        for ends in stopPipes {
            var byte: UInt8 = 1
            _ = Glibc.write(ends.write, &byte, 1)
        }
        for handle in handles { handle.join() }
        listener.close()
    }
}

/// What the echo threads share with their server.
private final class EchoShared: Sendable {
    let behavior: EchoServer.Behavior
    let stats = Mutex(EchoServer.Stats())

    init(behavior: EchoServer.Behavior) { self.behavior = behavior }

    func update(_ body: (inout EchoServer.Stats) -> Void) {
        stats.withLock { body(&$0) }
    }
}

/// One echo thread's epoll loop; level-triggered, reading stops while echo bytes are pending
/// (so a client that does not read sees backpressure, as from a real service).
private final class EchoLoop {
    final class Connection {
        let fd: CInt
        var pending: [UInt8] = []
        var pendingOffset = 0
        var receivedEOF = false
        var received = 0
        init(fd: CInt) { self.fd = fd }
    }

    let server: EchoShared
    let listenFD: CInt
    let stopFD: CInt
    var connections: [CInt: Connection] = [:]
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)

    init(shared: EchoShared, listenFD: CInt, stopFD: CInt) {
        self.server = shared
        self.listenFD = listenFD
        self.stopFD = stopFD
    }

    deinit { buffer.deallocate() }

    private static let listenerTag = UInt64(UInt32.max) + 1
    private static let stopTag = UInt64(UInt32.max) + 2

    func run() {
        guard let epoll = try? Linux.epollCreate() else { fatalError("echo: epoll_create failed") }
        try! Linux.epollControl(epoll, .add, fd: listenFD, events: .readable, data: Self.listenerTag)
        try! Linux.epollControl(epoll, .add, fd: stopFD, events: .readable, data: Self.stopTag)
        var events = EpollEventBuffer(capacity: 512)
        loop: while true {
            let count: Int
            do {
                count = try Linux.epollWait(epoll, into: &events, timeoutMilliseconds: -1)
            } catch {
                fatalError("echo: \(error)")
            }
            for index in 0..<count {
                let event = events[index]
                switch event.data {
                case Self.stopTag:
                    break loop
                case Self.listenerTag:
                    acceptAll(epoll)
                default:
                    if let connection = connections[CInt(truncatingIfNeeded: event.data)] {
                        service(epoll, connection, event.events)
                    }
                }
            }
        }
        for connection in Array(connections.values) { finish(connection) }
    }

    private func acceptAll(_ epoll: borrowing FileDescriptor) {
        while true {
            let fd = acceptConnection(listenFD)
            guard fd >= 0 else { return }  // EAGAIN: another thread took it, or none left
            server.update { stats in
                stats.accepted += 1
                stats.open += 1
                stats.peakOpen = max(stats.peakOpen, stats.open)
            }
            let connection = Connection(fd: fd)
            switch server.behavior {
            case .closeImmediately:
                finish(connection)
                continue
            case .silent:
                connections[fd] = connection  // never registered: never read
                continue
            case .echo, .resetAfterBytes:
                connections[fd] = connection
                try? Linux.epollControl(epoll, .add, fd: fd, events: [.readable, .readHangup], data: UInt64(fd))
            }
        }
    }

    private func service(_ epoll: borrowing FileDescriptor, _ c: Connection, _ events: Linux.EpollEvents) {
        // Write what is pending first.
        if c.pendingOffset < c.pending.count {
            let n = c.pending.withUnsafeBytes { raw in
                Glibc.send(c.fd, raw.baseAddress! + c.pendingOffset, raw.count - c.pendingOffset, CInt(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n < 0 {
                if errno != EAGAIN && errno != EINTR { finish(c) }
                return
            }
            c.pendingOffset += n
            guard c.pendingOffset == c.pending.count else { return }
            c.pending.removeAll(keepingCapacity: true)
            c.pendingOffset = 0
            if c.receivedEOF {
                finish(c)
                return
            }
            try? Linux.epollControl(epoll, .modify, fd: c.fd, events: [.readable, .readHangup], data: UInt64(c.fd))
            return
        }
        guard !events.isDisjoint(with: [.readable, .readHangup, .hangup, .error]) else { return }
        let n = Glibc.recv(c.fd, buffer.baseAddress, buffer.count, CInt(MSG_DONTWAIT))
        if n < 0 {
            if errno != EAGAIN && errno != EINTR { finish(c) }
            return
        }
        if n == 0 {
            c.receivedEOF = true
            finish(c)
            return
        }
        c.received += n
        server.update { $0.bytesReceived += n }
        if case .resetAfterBytes(let limit) = server.behavior, c.received >= limit {
            server.update { $0.resetsSent += 1 }
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            drop(c)
            return
        }
        let written = Glibc.send(c.fd, buffer.baseAddress, n, CInt(MSG_NOSIGNAL | MSG_DONTWAIT))
        if written < 0 && errno != EAGAIN && errno != EINTR {
            finish(c)
            return
        }
        let sent = max(0, written)
        if sent < n {
            c.pending = Array(UnsafeRawBufferPointer(rebasing: buffer[sent..<n]))
            c.pendingOffset = 0
            try? Linux.epollControl(epoll, .modify, fd: c.fd, events: [.writable], data: UInt64(c.fd))
        }
    }

    /// After the peer's FIN (and once everything is echoed): FIN our side, then close. Also used
    /// for errors and shutdown.
    private func finish(_ c: Connection) {
        _ = Glibc.shutdown(c.fd, CInt(SHUT_WR))
        drop(c)
    }

    private func drop(_ c: Connection) {
        connections[c.fd] = nil
        _ = Glibc.close(c.fd)  // also leaves the epoll set: no other descriptor refers to it
        server.update { $0.open -= 1 }
    }
}

@available(*, unavailable)
extension EchoLoop: Sendable {}
