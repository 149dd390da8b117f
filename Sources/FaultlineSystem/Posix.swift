internal import Glibc
internal import CFaultlineShims

/// Socket and file calls, each through `syscall`.
public enum Posix {
    /// Which way `shutdown` closes.
    public enum ShutdownHow: Sendable { case read, write, both }

    /// A new TCP (or Unix stream) socket, close-on-exec, optionally nonblocking.
    public static func socket(family: SocketAddress.Family, nonBlocking: Bool = true) throws(SystemError) -> FileDescriptor {
        let domain: CInt
        switch family {
        case .inet: domain = AF_INET
        case .inet6: domain = AF_INET6
        case .unix: domain = AF_UNIX
        }
        var type = CFaultline_SOCK_STREAM | CFaultline_SOCK_CLOEXEC
        if nonBlocking { type |= CFaultline_SOCK_NONBLOCK }
        let fd = try syscall("socket") { Glibc.socket(domain, type, 0) }
        return FileDescriptor(unsafeTaking: fd)
    }

    /// A listening socket bound to `address`: SO_REUSEADDR always, SO_REUSEPORT when asked.
    public static func listen(
        at address: SocketAddress, reusePort: Bool, backlog: CInt = 4096, nonBlocking: Bool = true
    ) throws(SystemError) -> FileDescriptor {
        let fd = try socket(family: address.family, nonBlocking: nonBlocking)
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            if address.family != .unix {
                try setOption(raw, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)")
                if reusePort { try setOption(raw, SOL_SOCKET, SO_REUSEPORT, 1, "setsockopt(SO_REUSEPORT)") }
                if address.family == .inet6 { try setOption(raw, CInt(IPPROTO_IPV6), IPV6_V6ONLY, 1, "setsockopt(IPV6_V6ONLY)") }
            }
            try address.withSockAddr { (sa, len) throws(SystemError) in
                try syscall("bind") { Glibc.bind(raw, sa, len) }
            }
            try syscall("listen") { Glibc.listen(raw, backlog) }
        }
        return fd
    }

    /// Throws EADDRINUSE when any socket, in this process or another, listens on `address`:
    /// binds a socket with SO_REUSEADDR but not SO_REUSEPORT there (a listener conflicts with
    /// it however it was bound, while connections left in TIME_WAIT do not) and closes it.
    /// Binding the SO_REUSEPORT group right after this keeps other processes out of it, since
    /// the kernel lets any process of the same user join such a group.
    public static func checkNobodyListens(at address: SocketAddress) throws(SystemError) {
        guard address.family != .unix else { return }
        let fd = try socket(family: address.family, nonBlocking: true)
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            try setOption(raw, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)")
            if address.family == .inet6 { try setOption(raw, CInt(IPPROTO_IPV6), IPV6_V6ONLY, 1, "setsockopt(IPV6_V6ONLY)") }
            try address.withSockAddr { (sa, len) throws(SystemError) in
                try syscall("bind") { Glibc.bind(raw, sa, len) }
            }
        }
        fd.close()
    }

    /// Takes an exclusive advisory lock (flock) on an open file without waiting; false when
    /// another open file description holds it (another process, or another open in this one).
    /// The lock lasts until the descriptor is closed.
    public static func tryLockExclusive(_ fd: borrowing FileDescriptor) throws(SystemError) -> Bool {
        while true {
            let result = fd.withUnsafeHandle { CFaultline_flock($0, CFaultline_LOCK_EX | CFaultline_LOCK_NB) }
            if result == 0 { return true }
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw SystemError(errno: errno, call: "flock")
        }
    }

    /// A connection taken from a listener, with its peer's address.
    public struct Accepted: ~Copyable {
        public var descriptor: FileDescriptor
        public var peer: SocketAddress

        /// Gives up the descriptor.
        public consuming func takeDescriptor() -> FileDescriptor { descriptor }
    }

    /// Accepts one connection, nonblocking and close-on-exec; nil when none is waiting.
    public static func accept(_ fd: borrowing FileDescriptor) throws(SystemError) -> Accepted? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try fd.withUnsafeHandle { (raw) throws(SystemError) in
            try withUnsafeMutablePointer(to: &storage) { ptr throws(SystemError) in
                try ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                    try syscall(blocking: false, "accept4") {
                        CFaultline_accept4(raw, sa, &length, CFaultline_SOCK_NONBLOCK | CFaultline_SOCK_CLOEXEC)
                    }
                }
            }
        }
        switch result {
        case .processed(let newFD):
            return Accepted(descriptor: FileDescriptor(unsafeTaking: newFD), peer: SocketAddress(storage: storage, length: length))
        case .wouldBlock:
            return nil
        }
    }

    /// Starts a connect. True when connected at once; false when in progress (wait for writable,
    /// then read `pendingError`).
    public static func connect(_ fd: borrowing FileDescriptor, to address: SocketAddress) throws(SystemError) -> Bool {
        try fd.withUnsafeHandle { (raw) throws(SystemError) -> Bool in
            try address.withSockAddr { (sa, len) throws(SystemError) -> Bool in
                while true {
                    if Glibc.connect(raw, sa, len) == 0 { return true }
                    let err = errno
                    switch err {
                    case EINTR: continue
                    case EINPROGRESS: return false
                    case EBADF, EFAULT: fatalError("connect failed with unacceptable errno \(err)")
                    default: throw SystemError(errno: err, call: "connect")
                    }
                }
            }
        }
    }

    /// The TCP addresses of `host`, in the order getaddrinfo returns them (RFC 6724 preference),
    /// each with `port`.
    ///
    /// Blocks for as long as the resolver takes (files, DNS with its retries): call it only from a
    /// thread that may wait, never from a worker loop. getaddrinfo is a libc call, not a system
    /// call, so it does not go through `syscall`: it reports `EAI_*` codes rather than errno (an
    /// `EAI_SYSTEM` carries the errno's text), and it says nothing about DNS TTLs, so a caller
    /// that caches the answer picks its own lifetime. No `AI_ADDRCONFIG`: a host with only
    /// loopback configured must still resolve `localhost`; an address family that cannot be
    /// reached just fails its connect, and the caller tries the next address.
    /// - Throws: `ResolveError` when the name does not resolve (or resolves to no TCP address).
    public static func resolve(host: String, port: UInt16) throws(ResolveError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = CFaultline_SOCK_STREAM
        hints.ai_protocol = CInt(IPPROTO_TCP)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0 else {
            let reason = code == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(code))
            throw ResolveError(code: code, reason: reason)
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var next = list
        while let info = next {
            next = info.pointee.ai_next
            let family = info.pointee.ai_family
            guard family == AF_INET || family == AF_INET6, let source = info.pointee.ai_addr,
                  Int(info.pointee.ai_addrlen) <= MemoryLayout<sockaddr_storage>.size else { continue }
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: source, count: Int(info.pointee.ai_addrlen)))
            }
            let address = SocketAddress(storage: storage, length: info.pointee.ai_addrlen)
            if !addresses.contains(address) { addresses.append(address) }
        }
        guard !addresses.isEmpty else { throw ResolveError(code: EAI_NONAME, reason: String(cString: gai_strerror(EAI_NONAME))) }
        return addresses
    }

    /// SO_ERROR: the result of a nonblocking connect (0 = connected).
    public static func pendingError(_ fd: borrowing FileDescriptor) -> Int32 {
        fd.withUnsafeHandle { raw in
            var value: CInt = 0
            var len = socklen_t(MemoryLayout<CInt>.size)
            if getsockopt(raw, SOL_SOCKET, SO_ERROR, &value, &len) != 0 { return errno }
            return value
        }
    }

    /// Reads into `buffer`; `.processed(0)` is end of stream.
    public static func read(_ fd: borrowing FileDescriptor, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            try syscall(blocking: false, "read") { Glibc.read(raw, buffer.baseAddress, buffer.count) }
        }
    }

    /// Writes from `buffer`; never raises SIGPIPE (MSG_NOSIGNAL for sockets).
    public static func write(_ fd: borrowing FileDescriptor, from buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            try syscall(blocking: false, "send") { Glibc.send(raw, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL)) }
        }
    }

    /// Writes from `buffer` on any descriptor (pipes, files, eventfd).
    /// `write(2)` of bytes the caller holds in an array (synthesized replies, replayed requests).
    public static func write(_ fd: borrowing FileDescriptor, bytes: ArraySlice<UInt8>) throws(SystemError) -> IOResult<Int> {
        let result = bytes.withUnsafeBytes { (raw) -> Result<IOResult<Int>, SystemError> in
            do throws(SystemError) { return .success(try write(fd, from: raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func writeFile(_ fd: borrowing FileDescriptor, from buffer: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            try syscall(blocking: false, "write") { Glibc.write(raw, buffer.baseAddress, buffer.count) }
        }
    }

    /// `shutdown(2)`; ENOTCONN (peer already gone) is not an error.
    public static func shutdown(_ fd: borrowing FileDescriptor, _ how: ShutdownHow) throws(SystemError) {
        let mode: CInt
        switch how {
        case .read: mode = CInt(SHUT_RD)
        case .write: mode = CInt(SHUT_WR)
        case .both: mode = CInt(SHUT_RDWR)
        }
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            if Glibc.shutdown(raw, mode) != 0 && errno != ENOTCONN {
                throw SystemError(errno: errno, call: "shutdown")
            }
        }
    }

    /// TCP_NODELAY on.
    public static func setNoDelay(_ fd: borrowing FileDescriptor) {
        fd.withUnsafeHandle { raw in try? setOption(raw, CInt(IPPROTO_TCP), TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)") }
    }

    /// The socket's bound address.
    public static func localAddress(_ fd: borrowing FileDescriptor) throws(SystemError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            try withUnsafeMutablePointer(to: &storage) { ptr throws(SystemError) in
                try ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                    try syscall("getsockname") { getsockname(raw, sa, &length) }
                }
            }
        }
        return SocketAddress(storage: storage, length: length)
    }

    /// SO_PEERCRED of a Unix-socket peer.
    public static func peerCredentials(_ fd: borrowing FileDescriptor) throws(SystemError) -> (pid: Int32, uid: UInt32, gid: UInt32) {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            try syscall("getsockopt(SO_PEERCRED)") { CFaultline_peercred(raw, &pid, &uid, &gid) }
        }
        return (pid, uid, gid)
    }

    /// The calling process's effective uid.
    public static var effectiveUID: UInt32 { geteuid() }

    /// The process id.
    public static var processID: Int32 { getpid() }

    /// Online CPU count.
    public static var cpuCount: Int { max(1, Int(sysconf(CInt(_SC_NPROCESSORS_ONLN)))) }

    /// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return -1 }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
        return Int(limit.rlim_cur)
    }

    private static var RLIMIT_NOFILE_VALUE: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }

    /// Writes the whole string to a descriptor number (1 or 2), blocking; errors are ignored.
    public static func writeAll(toRaw fd: CInt, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }

    private static func setOption(_ fd: CInt, _ level: CInt, _ name: CInt, _ value: CInt, _ call: StaticString) throws(SystemError) {
        var value = value
        try syscall(call) { setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<CInt>.size)) }
    }
}

extension Posix {
    /// Waits until `fd` is readable or the timeout passes (-1 waits forever); true when readable.
    public static func waitReadable(_ fd: borrowing FileDescriptor, timeoutMilliseconds: Int32) -> Bool {
        fd.withUnsafeHandle { raw in
            var entry = pollfd(fd: raw, events: Int16(POLLIN), revents: 0)
            while true {
                let rc = poll(&entry, 1, timeoutMilliseconds)
                if rc < 0 && errno == EINTR { continue }
                return rc > 0
            }
        }
    }

    /// An environment variable.
    public static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    /// Sends one datagram to a Unix datagram socket path; a leading `@` names an abstract socket.
    public static func sendDatagram(_ text: String, toUnixPath path: String) throws(SystemError) {
        let fd = FileDescriptor(unsafeTaking: try syscall("socket") {
            Glibc.socket(AF_UNIX, CFaultline_SOCK_DGRAM | CFaultline_SOCK_CLOEXEC, 0)
        })
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: sun.sun_path) else {
            throw SystemError(errno: ENAMETOOLONG, call: "sendto")
        }
        withUnsafeMutableBytes(of: &sun.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        var payload = Array(text.utf8)
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            try withUnsafePointer(to: &sun) { (pointer) throws(SystemError) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemError) in
                    try syscall("sendto") { sendto(raw, &payload, payload.count, CInt(MSG_NOSIGNAL), sa, length) }
                }
            }
        }
        fd.close()
    }

    /// What identifies one version of a file's contents, for caches that reload a file when it
    /// changed: device, inode, size and modification time. Throws when the file cannot be stat'ed.
    public static func fileVersion(_ path: String) throws(SystemError) -> FileVersion {
        var info = stat()
        try syscall("stat") { fstatat(AT_FDCWD, path, &info, 0) }
        return FileVersion(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modifiedNanoseconds: Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec))
    }
}

/// A file's identity and version (see `Posix.fileVersion`).
public struct FileVersion: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modifiedNanoseconds: Int64
}
