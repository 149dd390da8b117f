// `echo-server`: the upstream for ping-pong, request-rate and idle-connection runs.
//
// N threads, each with its own level-triggered epoll; they share one non-blocking listener
// registered with EPOLLEXCLUSIVE so one wake-up serves one accept burst. Idle connections cost
// one fd and nothing else: the read buffer is per thread, and bytes the peer is not reading are
// kept only for connections that have them (the read side stops until they are written).

import Glibc

enum EchoServer {
    static func run(_ arguments: inout Arguments) throws {
        let host = try arguments.string("host", default: "127.0.0.1")
        let port = try arguments.int("port", default: 0)
        let threads = max(1, try arguments.int("threads", default: 2))
        try arguments.finish()
        guard port <= 65535 else { throw BenchError("--port \(port) out of range") }

        Posix.raiseFileLimit()
        Posix.ignoreSigpipe()
        let listener = try TCP.listen(on: Endpoint(host: host, port: UInt16(port)))
        try Posix.setNonBlocking(listener)
        printLine(String(try TCP.localPort(listener)))

        let workers = try (0..<threads).map { _ in
            try Thread {
                do { try serve(listener: listener) } catch { printError("echo-server: \(error)"); exit(1) }
            }
        }
        for worker in workers { worker.join() }
    }

    private static func serve(listener: Int32) throws {
        let epoll = try Epoll(capacity: 512)
        try epoll.add(listener, Epoll.input | Epoll.exclusive)
        let bufferSize = 256 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        // Bytes read but not yet written back, only for connections whose peer is slow to read.
        var pending: [Int32: [UInt8]] = [:]

        func closeConnection(_ fd: Int32) {
            pending[fd] = nil
            close(fd)  // also removes it from the epoll set: no other fd refers to the description
        }

        while true {
            try epoll.wait(timeoutMilliseconds: -1) { token, events in
                let fd = Int32(truncatingIfNeeded: token)
                if fd == listener {
                    while let connection = try TCP.accept(listener) {
                        try Posix.setNonBlocking(connection)
                        Posix.setNoDelay(connection)
                        try epoll.add(connection, Epoll.input | Epoll.readHangUp)
                    }
                    return
                }
                if events & Epoll.output != 0, var backlog = pending[fd] {
                    let written = backlog.withUnsafeBytes { Posix.write(fd, $0.baseAddress!, $0.count) }
                    if written < 0 {
                        if errno != EAGAIN { closeConnection(fd) }
                        return
                    }
                    backlog.removeFirst(written)
                    if backlog.isEmpty {
                        pending[fd] = nil
                        try epoll.modify(fd, Epoll.input | Epoll.readHangUp)
                    } else {
                        pending[fd] = backlog
                    }
                    return
                }
                let count = Posix.read(fd, buffer, bufferSize)
                if count == 0 || (count < 0 && errno != EAGAIN) {
                    closeConnection(fd)
                    return
                }
                if count < 0 { return }
                let written = Posix.write(fd, buffer, count)
                if written < 0 && errno != EAGAIN {
                    closeConnection(fd)
                    return
                }
                let sent = max(0, written)
                if sent < count {
                    pending[fd] = Array(UnsafeRawBufferPointer(start: buffer + sent, count: count - sent))
                    try epoll.modify(fd, Epoll.output | Epoll.readHangUp)
                }
            }
        }
    }
}
