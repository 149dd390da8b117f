internal import COpenSSL

extension TLSSession {
    /// The largest plaintext record TLS allows; `write` hands OpenSSL at most this much per call.
    static let maximumRecordSize = 16 * 1024

    /// Ciphertext read from the socket. Returns the bytes accepted: always all of them (the
    /// memory BIO grows; bound what you feed by reading only when `read` has caught up).
    @discardableResult
    public func feed(_ ciphertext: UnsafeRawBufferPointer) -> Int {
        guard let base = ciphertext.baseAddress else { return 0 }
        var offset = 0
        while offset < ciphertext.count {
            let chunk = Int32(clamping: ciphertext.count - offset)
            let written = BIO_write(input, base + offset, chunk)
            // A memory BIO only fails to grow when malloc fails.
            precondition(written == chunk, "memory BIO write failed")
            offset += Int(written)
        }
        return offset
    }

    /// The socket reached EOF: no more ciphertext will come. Once what was fed is used up,
    /// OpenSSL sees the end of input (a read without close_notify before it fails with
    /// `unexpected_eof`).
    public func feedEOF() {
        // A drained memory BIO says "retry later" (-1) by default; 0 makes it say EOF.
        _ = COpenSSL_BIO_set_mem_eof_return(input, 0)
    }

    /// Drives the handshake.
    ///
    /// Returns `.complete` once it is done (and on every later call), `.wantInput` when it needs
    /// more ciphertext, `.failed` with the reason. A client session produces its ClientHello on
    /// the first call. In every case flush the pending output: it holds handshake messages, or
    /// the alert that tells the peer why we failed.
    public func handshake() -> TLSStep {
        if let failure { return .failed(failure) }
        if SSL_is_init_finished(ssl) == 1 { return .complete }
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .complete }
        switch outcome(of: result) {
        case .wantInput:
            return .wantInput
        case .closed:
            return .failed(fail(TLSError(reason: "alert", message: "received alert: close notify during the handshake")))
        case .failed(let error):
            return .failed(error)
        }
    }

    /// Decrypts application bytes into `buffer`.
    ///
    /// `.bytes(n)` with `n > 0` (or 0 only for an empty buffer); `.wantInput` when nothing
    /// complete is buffered: feed more; `.closed` once the peer's close_notify arrived
    /// (`SSL_ERROR_ZERO_RETURN`) — this side may still write; `.failed` on a protocol error, or
    /// with `unexpected_eof` when EOF was fed without close_notify. Before the handshake is
    /// complete, reading drives it. Flush the pending output afterwards (tickets, KeyUpdate).
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSRead {
        if let failure { return .failed(failure) }
        if inputClosed { return .closed }
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return .bytes(0) }
        OpenSSLErrorQueue.clear()
        let count = SSL_read(ssl, base, Int32(clamping: buffer.count))
        if count > 0 { return .bytes(Int(count)) }
        switch outcome(of: count) {
        case .wantInput:
            return .wantInput
        case .closed:
            inputClosed = true
            return .closed
        case .failed(let error):
            return .failed(error)
        }
    }

    /// Encrypts `plaintext` into the pending output, in records of at most 16 KiB.
    ///
    /// Never refuses for lack of room (the output BIO grows): the caller bounds
    /// `pendingOutputCount`. Returns `.written(plaintext.count)` once the handshake is complete;
    /// before that, writing drives the handshake and may write less (possibly 0): write the rest
    /// after `handshake()` says `.complete`. After `shutdown()` it fails (`protocol`).
    public func write(_ plaintext: UnsafeRawBufferPointer) -> TLSWrite {
        if let failure { return .failed(failure) }
        if outputClosed {
            return .failed(TLSError(reason: "protocol", message: "write after shutdown"))
        }
        guard let base = plaintext.baseAddress else { return .written(0) }
        var written = 0
        while written < plaintext.count {
            let chunk = Int32(min(plaintext.count - written, TLSSession.maximumRecordSize))
            OpenSSLErrorQueue.clear()
            let result = SSL_write(ssl, base + written, chunk)
            if result > 0 {
                written += Int(result)
                continue
            }
            // With memory BIOs nothing is half-sent, so a later write may offer a different
            // length (the "retry with the same length" rule applies to socket BIOs).
            switch outcome(of: result) {
            case .wantInput:
                return .written(written)
            case .closed:
                return .failed(fail(TLSError(reason: "protocol", message: "write after the connection closed")))
            case .failed(let error):
                return .failed(error)
            }
        }
        return .written(written)
    }

    /// Queues close_notify (one `SSL_shutdown`; the peer's close_notify is not awaited). Later
    /// writes fail; reads go on (the peer may keep sending: half-close). Does nothing before the
    /// handshake completes, after a failure, or when called again.
    public func shutdown() {
        guard !outputClosed, failure == nil else { return }
        outputClosed = true
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(ssl)
        // 0 ("sent, peer's not received yet") is the expected result; a shutdown during the
        // handshake fails harmlessly. Neither may leave errors behind for the next session.
        _ = OpenSSLErrorQueue.drain()
    }

    /// What a non-positive SSL I/O result means.
    private enum Outcome {
        case wantInput
        case closed
        case failed(TLSError)
    }

    /// Classifies a non-positive result of the SSL call just made; records a failure.
    private func outcome(of result: Int32) -> Outcome {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ:
            return .wantInput
        case SSL_ERROR_WANT_WRITE:
            // A memory BIO never refuses a write; treat it like "come back later".
            return .wantInput
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        default:
            return .failed(fail(TLSError.failedCall(on: ssl, code: code)))
        }
    }

    /// Records `error` as the session's failure (first one wins) and returns the one recorded.
    private func fail(_ error: TLSError) -> TLSError {
        if failure == nil { failure = error }
        return failure ?? error
    }
}
