// `sink`: reads N bytes from a target (a `source-server`, usually through a bandwidth fault)
// and reports the rate achieved.

import Glibc

enum Sink {
    static func run(_ arguments: inout Arguments) throws {
        let target = try arguments.endpoint("target")
        let total = max(1, try arguments.int("bytes", default: 100_000_000))
        // The first part of the transfer is reported separately: a token bucket may start
        // with a burst, and the steady rate is what a fault promises.
        let skipFraction = min(0.9, try arguments.double("skip-fraction", default: 0.1))
        try arguments.finish()

        Posix.ignoreSigpipe()
        let fd = try TCP.connect(to: target)
        defer { close(fd) }
        let bufferSize = 256 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        let skip = Int(Double(total) * skipFraction)
        var received = 0
        var first: UInt64 = 0
        var steadyFrom: UInt64 = 0
        var steadyBytes = 0
        let connected = monotonicNanoseconds()
        while received < total {
            let n = Posix.read(fd, buffer, min(bufferSize, total - received))
            if n < 0 { throw BenchError.errno("read") }
            if n == 0 { throw BenchError("peer closed after \(received) of \(total) bytes") }
            let now = monotonicNanoseconds()
            if received == 0 { first = now }
            if steadyFrom == 0 && received >= skip && received > 0 { steadyFrom = now; steadyBytes = total - received }
            received += n
        }
        let end = monotonicNanoseconds()
        let seconds = Double(end - first) / 1e9
        let steadySeconds = steadyFrom == 0 ? seconds : Double(end - steadyFrom) / 1e9
        printLine(jsonLine([
            ("test", .string("sink")), ("target", .string(target.description)), ("bytes", .int(total)),
            ("first_byte_ms", .number(Double(first - connected) / 1e6)), ("seconds", .number(seconds)),
            ("mb_per_s", .number(Double(total) / max(seconds, 1e-9) / 1e6)),
            ("steady_mb_per_s", .number(Double(steadyFrom == 0 ? total : steadyBytes) / max(steadySeconds, 1e-9) / 1e6)),
        ]))
    }
}
