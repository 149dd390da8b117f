internal import Glibc

/// An IPv4 or IPv6 socket address (or a Unix path), stored as `sockaddr_storage`.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// Address family.
    public enum Family: Sendable, Hashable { case inet, inet6, unix }

    internal var storage: sockaddr_storage
    internal var length: socklen_t

    /// An IPv4 address from its four bytes.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = (UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)).bigEndian
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { dst in
            withUnsafeBytes(of: sin) { dst.copyMemory(from: $0) }
        }
        self.storage = storage
        self.length = socklen_t(MemoryLayout<sockaddr_in>.size)
    }

    /// An IPv6 address from its sixteen bytes.
    public init(ipv6 bytes: [UInt8], port: UInt16) {
        precondition(bytes.count == 16)
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { dst in
            withUnsafeBytes(of: sin6) { dst.copyMemory(from: $0) }
        }
        self.storage = storage
        self.length = socklen_t(MemoryLayout<sockaddr_in6>.size)
    }

    /// A Unix-domain socket path.
    public init(unixPath path: String) {
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: sun.sun_path), "unix socket path too long: \(path)")
        withUnsafeMutableBytes(of: &sun.sun_path) { dst in
            dst.copyBytes(from: bytes)
            dst[bytes.count] = 0
        }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { dst in
            withUnsafeBytes(of: sun) { dst.copyMemory(from: $0) }
        }
        self.storage = storage
        self.length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
    }

    internal init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    public var family: Family {
        switch Int32(storage.ss_family) {
        case AF_INET: return .inet
        case AF_INET6: return .inet6
        default: return .unix
        }
    }

    /// The port (0 for Unix addresses).
    public var port: UInt16 {
        switch family {
        case .inet: return withUnsafeBytes(of: storage) { UInt16(bigEndian: $0.load(as: sockaddr_in.self).sin_port) }
        case .inet6: return withUnsafeBytes(of: storage) { UInt16(bigEndian: $0.load(as: sockaddr_in6.self).sin6_port) }
        case .unix: return 0
        }
    }

    /// The address bytes: 4 for IPv4, 16 for IPv6, empty for Unix.
    public var addressBytes: [UInt8] {
        switch family {
        case .inet:
            let sin = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            return withUnsafeBytes(of: sin.sin_addr) { Array($0) }
        case .inet6:
            let sin6 = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            return withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }
        case .unix:
            return []
        }
    }

    public var description: String {
        let bytes = addressBytes
        switch family {
        case .inet: return "\(bytes.map(String.init).joined(separator: ".")):\(port)"
        case .inet6:
            var groups: [String] = []
            for i in stride(from: 0, to: 16, by: 2) {
                groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
            }
            return "[\(groups.joined(separator: ":"))]:\(port)"
        case .unix: return "unix"
        }
    }

    @discardableResult
    internal func withSockAddr<R, E: Error>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(E) -> R) throws(E) -> R {
        var copy = storage
        return try withUnsafeMutablePointer(to: &copy) { (pointer) throws(E) -> R in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(E) -> R in try body(sa, length) }
        }
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.length == rhs.length && withUnsafeBytes(of: lhs.storage) { l in
            withUnsafeBytes(of: rhs.storage) { r in l.prefix(Int(lhs.length)).elementsEqual(r.prefix(Int(rhs.length))) }
        }
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: storage) { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
    }
}
