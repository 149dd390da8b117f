// `pingpong`: one connection, one message in flight: the latency a proxy adds per round trip.
// `--busy-poll`: the client spins on a nonblocking read instead of sleeping in recv, so its own
// wake-up is not in the measurement (what is left is the path through the proxy).

import Glibc

enum PingPong {
    static func run(_ arguments: inout Arguments) throws {
        let target = try arguments.endpoint("target")
        let size = max(1, try arguments.int("size", default: 64))
        let count = max(1, try arguments.int("count", default: 10000))
        let warmup = try arguments.int("warmup", default: 1000)
        let busyPoll = arguments.flag("busy-poll")
        try arguments.finish()

        Posix.ignoreSigpipe()
        let fd = try TCP.connect(to: target)
        defer { close(fd) }
        if busyPoll { try Posix.setNonBlocking(fd) }
        let message = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        let reply = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { message.deallocate(); reply.deallocate() }
        for index in 0..<size { message.storeBytes(of: UInt8(truncatingIfNeeded: index &* 31 &+ 7), toByteOffset: index, as: UInt8.self) }

        var samples: [UInt64] = []
        samples.reserveCapacity(count)
        for round in 0..<(warmup + count) {
            // A per-round marker so a stale or reordered reply cannot pass for the current one.
            message.storeBytes(of: UInt8(truncatingIfNeeded: round), toByteOffset: 0, as: UInt8.self)
            let start = monotonicNanoseconds()
            try Posix.writeAll(fd, message, size)
            if busyPoll { try spinReadExactly(fd, reply, size) } else { try Posix.readExactly(fd, reply, size) }
            let end = monotonicNanoseconds()
            guard memcmp(message, reply, size) == 0 else { throw BenchError("reply \(round) differs from the message sent") }
            if round >= warmup { samples.append(end - start) }
        }
        let summary = LatencySummary(nanoseconds: &samples)
        printLine(jsonLine(
            [("test", .string("pingpong")), ("target", .string(target.description)), ("size", .int(size)),
             ("busy_poll", .int(busyPoll ? 1 : 0))] + summary.fields))
    }

    /// Reads exactly `count` bytes from a nonblocking socket, never sleeping.
    private static func spinReadExactly(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) throws {
        var offset = 0
        while offset < count {
            let n = recv(fd, buffer + offset, count - offset, 0)
            if n > 0 {
                offset += n
            } else if n == 0 {
                throw BenchError("read: peer closed after \(offset) of \(count) bytes")
            } else if errno != EAGAIN && errno != EINTR {
                throw BenchError.errno("recv")
            }
        }
    }
}
