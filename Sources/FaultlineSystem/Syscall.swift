internal import Glibc

/// The one door every system call goes through.
///
/// EINTR is retried; EAGAIN/EWOULDBLOCK becomes `.wouldBlock` when `blocking` is false;
/// EBADF and EFAULT are programmer errors and trap; anything else throws `SystemError`.
@inline(__always)
@discardableResult
internal func syscall<T: FixedWidthInteger & Sendable>(
    blocking: Bool, _ call: StaticString, _ body: () -> T
) throws(SystemError) -> IOResult<T> {
    while true {
        let result = body()
        if result != -1 { return .processed(result) }
        let err = errno
        switch err {
        case EINTR:
            continue
        case EAGAIN where !blocking, EWOULDBLOCK where !blocking:
            return .wouldBlock
        case EBADF, EFAULT:
            fatalError("\(call) failed with unacceptable errno \(err): \(String(cString: strerror(err)))")
        default:
            throw SystemError(errno: err, call: "\(call)")
        }
    }
}

/// A blocking call: EAGAIN is an error here.
@inline(__always)
@discardableResult
internal func syscall<T: FixedWidthInteger & Sendable>(_ call: StaticString, _ body: () -> T) throws(SystemError) -> T {
    switch try syscall(blocking: true, call, body) {
    case .processed(let value): return value
    case .wouldBlock: fatalError("unreachable: blocking call returned wouldBlock")
    }
}
