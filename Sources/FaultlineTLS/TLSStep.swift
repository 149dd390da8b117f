/// The outcome of `TLSSession.handshake()`.
///
/// Whatever the outcome, the session may have queued ciphertext (`pendingOutputCount`): flush it
/// to the socket. A failed handshake often queues an alert for the peer.
public enum TLSStep: Equatable, Sendable {
    /// The handshake is done; application data can flow.
    case complete
    /// The handshake needs more ciphertext from the peer: feed it, then call again.
    case wantInput
    /// The handshake failed; the session stays failed.
    case failed(TLSError)
}
