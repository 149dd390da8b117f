// IPv4 TCP endpoints, listeners and connects for the load generator.

import Glibc

/// An IPv4 host and port, parsed from `host:port`.
struct Endpoint: CustomStringConvertible {
    let host: String
    let port: UInt16

    /// Parses `host:port`; `localhost` means 127.0.0.1.
    init(parsing text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw BenchError("\(text): expected host:port")
        }
        let host = String(text[..<colon])
        self.host = host == "localhost" || host.isEmpty ? "127.0.0.1" : host
        self.port = port
    }

    init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    var description: String { "\(host):\(port)" }

    func socketAddress() throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw BenchError("\(host): not an IPv4 address") }
        return address
    }
}

enum TCP {
    /// A new IPv4 stream socket (close-on-exec).
    static func socket() throws -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchError.errno("socket") }
        return fd
    }

    /// Connects a blocking socket with TCP_NODELAY set.
    static func connect(to endpoint: Endpoint) throws -> Int32 {
        var address = try endpoint.socketAddress()
        let fd = try socket()
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw BenchError.errno("connect(\(endpoint))", code)
        }
        Posix.setNoDelay(fd)
        return fd
    }

    /// A listening socket on `host:port` (port 0 picks a free one).
    static func listen(on endpoint: Endpoint, backlog: Int32 = 65535, reusePort: Bool = false) throws -> Int32 {
        var address = try endpoint.socketAddress()
        let fd = try socket()
        Posix.setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if reusePort { Posix.setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw BenchError.errno("bind(\(endpoint))", code)
        }
        guard Glibc.listen(fd, backlog) == 0 else { throw BenchError.errno("listen") }
        return fd
    }

    /// The local port a socket is bound to.
    static func localPort(_ fd: Int32) throws -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { throw BenchError.errno("getsockname") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Accepts one connection; nil when the (non-blocking) listener has none ready.
    static func accept(_ listener: Int32) throws -> Int32? {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 { return fd }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case EMFILE, ENFILE:
                printError("accept: out of file descriptors")
                return nil
            default: throw BenchError.errno("accept")
            }
        }
    }
}
