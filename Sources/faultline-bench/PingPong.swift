// `pingpong`: one connection, one message in flight: the latency a proxy adds per round trip.

import Glibc

enum PingPong {
    static func run(_ arguments: inout Arguments) throws {
        let target = try arguments.endpoint("target")
        let size = max(1, try arguments.int("size", default: 64))
        let count = max(1, try arguments.int("count", default: 10000))
        let warmup = try arguments.int("warmup", default: 1000)
        try arguments.finish()

        Posix.ignoreSigpipe()
        let fd = try TCP.connect(to: target)
        defer { close(fd) }
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
            try Posix.readExactly(fd, reply, size)
            let end = monotonicNanoseconds()
            guard memcmp(message, reply, size) == 0 else { throw BenchError("reply \(round) differs from the message sent") }
            if round >= warmup { samples.append(end - start) }
        }
        let summary = LatencySummary(nanoseconds: &samples)
        printLine(jsonLine([("test", .string("pingpong")), ("target", .string(target.description)), ("size", .int(size))] + summary.fields))
    }
}
