// `idle`: the proxy's resident memory per established, idle connection.

import Glibc

enum IdleConnections {
    static func run(_ arguments: inout Arguments) throws {
        let target = try arguments.endpoint("target")
        let connections = max(1, try arguments.int("conns", default: 9900))
        let hold = try arguments.double("hold-seconds", default: 2)
        let settle = try arguments.double("settle-seconds", default: 1)
        let pid = Int32(try arguments.int("pid"))
        try arguments.finish()

        let limit = Posix.raiseFileLimit()
        guard UInt64(connections) + 64 <= limit else {
            throw BenchError("\(connections) connections need more than the file limit \(limit)")
        }
        Posix.ignoreSigpipe()
        let before = try Posix.residentBytes(pid: pid)
        let start = monotonicNanoseconds()
        var descriptors: [Int32] = []
        descriptors.reserveCapacity(connections)
        defer { for fd in descriptors { close(fd) } }
        var byte: UInt8 = 0x2a
        for index in 0..<connections {
            let fd: Int32
            do { fd = try TCP.connect(to: target) } catch { throw BenchError("connection \(index + 1) of \(connections): \(error)") }
            descriptors.append(fd)
            // One echoed byte proves the connection reached the upstream through the proxy.
            try Posix.writeAll(fd, &byte, 1)
            try Posix.readExactly(fd, &byte, 1)
        }
        let opened = Double(monotonicNanoseconds() - start) / 1e9
        sleepSeconds(min(settle, hold))
        let after = try Posix.residentBytes(pid: pid)
        sleepSeconds(hold - min(settle, hold))
        let delta = Int64(bitPattern: after &- before)
        printLine(jsonLine([
            ("test", .string("idle")), ("target", .string(target.description)), ("pid", .int(Int(pid))),
            ("conns", .int(connections)), ("open_seconds", .number(opened)),
            ("rss_before_bytes", .int(Int(before))), ("rss_after_bytes", .int(Int(after))),
            ("rss_per_conn_bytes", .number(Double(delta) / Double(connections))),
        ]))
    }
}
