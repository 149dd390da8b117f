internal import COpenSSL
internal import Glibc

/// The calling thread's OpenSSL error queue.
///
/// OpenSSL keeps errors per thread and never clears them for you: a stale entry makes the next
/// `SSL_get_error` on the same thread report `SSL_ERROR_SSL` for what was a plain "want read"
/// (h2o#1448). So every SSL I/O call is preceded by `clear()`, and every failure is followed by
/// `drain()`, which leaves the queue empty for the next session on this thread.
package enum OpenSSLErrorQueue {
    /// One queued error, decoded.
    struct Entry {
        var library: Int32
        var reason: Int32
        var text: String
    }

    /// Empties the queue before a call whose failure will be read from it.
    static func clear() {
        ERR_clear_error()
    }

    /// Removes every queued error, earliest (usually the root cause) first.
    static func drain() -> [Entry] {
        var entries: [Entry] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { return entries }
            entries.append(Entry(code: code))
        }
    }

    /// True when nothing is queued on this thread (tests check that failures leave no residue).
    package static var isEmpty: Bool {
        ERR_peek_error() == 0
    }

    /// Queues an SSL-library error on this thread without draining it, as a careless caller of
    /// OpenSSL elsewhere on the thread would (tests check that sessions are immune to it).
    package static func plantStaleErrorForTesting() {
        COpenSSL_ERR_raise(ERR_LIB_SSL, SSL_R_PROTOCOL_IS_SHUTDOWN)
    }
}

extension OpenSSLErrorQueue.Entry {
    init(code: UInt) {
        if COpenSSL_ERR_SYSTEM_ERROR(code) != 0 {
            // ERR_reason_error_string returns NULL for system errors: the reason is an errno.
            let errno = COpenSSL_ERR_GET_REASON(code)
            self.init(library: ERR_LIB_SYS, reason: errno, text: String(cString: strerror(errno)))
            return
        }
        let reason = COpenSSL_ERR_GET_REASON(code)
        let text = ERR_reason_error_string(code).map { String(cString: $0) } ?? "error \(reason)"
        self.init(library: COpenSSL_ERR_GET_LIB(code), reason: reason, text: text)
    }
}
