internal import Glibc
internal import CFaultlineShims

/// The single owner of an open file descriptor.
///
/// Closing consumes it; dropping it without closing closes it too, so a descriptor can be
/// neither leaked nor closed twice. The raw number is lent only through `withUnsafeHandle`.
public struct FileDescriptor: ~Copyable, Sendable {
    @usableFromInline
    internal let rawValue: CInt

    /// Takes ownership of an already open descriptor.
    public init(unsafeTaking rawValue: CInt) {
        precondition(rawValue >= 0, "invalid file descriptor \(rawValue)")
        self.rawValue = rawValue
    }

    /// Lends the raw descriptor to `body`; it must not be closed or kept.
    @inlinable
    @discardableResult
    public func withUnsafeHandle<R, E: Error>(_ body: (CInt) throws(E) -> R) throws(E) -> R {
        try body(rawValue)
    }

    /// Closes the descriptor.
    public consuming func close() {
        let fd = rawValue
        discard self
        FileDescriptor.closeIgnoringEINTR(fd)
    }

    /// Closes with SO_LINGER 0 so the peer sees RST instead of FIN.
    public consuming func closeWithReset() {
        let fd = rawValue
        discard self
        _ = CFaultline_set_linger_zero(fd)
        FileDescriptor.closeIgnoringEINTR(fd)
    }

    deinit {
        FileDescriptor.closeIgnoringEINTR(rawValue)
    }

    // Linux always releases the descriptor, even when close reports EINTR; retrying could close
    // a number another thread was just given. So EINTR is ignored, and so is every other error:
    // there is nothing useful to do about a failed close.
    static func closeIgnoringEINTR(_ fd: CInt) {
        _ = Glibc.close(fd)
    }
}
