internal import COpenSSL

extension TLSSession {
    /// Ciphertext waiting to go to the socket, in bytes.
    public var pendingOutputCount: Int {
        Int(COpenSSL_BIO_pending(output))
    }

    /// Lends the pending ciphertext to `body` as one contiguous buffer, without copying
    /// (`BIO_get_mem_ptr`). Write what the socket takes, then call `consumeOutput(_:)` with that
    /// count. The buffer is valid only inside `body`; do not call the session from `body`.
    public func withPendingOutput<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var memory: UnsafeMutablePointer<BUF_MEM>?
        _ = COpenSSL_BIO_get_mem_ptr(output, &memory)
        guard let memory, let data = memory.pointee.data, memory.pointee.length > 0 else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeRawBufferPointer(start: data, count: memory.pointee.length))
    }

    /// Drops the first `count` bytes of the pending output (they reached the socket).
    ///
    /// Moves the memory BIO's read position (`BIO_seek`) instead of copying the bytes out; the
    /// remainder is moved to the front once, the next time OpenSSL writes or the output is lent.
    /// So draining a large transfer in small socket writes stays linear.
    public func consumeOutput(_ count: Int) {
        precondition(count >= 0 && count <= pendingOutputCount, "consumeOutput(\(count)) beyond the pending output")
        guard count > 0 else { return }
        let position = COpenSSL_BIO_tell(output)
        let moved = COpenSSL_BIO_seek(output, position + count)
        precondition(moved == position + count, "memory BIO seek failed")
    }
}
