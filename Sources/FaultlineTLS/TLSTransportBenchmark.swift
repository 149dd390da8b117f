internal import COpenSSL
internal import Glibc

/// Measures the two ways one event-loop thread can drive OpenSSL over a nonblocking socket:
///
/// - `memoryBIO`: the `TLSSession` API, with the caller moving ciphertext between the socket and
///   the session with `read`/`send` — what the worker does (Worker+TLS.swift), with its sizes:
///   64 KiB socket reads, 64 KiB plaintext writes, 256 KiB of pending ciphertext at most;
/// - `socketFD`: `SSL_set_fd` on the socket, `SSL_read`/`SSL_write` making the syscalls, and
///   `SSL_ERROR_WANT_READ`/`WANT_WRITE` telling the loop what to wait for;
/// - `socketFDReadAhead`: the same with `SSL_set_read_ahead` (one `read` per buffer instead of two
///   per record: header, then body).
///
/// Both TLS ends run in the calling thread over one socket pair (loopback TCP or AF_UNIX), in
/// turns: the client sends until the socket refuses, the server receives until the socket is
/// empty, then `poll` waits for whatever either end said it needs. So the time is the CPU of both
/// ends (encrypt, decrypt, syscalls, copies) on one core, which is what the single event loop pays.
/// Every OpenSSL call is preceded by `ERR_clear_error` and every failure drains the queue.
public enum TLSTransportBenchmark {
    public enum Variant: String, CaseIterable, Sendable {
        case memoryBIO = "memory-bio"
        case socketFD = "set-fd"
        case socketFDReadAhead = "set-fd+read-ahead"
    }

    public enum Transport: String, CaseIterable, Sendable {
        /// A connected pair on 127.0.0.1, TCP_NODELAY on both (as the proxy sets it).
        case tcp
        /// `socketpair(AF_UNIX, SOCK_STREAM)`.
        case unix
    }

    /// A benchmark that could not run (a syscall or the TLS handshake failed, or it stalled).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String

        init(_ description: String) { self.description = description }

        static func errno(_ call: String, _ code: Int32 = Glibc.errno) -> Failure {
            Failure("\(call): \(String(cString: strerror(code)))")
        }
    }

    /// One bulk transfer, client to server.
    public struct Throughput: Sendable {
        /// Plaintext bytes the server decrypted.
        public let bytes: Int
        /// Wall-clock seconds from the first plaintext write to the last byte read (handshake excluded).
        public let seconds: Double
        /// CPU time of the calling thread over the same interval (CLOCK_THREAD_CPUTIME_ID): the
        /// measure to trust on a busy machine, where wall time also counts other processes' turns.
        public let cpuSeconds: Double
        /// Its split into user and kernel time (RUSAGE_THREAD; tick-sampled, so only roughly).
        public let userSeconds: Double
        public let systemSeconds: Double
        /// For example "TLSv1.3" and "TLS_AES_256_GCM_SHA384".
        public let protocolVersion: String
        public let cipher: String

        public var mebibytesPerSecond: Double { Double(bytes) / 1_048_576 / seconds }
        /// Plaintext MiB per second of this thread's CPU.
        public var mebibytesPerCPUSecond: Double { Double(bytes) / 1_048_576 / cpuSeconds }
    }

    /// Many full (not resumed) handshakes, one new connection each.
    public struct Handshakes: Sendable {
        public let count: Int
        /// Summed time from creating both sessions to both handshakes done and both sessions freed;
        /// making and closing the sockets is not counted.
        public let seconds: Double
        /// The thread's CPU time over the same intervals (CLOCK_THREAD_CPUTIME_ID).
        public let cpuSeconds: Double

        public var perSecond: Double { Double(count) / seconds }
        public var perCPUSecond: Double { Double(count) / cpuSeconds }
    }

    /// The memory-BIO client's bound on pending ciphertext (the worker's `tlsOutputLimit`).
    static let outputLimit = 256 * 1024
    /// Ciphertext read from the socket in one call (the worker's `tlsScratch`).
    static let socketReadSize = 64 * 1024

    /// Sends `bytes` of plaintext from a client session to a server session in writes of
    /// `writeSize` bytes, after one full handshake. The handshake must settle on TLS 1.3.
    public static func throughput(
        _ variant: Variant, server: TLSContext, client: TLSContext, bytes: Int,
        writeSize: Int = 64 * 1024, transport: Transport = .tcp
    ) throws -> Throughput {
        precondition(bytes > 0 && writeSize > 0)
        let listener = transport == .tcp ? try Listener() : nil
        let pair = try SocketPair(transport, listener: listener)
        defer { pair.close() }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: socketReadSize, alignment: 16)
        defer { scratch.deallocate() }
        switch variant {
        case .memoryBIO:
            return try transfer(
                client: MemoryBIOEnd(client, fd: pair.client, scratch: scratch),
                server: MemoryBIOEnd(server, fd: pair.server, scratch: scratch),
                bytes: bytes, writeSize: writeSize)
        case .socketFD, .socketFDReadAhead:
            let readAhead = variant == .socketFDReadAhead
            return try transfer(
                client: SocketEnd(client, fd: pair.client, readAhead: readAhead),
                server: SocketEnd(server, fd: pair.server, readAhead: readAhead),
                bytes: bytes, writeSize: writeSize)
        }
    }

    /// `count` full TLS 1.3 handshakes, each on a new socket pair.
    public static func handshakes(
        _ variant: Variant, server: TLSContext, client: TLSContext, count: Int, transport: Transport = .tcp
    ) throws -> Handshakes {
        precondition(count > 0)
        let listener = transport == .tcp ? try Listener() : nil
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: socketReadSize, alignment: 16)
        defer { scratch.deallocate() }
        var nanoseconds: UInt64 = 0
        var cpuNanoseconds: UInt64 = 0
        for _ in 0..<count {
            let pair = try SocketPair(transport, listener: listener)
            defer { pair.close() }
            let cpuStart = threadCPUNanoseconds()
            let start = monotonicNanoseconds()
            try oneHandshake(variant, server: server, client: client, pair: pair, scratch: scratch)
            nanoseconds += monotonicNanoseconds() - start
            cpuNanoseconds += threadCPUNanoseconds() - cpuStart
        }
        return Handshakes(count: count, seconds: Double(nanoseconds) / 1e9, cpuSeconds: Double(cpuNanoseconds) / 1e9)
    }

    /// Not inlined so that both sessions are freed before the caller reads the clock.
    @inline(never)
    private static func oneHandshake(
        _ variant: Variant, server: TLSContext, client: TLSContext, pair: SocketPair,
        scratch: UnsafeMutableRawBufferPointer
    ) throws {
        switch variant {
        case .memoryBIO:
            let c = try MemoryBIOEnd(client, fd: pair.client, scratch: scratch)
            let s = try MemoryBIOEnd(server, fd: pair.server, scratch: scratch)
            try handshake(client: c, server: s)
            try expectFullTLS13(c.ssl)
        case .socketFD, .socketFDReadAhead:
            let c = try SocketEnd(client, fd: pair.client, readAhead: variant == .socketFDReadAhead)
            let s = try SocketEnd(server, fd: pair.server, readAhead: variant == .socketFDReadAhead)
            try handshake(client: c, server: s)
            try expectFullTLS13(c.ssl)
        }
    }

    // MARK: Drivers

    /// Drives both handshakes to completion, polling when neither can go on.
    private static func handshake<End: BenchmarkEnd>(client: End, server: End) throws {
        var clientDone = false
        var serverDone = false
        while true {
            if !clientDone { clientDone = try client.handshake() }
            if !serverDone { serverDone = try server.handshake() }
            if clientDone && serverDone { return }
            try wait(clientDone ? nil : client, serverDone ? nil : server)
        }
    }

    private static func transfer<End: BenchmarkEnd>(client: End, server: End, bytes total: Int, writeSize: Int) throws -> Throughput {
        try handshake(client: client, server: server)
        try expectFullTLS13(client.ssl)
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: writeSize, alignment: 16)
        defer { source.deallocate() }
        for index in 0..<writeSize { source[index] = UInt8(truncatingIfNeeded: index) }
        let sink = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { sink.deallocate() }

        let cpuBefore = processCPU()
        let cpuStart = threadCPUNanoseconds()
        let start = monotonicNanoseconds()
        var sent = 0
        var received = 0
        var clientFlushed = true
        while received < total {
            while sent < total {
                // Always the same pointer and, after a refusal, the same length: SSL_write's
                // retry rule for socket BIOs.
                let n = try client.send(UnsafeRawBufferPointer(rebasing: source[0..<min(writeSize, total - sent)]))
                if n == 0 { break }
                sent += n
            }
            if sent == total { clientFlushed = try client.flush() }
            while true {
                let n = try server.receive(into: sink)
                if n == 0 { break }
                // Writes are whole `source` buffers, so stream offset k holds byte (k % writeSize).
                guard sink[0] == UInt8(truncatingIfNeeded: received % writeSize),
                      sink[n - 1] == UInt8(truncatingIfNeeded: (received + n - 1) % writeSize)
                else { throw Failure("plaintext at offset \(received) is not what was sent") }
                received += n
                guard received <= total else { throw Failure("received more than was sent") }
            }
            if received < total {
                try wait(sent < total || !clientFlushed ? client : nil, server)
            }
        }
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        let cpuSeconds = Double(threadCPUNanoseconds() - cpuStart) / 1e9
        let cpuAfter = processCPU()
        let cipher = SSL_get_current_cipher(client.ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? "?"
        return Throughput(
            bytes: received, seconds: seconds, cpuSeconds: cpuSeconds,
            userSeconds: cpuAfter.user - cpuBefore.user, systemSeconds: cpuAfter.system - cpuBefore.system,
            protocolVersion: String(cString: SSL_get_version(client.ssl)), cipher: cipher)
    }

    /// Polls the ends given for what each said it waits for (2 s at most: longer is a stall).
    private static func wait<End: BenchmarkEnd>(_ first: End?, _ second: End?) throws {
        var fds: [pollfd] = []
        for end in [first, second] {
            guard let end else { continue }
            guard end.waitingFor != 0 else { throw Failure("an end is blocked without saying on what") }
            fds.append(pollfd(fd: end.fd, events: end.waitingFor, revents: 0))
        }
        while true {
            let ready = poll(&fds, nfds_t(fds.count), 2000)
            if ready > 0 { return }
            if ready == 0 { throw Failure("stalled: nothing ready for 2 s") }
            if errno != EINTR { throw Failure.errno("poll") }
        }
    }

    private static func expectFullTLS13(_ ssl: OpaquePointer) throws {
        guard SSL_version(ssl) == TLS1_3_VERSION else {
            throw Failure("negotiated \(String(cString: SSL_get_version(ssl))), not TLS 1.3")
        }
        guard SSL_session_reused(ssl) == 0 else { throw Failure("the handshake resumed a session") }
    }

    private static func processCPU() -> (user: Double, system: Double) {
        var usage = rusage()
        _ = getrusage(1, &usage)  // RUSAGE_THREAD (a GNU name Glibc does not import)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }

    private static func monotonicNanoseconds() -> UInt64 {
        nanoseconds(of: CLOCK_MONOTONIC)
    }

    private static func threadCPUNanoseconds() -> UInt64 {
        nanoseconds(of: CLOCK_THREAD_CPUTIME_ID)
    }

    private static func nanoseconds(of clock: clockid_t) -> UInt64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

// MARK: The two ways

/// One TLS end on a nonblocking socket. Each call goes as far as the socket allows; a call that
/// could not go on (false or 0) leaves in `waitingFor` the poll events it needs.
private protocol BenchmarkEnd: AnyObject {
    var fd: Int32 { get }
    var ssl: OpaquePointer { get }
    var waitingFor: Int16 { get }
    /// True once the handshake is done and its output is on the socket.
    func handshake() throws -> Bool
    /// Plaintext accepted (all of `bytes`), or 0 when the socket is full.
    func send(_ bytes: UnsafeRawBufferPointer) throws -> Int
    /// True when no accepted ciphertext waits to go out.
    func flush() throws -> Bool
    /// Plaintext received (one record's worth at most), or 0 when the socket is empty.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// (a) The library's own way: `TLSSession` over memory BIOs, the syscalls made here, as
/// Worker+TLS.swift makes them (`pullCiphertext`, `flushCiphertext`, `readPlaintext`, `writePlaintext`).
private final class MemoryBIOEnd: BenchmarkEnd {
    let session: TLSSession
    let fd: Int32
    let scratch: UnsafeMutableRawBufferPointer
    var waitingFor: Int16 = 0
    var ssl: OpaquePointer { session.ssl }

    init(_ context: TLSContext, fd: Int32, scratch: UnsafeMutableRawBufferPointer) throws {
        do throws(TLSError) {
            session = try TLSSession(context: context)
        } catch {
            throw TLSTransportBenchmark.Failure("TLSSession: \(error)")
        }
        self.fd = fd
        self.scratch = scratch
    }

    func handshake() throws -> Bool {
        while true {
            let step = session.handshake()
            let flushed = try flush()
            switch step {
            case .complete:
                return flushed
            case .failed(let error):
                throw TLSTransportBenchmark.Failure("handshake: \(error)")
            case .wantInput:
                guard flushed, try pull() else { return false }
            }
        }
    }

    func send(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        if session.pendingOutputCount >= TLSTransportBenchmark.outputLimit {
            _ = try flush()
            if session.pendingOutputCount >= TLSTransportBenchmark.outputLimit { return 0 }
        }
        switch session.write(bytes) {
        case .written(let written):
            _ = try flush()
            return written
        case .failed(let error):
            throw TLSTransportBenchmark.Failure("write: \(error)")
        }
    }

    func flush() throws -> Bool {
        while session.pendingOutputCount > 0 {
            let n = session.withPendingOutput { output in Glibc.send(fd, output.baseAddress, output.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                session.consumeOutput(n)
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                waitingFor = Int16(POLLOUT)
                return false
            } else if errno != EINTR {
                throw TLSTransportBenchmark.Failure.errno("send")
            }
        }
        return true
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            switch session.read(into: buffer) {
            case .bytes(let n):
                return n
            case .closed:
                throw TLSTransportBenchmark.Failure("read: the peer closed")
            case .failed(let error):
                throw TLSTransportBenchmark.Failure("read: \(error)")
            case .wantInput:
                // Post-handshake messages may want an answer, as in the worker.
                guard try flush(), try pull() else { return 0 }
            }
        }
    }

    /// One socket read into the session; false when the socket is empty.
    private func pull() throws -> Bool {
        let n = Glibc.read(fd, scratch.baseAddress, scratch.count)
        if n > 0 {
            session.feed(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            return true
        }
        if n == 0 { throw TLSTransportBenchmark.Failure("read: unexpected end of stream") }
        if errno == EAGAIN || errno == EWOULDBLOCK {
            waitingFor = Int16(POLLIN)
            return false
        }
        if errno == EINTR { return true }
        throw TLSTransportBenchmark.Failure.errno("read")
    }
}

/// (b) `SSL_set_fd`: OpenSSL's socket BIO makes the syscalls; WANT_READ / WANT_WRITE say what to
/// poll for. Writes are retried with the same buffer and length, as a socket BIO requires.
private final class SocketEnd: BenchmarkEnd {
    /// Keeps the SSL_CTX's callbacks' target alive.
    let context: TLSContext
    let ssl: OpaquePointer
    let fd: Int32
    var waitingFor: Int16 = 0

    init(_ context: TLSContext, fd: Int32, readAhead: Bool) throws {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.ctx) else {
            throw TLSTransportBenchmark.Failure("\(TLSError.drained("internal", "cannot create SSL"))")
        }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            throw TLSTransportBenchmark.Failure("\(TLSError.drained("internal", "SSL_set_fd failed"))")
        }
        if context.isServer { SSL_set_accept_state(ssl) } else { SSL_set_connect_state(ssl) }
        if readAhead { SSL_set_read_ahead(ssl, 1) }
        self.context = context
        self.ssl = ssl
        self.fd = fd
    }

    deinit {
        SSL_free(ssl)
    }

    func handshake() throws -> Bool {
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return true }
        try blocked(result, "SSL_do_handshake")
        return false
    }

    func send(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        OpenSSLErrorQueue.clear()
        let result = SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
        if result > 0 { return Int(result) }
        try blocked(result, "SSL_write")
        return 0
    }

    /// Nothing is held back: SSL_write succeeds only once every record is on the socket.
    func flush() throws -> Bool { true }

    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        OpenSSLErrorQueue.clear()
        let result = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if result > 0 { return Int(result) }
        try blocked(result, "SSL_read")
        return 0
    }

    /// Sets `waitingFor` for a WANT_READ / WANT_WRITE; throws (draining the queue) otherwise.
    private func blocked(_ result: Int32, _ call: String) throws {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ:
            waitingFor = Int16(POLLIN)
        case SSL_ERROR_WANT_WRITE:
            waitingFor = Int16(POLLOUT)
        case SSL_ERROR_ZERO_RETURN:
            _ = OpenSSLErrorQueue.drain()
            throw TLSTransportBenchmark.Failure("\(call): the peer closed")
        default:
            throw TLSTransportBenchmark.Failure("\(call): \(TLSError.failedCall(on: ssl, code: code))")
        }
    }
}

// MARK: Sockets

/// A listening socket on 127.0.0.1 (ephemeral port) that makes connected pairs.
private final class Listener {
    let fd: Int32
    var address = sockaddr_in()

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TLSTransportBenchmark.Failure.errno("socket") }
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(fd, address, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, address, &length) == 0
            }
        }
        guard bound else {
            let failure = TLSTransportBenchmark.Failure.errno("bind/listen 127.0.0.1")
            Glibc.close(fd)
            throw failure
        }
    }

    deinit {
        Glibc.close(fd)
    }

    /// A connected (client, server) pair, both nonblocking with TCP_NODELAY.
    func connectedPair() throws -> (client: Int32, server: Int32) {
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard client >= 0 else { throw TLSTransportBenchmark.Failure.errno("socket") }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                connect(client, address, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            let failure = TLSTransportBenchmark.Failure.errno("connect")
            Glibc.close(client)
            throw failure
        }
        let server = accept(fd, nil, nil)
        guard server >= 0 else {
            let failure = TLSTransportBenchmark.Failure.errno("accept")
            Glibc.close(client)
            throw failure
        }
        for socket in [client, server] {
            var one: Int32 = 1
            _ = setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(socket, F_SETFD, FD_CLOEXEC)
        }
        // Closed with a reset: thousands of handshake connections must not fill TIME_WAIT.
        var reset = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
        return (client, server)
    }
}

/// A connected nonblocking socket pair.
private struct SocketPair {
    let client: Int32
    let server: Int32

    init(_ transport: TLSTransportBenchmark.Transport, listener: Listener?) throws {
        switch transport {
        case .tcp:
            guard let listener else { preconditionFailure("TCP pairs need a listener") }
            (client, server) = try listener.connectedPair()
        case .unix:
            var fds: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
                throw TLSTransportBenchmark.Failure.errno("socketpair")
            }
            (client, server) = (fds[0], fds[1])
        }
        for fd in [client, server] {
            let flags = fcntl(fd, F_GETFL)
            guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
                let failure = TLSTransportBenchmark.Failure.errno("fcntl(O_NONBLOCK)")
                close()
                throw failure
            }
        }
    }

    func close() {
        Glibc.close(client)
        Glibc.close(server)
    }
}
