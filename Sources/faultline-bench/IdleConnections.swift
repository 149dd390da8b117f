// `idle`: the proxy's resident memory per established, idle connection; with `--control`,
// also how long `POST /v1/faults` and `DELETE /v1/faults/ID` take with those connections open.

import Glibc

enum IdleConnections {
    static func run(_ arguments: inout Arguments) throws {
        let target = try arguments.endpoint("target")
        let connections = max(1, try arguments.int("conns", default: 9900))
        let hold = try arguments.double("hold-seconds", default: 2)
        let settle = try arguments.double("settle-seconds", default: 1)
        let pid = Int32(try arguments.int("pid"))
        let control = try arguments.string("control", default: "")
        let route = try arguments.string("route", default: "")
        let applies = try arguments.int("applies", default: 20)
        try arguments.finish()

        let limit = Posix.raiseFileLimit()
        guard UInt64(connections) + 64 <= limit else {
            throw BenchError("\(connections) connections need more than the file limit \(limit)")
        }
        Posix.ignoreSigpipe()
        let before = try Posix.residentBytes(pid: pid)
        let start = monotonicNanoseconds()
        var descriptors: [Int32] = []
        defer { for fd in descriptors { close(fd) } }
        try openEchoed(target, count: connections, into: &descriptors)
        var byte: UInt8 = 0x2a
        let opened = Double(monotonicNanoseconds() - start) / 1e9
        sleepSeconds(min(settle, hold))
        let after = try Posix.residentBytes(pid: pid)
        sleepSeconds(hold - min(settle, hold))
        let delta = Int64(bitPattern: after &- before)
        var fields: [(String, JSONValue)] = [
            ("test", .string("idle")), ("target", .string(target.description)), ("pid", .int(Int(pid))),
            ("conns", .int(connections)), ("open_seconds", .number(opened)),
            ("rss_before_bytes", .int(Int(before))), ("rss_after_bytes", .int(Int(after))),
            ("rss_per_conn_bytes", .number(Double(delta) / Double(connections))),
        ]
        if !control.isEmpty {
            fields += try timeApplies(socket: control, route: route, rounds: max(1, applies))
            // The faults came and went with every connection open: each must still relay.
            for (index, fd) in descriptors.enumerated() {
                try Posix.writeAll(fd, &byte, 1)
                do { try Posix.readExactly(fd, &byte, 1) } catch {
                    throw BenchError("connection \(index + 1) after the applies: \(error)")
                }
            }
        }
        printLine(jsonLine(fields))
    }

    /// Opens `count` connections to `target`, each proven with one echoed byte (it reached the
    /// upstream through the proxy), appending them to `descriptors` as they open.
    static func openEchoed(_ target: Endpoint, count: Int, into descriptors: inout [Int32]) throws {
        descriptors.reserveCapacity(descriptors.count + count)
        var byte: UInt8 = 0x2a
        for index in 0..<count {
            let fd: Int32
            do { fd = try TCP.connect(to: target) } catch { throw BenchError("connection \(index + 1) of \(count): \(error)") }
            descriptors.append(fd)
            try Posix.writeAll(fd, &byte, 1)
            try Posix.readExactly(fd, &byte, 1)
        }
    }

    /// `rounds` times: apply a latency fault to `route`, then clear it; the answer times in ms.
    static func timeApplies(socket: String, route: String, rounds: Int) throws -> [(String, JSONValue)] {
        var applied: [UInt64] = []
        var cleared: [UInt64] = []
        let body = #"{"id": "bench-apply", "type": "latency", "route": "\#(route)", "delay": "1ms"}"#
        for _ in 0..<rounds {
            let post = try ControlClient.request(socket: socket, method: "POST", path: "/v1/faults", body: body)
            guard post.status == 201 else { throw BenchError("POST /v1/faults answered \(post.status)") }
            applied.append(post.nanoseconds)
            let delete = try ControlClient.request(socket: socket, method: "DELETE", path: "/v1/faults/bench-apply")
            guard delete.status == 200 || delete.status == 204 else { throw BenchError("DELETE answered \(delete.status)") }
            cleared.append(delete.nanoseconds)
        }
        let apply = LatencySummary(nanoseconds: &applied)
        let clear = LatencySummary(nanoseconds: &cleared)
        return [
            ("apply_p50_ms", .number(apply.p50Microseconds / 1000)), ("apply_max_ms", .number(apply.maxMicroseconds / 1000)),
            ("clear_p50_ms", .number(clear.p50Microseconds / 1000)), ("clear_max_ms", .number(clear.maxMicroseconds / 1000)),
        ]
    }
}
