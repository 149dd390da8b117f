// `rps`: many connections, each with one message in flight, driven by a few epoll threads:
// the request rate a proxy sustains and the latency under that load.

import Glibc

enum RequestRate {
    private struct ThreadResult {
        var completed = 0
        var samples: [UInt64] = []
        var failure: String? = nil
    }

    static func run(_ arguments: inout Arguments) throws {
        let target = try arguments.endpoint("target")
        let connections = max(1, try arguments.int("conns", default: 64))
        let size = max(1, try arguments.int("size", default: 64))
        let duration = try arguments.double("duration", default: 5)
        let warmup = try arguments.double("warmup", default: 0.5)
        let threads = max(1, min(connections, try arguments.int("threads", default: 2)))
        try arguments.finish()

        Posix.raiseFileLimit()
        Posix.ignoreSigpipe()
        // Connect everything first so the measured window holds no handshakes.
        var descriptors: [Int32] = []
        for _ in 0..<connections {
            let fd = try TCP.connect(to: target)
            try Posix.setNonBlocking(fd)
            descriptors.append(fd)
        }
        let results = PerThread(count: threads, initial: ThreadResult())
        let begin = monotonicNanoseconds()
        let measureFrom = begin + UInt64(warmup * 1e9)
        let measureUntil = measureFrom + UInt64(duration * 1e9)
        let workers = try (0..<threads).map { thread in
            let mine = stride(from: thread, to: connections, by: threads).map { descriptors[$0] }
            return try Thread {
                var result = ThreadResult()
                do {
                    try drive(mine, size: size, measureFrom: measureFrom, measureUntil: measureUntil, into: &result)
                } catch {
                    result.failure = "\(error)"
                }
                results[thread] = result
            }
        }
        for worker in workers { worker.join() }
        for fd in descriptors { close(fd) }

        var samples: [UInt64] = []
        var completed = 0
        for result in results.all {
            if let failure = result.failure { throw BenchError("\(failure)") }
            completed += result.completed
            samples += result.samples
        }
        let summary = LatencySummary(nanoseconds: &samples)
        printLine(jsonLine([
            ("test", .string("rps")), ("target", .string(target.description)),
            ("conns", .int(connections)), ("size", .int(size)), ("seconds", .number(duration)),
            ("requests", .int(completed)), ("rps", .number(Double(completed) / max(duration, 1e-9))),
        ] + summary.fields))
    }

    private static func drive(_ descriptors: [Int32], size: Int, measureFrom: UInt64, measureUntil: UInt64, into result: inout ThreadResult) throws {
        let epoll = try Epoll(capacity: max(16, descriptors.count))
        let message = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 65536), alignment: 16)
        defer { message.deallocate(); buffer.deallocate() }
        message.initializeMemory(as: UInt8.self, repeating: 0x5a, count: size)
        result.samples.reserveCapacity(1 << 20)

        // Per connection (indexed by position): when its message went out, bytes of reply seen.
        var sentAt = [UInt64](repeating: 0, count: descriptors.count)
        var received = [Int](repeating: 0, count: descriptors.count)

        func send(_ index: Int) throws {
            sentAt[index] = monotonicNanoseconds()
            received[index] = 0
            var offset = 0
            // One small message on a socket whose peer drains it: a short write is rare, and
            // spinning on it briefly is cheaper than a second state machine.
            while offset < size {
                let n = Posix.write(descriptors[index], message + offset, size - offset)
                if n < 0 {
                    guard errno == EAGAIN else { throw BenchError.errno("send") }
                    sched_yield()
                    continue
                }
                offset += n
            }
        }

        for index in descriptors.indices {
            try epoll.add(descriptors[index], Epoll.input | Epoll.readHangUp, token: UInt64(index))
            try send(index)
        }
        while true {
            let now = monotonicNanoseconds()
            if now >= measureUntil { return }
            try epoll.wait(timeoutMilliseconds: 10) { token, _ in
                let index = Int(token)
                let n = Posix.read(descriptors[index], buffer, max(size, 65536))
                if n == 0 { throw BenchError("connection \(index) closed by peer") }
                if n < 0 {
                    if errno == EAGAIN { return }
                    throw BenchError.errno("read")
                }
                received[index] += n
                guard received[index] >= size else { return }
                if received[index] > size { throw BenchError("connection \(index): more bytes than sent") }
                let end = monotonicNanoseconds()
                if sentAt[index] >= measureFrom && end <= measureUntil {
                    result.completed += 1
                    result.samples.append(end - sentAt[index])
                }
                if end < measureUntil { try send(index) }
            }
        }
    }
}
