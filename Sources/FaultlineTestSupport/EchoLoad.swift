public import FaultlineCore
import FaultlineSystem
import Glibc
import Synchronization

/// Many concurrent connections, each sending its own seeded payload to an echo service and
/// reading the echo back; both ends are hashed with SHA-256.
///
/// Every connection is opened before any byte is sent, so all of them are open at once. Each of
/// `threads` epoll loops drives its share of the connections, sending and reading at the same
/// time (an echo of several MB cannot be sent first and read afterwards without deadlocking on
/// full socket buffers).
public enum EchoLoad {
    /// One connection's outcome.
    public struct Result: Sendable, Equatable {
        public var index: Int
        public var payloadBytes: Int
        public var bytesSent = 0
        public var bytesReceived = 0
        public var sentSHA256 = ""
        public var receivedSHA256 = ""
        /// Why it did not finish cleanly, or nil.
        public var failure: String?

        /// Everything sent came back, byte for byte.
        public var isExact: Bool {
            failure == nil && bytesSent == payloadBytes && bytesReceived == payloadBytes && sentSHA256 == receivedSHA256
        }
    }

    /// Payload byte sizes: log-uniform over 0...`maxBytes` (many small, a few large), from `seed`.
    public static func sizes(count: Int, maxBytes: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        let logMax = log(Double(maxBytes + 1))
        return (0..<count).map { _ in
            min(maxBytes, Int(exp(rng.nextUnit() * logMax)) - 1)
        }
    }

    /// Runs one connection per entry of `sizes` against `endpoint`; returns when every
    /// connection finished or `timeout` passed (unfinished ones report a failure).
    /// `beforeSending` runs after every connect was started and before any byte is sent (a test
    /// waits there until the upstream holds all connections).
    public static func run(
        to endpoint: Endpoint, sizes: [Int], seed: UInt64, threads: Int = 2, timeout: Duration = .seconds(60),
        beforeSending: () -> Void = {}
    ) -> [Result] {
        let deadline = Deadline(after: timeout)
        // Open every connection first (nonblocking connects), so all are concurrent.
        var fds: [CInt] = []
        var early: [Int: String] = [:]
        for index in sizes.indices {
            let fd = socket(endpoint.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            if fd < 0 {
                early[index] = "socket: errno \(errno)"
                fds.append(-1)
                continue
            }
            let rc = endpoint.withSockAddr { connect(fd, $0, $1) }
            if rc != 0 && errno != EINPROGRESS { early[index] = "connect: errno \(errno)" }
            fds.append(fd)
        }
        beforeSending()
        let results = Mutex<[Result]>(sizes.enumerated().map { Result(index: $0.offset, payloadBytes: $0.element) })
        let handles = (0..<threads).map { threadIndex in
            let mine = sizes.indices.filter { $0 % threads == threadIndex }
            let jobs = mine.map { (index: $0, fd: fds[$0], size: sizes[$0], failure: early[$0]) }
            return Threads.spawn(name: "load-\(threadIndex)") {
                let done = LoadLoop(jobs: jobs, seed: seed, deadline: deadline).run()
                results.withLock { all in for result in done { all[result.index] = result } }
            }
        }
        for handle in handles { handle.join() }
        return results.withLock { $0 }
    }

    /// The payload byte at `offset` of connection `index` (deterministic, so it need not be stored).
    static func fill(_ buffer: UnsafeMutableRawBufferPointer, count: Int, offset: Int, key: UInt64) {
        // Word-aligned generation: word w of the stream is mix(key + w * golden).
        var position = offset
        var out = 0
        while out < count {
            let word = UInt64(position / 8)
            var z = key &+ word &* 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z &>> 31
            var shift = UInt64((position % 8) * 8)
            while shift < 64 && out < count {
                buffer[out] = UInt8(truncatingIfNeeded: z &>> shift)
                shift += 8
                out += 1
                position += 1
            }
        }
    }

    static func key(seed: UInt64, index: Int) -> UInt64 {
        var rng = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        return rng.next()
    }
}

/// SplitMix64: a tiny seeded generator for test data.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    /// A double in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }
}

/// One thread's share of an `EchoLoad` run.
private final class LoadLoop {
    final class Job {
        let fd: CInt
        let key: UInt64
        /// Index in `jobs`, carried in epoll data.
        var slot = 0
        var result: EchoLoad.Result
        var sentHash = SHA256()
        var receivedHash = SHA256()
        var writeShut = false
        var finished = false
        init(fd: CInt, key: UInt64, result: EchoLoad.Result) {
            self.fd = fd
            self.key = key
            self.result = result
        }
    }

    var jobs: [Job] = []
    let deadline: Deadline
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    init(jobs: [(index: Int, fd: CInt, size: Int, failure: String?)], seed: UInt64, deadline: Deadline) {
        self.deadline = deadline
        for job in jobs {
            var result = EchoLoad.Result(index: job.index, payloadBytes: job.size)
            result.failure = job.failure
            let entry = Job(fd: job.fd, key: EchoLoad.key(seed: seed, index: job.index), result: result)
            entry.finished = job.failure != nil
            entry.slot = self.jobs.count
            self.jobs.append(entry)
        }
    }

    deinit { scratch.deallocate() }

    func run() -> [EchoLoad.Result] {
        defer {
            for job in jobs where job.fd >= 0 { _ = close(job.fd) }
        }
        guard let epoll = try? Linux.epollCreate() else {
            return jobs.map { var r = $0.result; r.failure = "epoll_create failed"; return r }
        }
        var remaining = 0
        for (slot, job) in jobs.enumerated() where !job.finished {
            try? Linux.epollControl(epoll, .add, fd: job.fd, events: [.readable, .writable, .readHangup], data: UInt64(slot))
            remaining += 1
        }
        var events = EpollEventBuffer(capacity: 256)
        while remaining > 0 && !deadline.hasPassed {
            let ms = CInt(min(1000, max(1, deadline.remaining.totalNanoseconds / 1_000_000)))
            guard let count = try? Linux.epollWait(epoll, into: &events, timeoutMilliseconds: ms) else { break }
            for i in 0..<count {
                let event = events[i]
                let job = jobs[Int(event.data)]
                guard !job.finished else { continue }
                step(epoll, job, event.events)
                if job.finished { remaining -= 1 }
            }
        }
        return jobs.map { job in
            var result = job.result
            if !job.finished && result.failure == nil {
                result.failure = "unfinished at the deadline (sent \(result.bytesSent), received \(result.bytesReceived))"
            }
            return result
        }
    }

    private func step(_ epoll: borrowing FileDescriptor, _ job: Job, _ events: Linux.EpollEvents) {
        // Send while the socket takes bytes.
        if !job.writeShut && !events.isDisjoint(with: [.writable, .error, .hangup]) {
            while job.result.bytesSent < job.result.payloadBytes {
                let chunk = min(scratch.count, job.result.payloadBytes - job.result.bytesSent)
                EchoLoad.fill(scratch, count: chunk, offset: job.result.bytesSent, key: job.key)
                let n = send(job.fd, scratch.baseAddress, chunk, CInt(MSG_NOSIGNAL | MSG_DONTWAIT))
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { break }
                    fail(job, "send: errno \(errno) after \(job.result.bytesSent) bytes")
                    return
                }
                job.sentHash.update(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
                job.result.bytesSent += n
            }
            if job.result.bytesSent == job.result.payloadBytes {
                _ = shutdown(job.fd, CInt(SHUT_WR))
                job.writeShut = true
                try? Linux.epollControl(epoll, .modify, fd: job.fd, events: [.readable, .readHangup], data: UInt64(job.slot))
            }
        }
        // Read what came back.
        if !events.isDisjoint(with: [.readable, .readHangup, .error, .hangup]) {
            while true {
                let n = recv(job.fd, scratch.baseAddress, scratch.count, CInt(MSG_DONTWAIT))
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { return }
                    fail(job, "recv: errno \(errno) after \(job.result.bytesReceived) bytes")
                    return
                }
                if n == 0 {
                    if !job.writeShut {
                        fail(job, "EOF before everything was sent (\(job.result.bytesSent) of \(job.result.payloadBytes))")
                        return
                    }
                    job.result.sentSHA256 = job.sentHash.finalizeHex()
                    job.result.receivedSHA256 = job.receivedHash.finalizeHex()
                    job.finished = true
                    return
                }
                job.receivedHash.update(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
                job.result.bytesReceived += n
            }
        }
    }

    private func fail(_ job: Job, _ why: String) {
        job.result.failure = why
        job.finished = true
    }
}

@available(*, unavailable)
extension LoadLoop: Sendable {}
