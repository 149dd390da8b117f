// Thin wrappers over the Glibc calls the load generator needs.
//
// This is a measurement tool, not the daemon: it deliberately does not use FaultlineSystem so
// that it measures the proxy with code that does not share the proxy's own I/O layer (a bug
// there must not cancel out in a benchmark). It traps on programmer errors and exits on
// environment errors, with a message naming the call.

import Glibc

/// Errors the tool reports and exits on.
struct BenchError: Error, CustomStringConvertible {
    let description: String

    init(_ message: String) { description = message }

    /// An error for a failed syscall, with errno rendered.
    static func errno(_ call: String, _ code: Int32 = Glibc.errno) -> BenchError {
        BenchError("\(call): \(String(cString: strerror(code))) (errno \(code))")
    }
}

/// Writes a line to stderr (fd 2; Swift 6 rejects the `stderr` global).
func printError(_ message: String) {
    let line = message + "\n"
    var bytes = Array(line.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

/// Writes a line to stdout unbuffered, so a script reading a pipe sees it at once.
func printLine(_ message: String) {
    var bytes = Array((message + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 {
            if errno == EINTR { continue }
            return
        }
        offset += n
    }
}

enum Posix {
    /// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
    @discardableResult
    static func raiseFileLimit() -> UInt64 {
        var limit = rlimit()
        let resource = Int32(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(resource, &limit)
            _ = getrlimit(resource, &limit)
        }
        return UInt64(limit.rlim_cur)
    }

    /// A write to a peer that reset must fail with EPIPE, not kill the tool.
    static func ignoreSigpipe() {
        _ = signal(SIGPIPE, SIG_IGN)
    }

    static func setNonBlocking(_ fd: Int32) throws {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw BenchError.errno("fcntl(O_NONBLOCK)") }
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    static func setIntOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// `read` with EINTR retried. Returns bytes read, 0 at EOF, -1 with errno set otherwise.
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// `send` (MSG_NOSIGNAL) with EINTR retried. Returns bytes written or -1 with errno set.
    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        while true {
            let n = send(fd, buffer, count, Int32(MSG_NOSIGNAL))
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Writes all bytes on a blocking socket.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) throws {
        var offset = 0
        while offset < count {
            let n = write(fd, buffer + offset, count - offset)
            if n < 0 { throw BenchError.errno("send") }
            offset += n
        }
    }

    /// Reads exactly `count` bytes from a blocking socket.
    static func readExactly(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) throws {
        var offset = 0
        while offset < count {
            let n = read(fd, buffer + offset, count - offset)
            if n < 0 { throw BenchError.errno("read") }
            if n == 0 { throw BenchError("read: peer closed after \(offset) of \(count) bytes") }
            offset += n
        }
    }

    /// Resident set size of a process in bytes, from `/proc/PID/status` (VmRSS).
    static func residentBytes(pid: Int32) throws -> UInt64 {
        let path = "/proc/\(pid)/status"
        guard let file = fopen(path, "r") else { throw BenchError.errno("fopen(\(path))") }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if text.hasPrefix("VmRSS:") {
                let digits = text.dropFirst(6).filter { $0.isNumber }
                if let kib = UInt64(String(digits)) { return kib * 1024 }
            }
        }
        throw BenchError("\(path): no VmRSS line")
    }
}

/// Monotonic clock in nanoseconds.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Sleeps for a number of seconds (fractions allowed).
func sleepSeconds(_ seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
