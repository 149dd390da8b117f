import FaultlineTLS

/// The TLS sessions of one connection: the client's (termination) and the upstream's
/// (origination). Allocated only on routes with TLS, so a plain connection carries one nil.
final class ConnectionTLS {
    var client: TLSSide?
    var upstream: TLSSide?

    init() {}

    @inline(__always)
    func side(_ side: Connection.Side) -> TLSSide? {
        side == .client ? client : upstream
    }

    /// Either side still owes its socket ciphertext.
    var hasPendingOutput: Bool {
        (client?.session.pendingOutputCount ?? 0) > 0 || (upstream?.session.pendingOutputCount ?? 0) > 0
    }
}

@available(*, unavailable)
extension ConnectionTLS: Sendable {}

/// One side's TLS session and where it stands.
final class TLSSide {
    let session: TLSSession
    /// The handshake has not finished; the side's events drive it.
    var handshaking = true
    /// When the handshake must be done (the loop's clock).
    let deadline: UInt64
    /// The socket reached end of stream (and the session was told).
    var socketEnded = false
    /// close_notify is queued: the socket's write side shuts once the ciphertext before it is out.
    var shutdownPending = false
    var shutdownDone = false

    init(session: TLSSession, deadline: UInt64) {
        self.session = session
        self.deadline = deadline
    }
}

@available(*, unavailable)
extension TLSSide: Sendable {}
