/// The outcome of `TLSSession.write(_:)`.
public enum TLSWrite: Equatable, Sendable {
    /// This many plaintext bytes were encrypted into the pending output. Less than offered only
    /// before the handshake is complete (the rest can be written once it is).
    case written(Int)
    /// The connection failed or was shut down by this side; the session stays failed.
    case failed(TLSError)
}
