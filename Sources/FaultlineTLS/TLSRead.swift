/// The outcome of `TLSSession.read(into:)`.
public enum TLSRead: Equatable, Sendable {
    /// This many decrypted bytes were copied into the buffer (more may be buffered: read again).
    case bytes(Int)
    /// No complete record is buffered: feed more ciphertext, then read again.
    case wantInput
    /// The peer sent close_notify: its input is over. Writing is still possible (half-close).
    case closed
    /// The connection failed (a protocol error, or EOF without close_notify: `unexpected_eof`);
    /// the session stays failed.
    case failed(TLSError)
}
