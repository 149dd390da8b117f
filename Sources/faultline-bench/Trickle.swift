// `trickle`: many connections, each sending one small message per interval and reading its
// echo: the proxy's CPU cost of connections that are mostly idle (under a latency fault, its
// timers), as a share of one core from /proc/PID/stat.

import Glibc

enum Trickle {
    static func run(_ arguments: inout Arguments) throws {
        let target = try arguments.endpoint("target")
        let connections = max(1, try arguments.int("conns", default: 1000))
        let seconds = max(1, try arguments.double("seconds", default: 10))
        let interval = max(0.01, try arguments.double("interval", default: 1))
        let pid = Int32(try arguments.int("pid"))
        let size = max(1, try arguments.int("size", default: 64))
        try arguments.finish()

        let limit = Posix.raiseFileLimit()
        guard UInt64(connections) + 64 <= limit else {
            throw BenchError("\(connections) connections need more than the file limit \(limit)")
        }
        Posix.ignoreSigpipe()
        var descriptors: [Int32] = []
        defer { for fd in descriptors { close(fd) } }
        try IdleConnections.openEchoed(target, count: connections, into: &descriptors)
        for fd in descriptors { try Posix.setNonBlocking(fd) }

        let message = [UInt8](repeating: 0x61, count: size)
        var reply = [UInt8](repeating: 0, count: 65536)
        // Bytes still to come back, per connection.
        var owed = [Int](repeating: 0, count: connections)
        var sent = 0
        var received = 0
        let spacing = UInt64(interval * 1e9) / UInt64(connections)
        let start = monotonicNanoseconds()
        let end = start + UInt64(seconds * 1e9)
        let cpuBefore = try cpuTicks(pid)
        var next = start
        var turn = 0
        while true {
            let now = monotonicNanoseconds()
            if now >= end { break }
            if now >= next {
                let index = turn % connections
                let n = message.withUnsafeBytes { send(descriptors[index], $0.baseAddress, size, Int32(MSG_NOSIGNAL)) }
                guard n == size else { throw BenchError("connection \(index + 1): short send (\(n))") }
                owed[index] += size
                sent += 1
                turn += 1
                next = start + UInt64(turn) * spacing
            }
            // Collect echoes that arrived; then sleep until the next send (at most 1 ms).
            for index in 0..<connections where owed[index] > 0 {
                let n = reply.withUnsafeMutableBytes { recv(descriptors[index], $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0 {
                    owed[index] -= n
                    received += n
                } else if n == 0 {
                    throw BenchError("connection \(index + 1) closed")
                }
            }
            let wait = min(next > now ? next - now : 0, 1_000_000)
            if wait > 0 {
                var request = timespec(tv_sec: 0, tv_nsec: Int(wait))
                nanosleep(&request, nil)
            }
        }
        let cpuAfter = try cpuTicks(pid)
        let wall = Double(monotonicNanoseconds() - start) / 1e9
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cpuPercent = Double(cpuAfter - cpuBefore) / ticks / wall * 100
        printLine(jsonLine([
            ("test", .string("trickle")), ("target", .string(target.description)), ("conns", .int(connections)),
            ("interval_s", .number(interval)), ("seconds", .number(wall)), ("messages", .int(sent)),
            ("bytes_back", .int(received)), ("bytes_owed", .int(owed.reduce(0, +))),
            ("proxy_cpu_percent", .number(cpuPercent)),
        ]))
    }

    /// utime + stime of the whole process, in clock ticks (fields 14 and 15 of /proc/PID/stat).
    static func cpuTicks(_ pid: Int32) throws -> UInt64 {
        let path = "/proc/\(pid)/stat"
        guard let file = fopen(path, "r") else { throw BenchError.errno("fopen(\(path))") }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 2048)
        guard fgets(&line, Int32(line.count), file) != nil else { throw BenchError("\(path): empty") }
        let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // The command name may hold spaces; the fields after its closing parenthesis do not.
        guard let close = text.lastIndex(of: ")") else { throw BenchError("\(path): no command name") }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): utime is field 14, stime 15.
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else {
            throw BenchError("\(path): no utime/stime")
        }
        return user + system
    }
}
