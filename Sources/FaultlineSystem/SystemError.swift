internal import Glibc

/// A failed system call: which call, and the errno it left.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The errno value.
    public var errno: Int32
    /// The call that failed, e.g. `connect`.
    public var call: String

    public init(errno: Int32, call: String) {
        self.errno = errno
        self.call = call
    }

    /// `strerror` text for the errno.
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String { "\(call): \(reason) (errno \(errno))" }
}

/// Well-known errno values, so callers above this target need not import Glibc.
public enum Errno {
    public static let connectionRefused = ECONNREFUSED
    public static let connectionReset = ECONNRESET
    public static let brokenPipe = EPIPE
    public static let timedOut = ETIMEDOUT
    public static let networkUnreachable = ENETUNREACH
    public static let hostUnreachable = EHOSTUNREACH
    public static let addressInUse = EADDRINUSE
    public static let tooManyFiles = EMFILE
    public static let notConnected = ENOTCONN
    public static let inProgress = EINPROGRESS
    public static let fileTableFull = ENFILE
    public static let noBufferSpace = ENOBUFS
    public static let outOfMemory = ENOMEM
    public static let connectionAborted = ECONNABORTED
    public static let protocolError = EPROTO
    public static let notPermitted = EPERM
    public static let networkDown = ENETDOWN
    public static let protocolNotAvailable = ENOPROTOOPT
    public static let hostDown = EHOSTDOWN
    public static let noNetwork = ENONET
    public static let notSupported = EOPNOTSUPP
}
