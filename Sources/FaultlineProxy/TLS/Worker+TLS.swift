import FaultlineCore
import FaultlineLoop
import FaultlineMetrics
import FaultlineSystem
import FaultlineTLS

/// Key of a TLS handshake failure counter shard.
struct TLSFailureKey: Hashable {
    var route: String
    var side: Connection.Side
    var reason: String
}

/// TLS on a connection's sides: the handshakes, and the doors through which the relay reads
/// plaintext, writes plaintext and ends a direction. OpenSSL never touches a socket: ciphertext
/// moves between the socket and the session here, through the session's memory BIOs.
extension Worker {
    /// Plaintext accepted into a session while at most this much ciphertext waits for the
    /// socket; beyond it the side counts as blocked, so a slow reader backs the relay up.
    static var tlsOutputLimit: Int { 256 * 1024 }
    /// Plaintext handed to a session in one write (four full records).
    static var tlsWriteChunk: Int { 64 * 1024 }

    // MARK: Handshakes

    /// Starts TLS on `side` of a connection: a server session on the client's socket, a client
    /// session on the upstream's. The handshake is then driven by that side's events.
    func startTLS(
        _ loop: EventLoop<Worker>, _ c: Connection, side: Connection.Side, context: TLSContext, serverName: String?
    ) {
        let session: TLSSession
        do throws(TLSError) {
            session = try TLSSession(context: context, serverName: serverName)
        } catch {
            tlsFailed(loop, c, side: side, error)
            return
        }
        let deadline = loop.now.addingSaturating(plan.limits.tlsHandshakeTimeout.nanoseconds)
        let tls = c.tls ?? ConnectionTLS()
        c.tls = tls
        let state = TLSSide(session: session, deadline: deadline)
        if side == .client { tls.client = state } else { tls.upstream = state }
        loop.scheduleCoarse(at: deadline, tag: tag(.tlsHandshakeTimer, c))
        continueHandshake(loop, c, side: side)
    }

    /// Whether `side` is in its handshake (its events belong to `continueHandshake`).
    @inline(__always)
    func isHandshaking(_ c: Connection, _ side: Connection.Side) -> Bool {
        c.tls?.side(side)?.handshaking ?? false
    }

    /// Moves the handshake of `side` as far as the socket allows.
    func continueHandshake(_ loop: EventLoop<Worker>, _ c: Connection, side: Connection.Side) {
        guard c.state != .closed, let tls = c.tls?.side(side), tls.handshaking else { return }
        while true {
            switch tls.session.handshake() {
            case .complete:
                tls.handshaking = false
                guard flushCiphertext(c, side, tls) else {
                    // The handshake is done; the peer left before taking what followed it (the
                    // session tickets): a connection that ended, not a failed handshake.
                    // (openssl s_time resets every connection right after its Finished.)
                    if routes[c.routeName]?.spec.protocolKind.isHTTP == true { c.skipsAttemptLog = true }
                    close(loop, c, reset: true)
                    return
                }
                // The peer's first records may already sit inside the session.
                if side == .client { c.clientReadable = true } else { c.upstreamReadable = true }
                handshakeCompleted(loop, c, side: side, tls)
                return
            case .failed(let error):
                _ = flushCiphertext(c, side, tls)  // the alert, if the socket takes it
                return tlsFailed(loop, c, side: side, error)
            case .wantInput:
                guard flushCiphertext(c, side, tls) else {
                    return tlsFailed(loop, c, side: side, TLSError(reason: "reset", message: "peer reset during the handshake"))
                }
                do throws(SystemError) {
                    if case .wouldBlock = try pullCiphertext(c, side, tls) { return }
                } catch {
                    return tlsFailed(loop, c, side: side, TLSError(reason: "reset", message: "\(error.reason) during the handshake"))
                }
            }
        }
    }

    /// The handshake deadline of a connection passed: a side still in its handshake fails.
    func tlsHandshakeTimerFired(_ loop: EventLoop<Worker>, _ c: Connection) {
        guard let tls = c.tls else { return }
        for side in [Connection.Side.client, .upstream] {
            guard let state = tls.side(side), state.handshaking, loop.now >= state.deadline else { continue }
            let limit = plan.limits.tlsHandshakeTimeout
            tlsFailed(loop, c, side: side, TLSError(reason: "handshake_timeout", message: "no handshake within \(limit)"))
            return
        }
    }

    private func handshakeCompleted(_ loop: EventLoop<Worker>, _ c: Connection, side: Connection.Side, _ tls: TLSSide) {
        let session = tls.session
        log.debug("tls.established", [
            "route": c.routeName, "conn": "\(c.serial)", "side": side.label, "version": session.protocolVersion,
            "alpn": session.negotiatedALPN ?? "", "sni": session.serverName ?? "", "resumed": session.isResumed ? "true" : "false",
        ])
        switch side {
        case .client:
            guard let route = routes[c.routeName] else { return close(loop, c, reset: false) }
            connectionOpened(loop, c, route: route)
        case .upstream:
            upstreamReady(loop, c)
        }
    }

    /// A handshake failed (or could not start): counted, journaled, and the connection closed —
    /// on an http route whose upstream failed, the waiting request gets a 502 instead.
    func tlsFailed(_ loop: EventLoop<Worker>, _ c: Connection, side: Connection.Side, _ error: TLSError) {
        tlsFailureCounter(route: c.routeName, side: side, reason: error.reason).increment()
        let sni = c.tls?.client?.session.serverName
        if let events {
            var fields: [JournalField] = [
                .string("route", c.routeName), .int("conn", c.serial), .string("side", side.label),
                .string("reason", error.reason), .string("message", error.message),
            ]
            if let sni { fields.append(.string("sni", sni)) }
            events.record(JournalEvent(event: "tls.failed", fields: fields))
        }
        log.debug("tls.failed", ["route": c.routeName, "side": side.label, "reason": error.reason, "message": error.message])
        if side == .upstream, c.isHTTP {
            c.tls?.upstream = nil
            httpConnectFailed(loop, c, reason: .error)
            return
        }
        if c.logOutcome == nil { c.logOutcome = .refused }
        if routes[c.routeName]?.spec.protocolKind.isHTTP == true { c.skipsAttemptLog = true }
        close(loop, c, reset: false)
    }

    func tlsFailureCounter(route: String, side: Connection.Side, reason: String) -> Counter {
        Self.shard(&tlsFailureCounters, TLSFailureKey(route: route, side: side, reason: reason)) {
            metrics.tlsHandshakeFailures.shard(labels: [route, side.label, reason], worker: index)
        }
    }

    // MARK: Ciphertext

    /// One read of ciphertext from the side's socket into its session. `.processed(0)` is end of
    /// stream (the session is told); `.wouldBlock` clears the side's readable flag.
    func pullCiphertext(_ c: Connection, _ side: Connection.Side, _ tls: TLSSide) throws(SystemError) -> IOResult<Int> {
        guard !tls.socketEnded else { return .processed(0) }
        let scratch = tlsScratch
        guard let result = try c.withSocket(side, { (fd) throws(SystemError) in try Posix.read(fd, into: scratch) }) else {
            throw SystemError(errno: Errno.connectionReset, call: "read")
        }
        switch result {
        case .processed(0):
            tls.socketEnded = true
            tls.session.feedEOF()
        case .processed(let n):
            tls.session.feed(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
        case .wouldBlock:
            if side == .client { c.clientReadable = false } else { c.upstreamReadable = false }
        }
        return result
    }

    /// Writes the session's pending ciphertext to the socket as far as it takes it; once all of
    /// it is out after a close_notify, shuts the socket's write side. False when the socket failed.
    @discardableResult
    func flushCiphertext(_ c: Connection, _ side: Connection.Side, _ tls: TLSSide) -> Bool {
        let session = tls.session
        while session.pendingOutputCount > 0 {
            let result: IOResult<Int>?? = session.withPendingOutput { output in
                c.withSocket(side) { fd in try? Posix.write(fd, from: output) }
            }
            switch result {
            case .some(.some(.processed(let n))):
                session.consumeOutput(n)
            case .some(.some(.wouldBlock)):
                c.setBlocked(side)
                return true
            default:
                return false
            }
        }
        if tls.shutdownPending && !tls.shutdownDone {
            tls.shutdownDone = true
            _ = c.withSocket(side) { fd in try? Posix.shutdown(fd, .write) }
        }
        return true
    }

    /// Flushes both sides' pending ciphertext (the relay calls it first on every wake of a TLS
    /// connection, so output left by a blocked socket goes out on EPOLLOUT). False when a socket
    /// failed.
    func flushPendingTLS(_ c: Connection, _ tls: ConnectionTLS) -> Bool {
        if let client = tls.client, !client.handshaking, !flushCiphertext(c, .client, client) { return false }
        if let upstream = tls.upstream, !upstream.handshaking, !flushCiphertext(c, .upstream, upstream) { return false }
        return true
    }

    // MARK: Plaintext doors

    /// Decrypted bytes of `side` into `buffer`. `.processed(0)` is the end of the peer's stream
    /// (close_notify); EOF without close_notify, or a TLS error, throws (the relay resets, as it
    /// does for a socket error). `.wouldBlock` once the session and the socket are both drained.
    func readPlaintext(
        _ c: Connection, _ side: Connection.Side, _ tls: TLSSide, into buffer: UnsafeMutableRawBufferPointer
    ) throws(SystemError) -> IOResult<Int> {
        while true {
            switch tls.session.read(into: buffer) {
            case .bytes(let n):
                return .processed(n)
            case .closed:
                return .processed(0)
            case .failed(let error):
                // An HTTP peer that drops an idle keep-alive connection without close_notify
                // (many servers on idle timeout, Python's close()) ends it cleanly: nothing was
                // cut short. Inside an exchange it stays an abort (a truncation).
                if error.reason == "unexpected_eof", c.isHTTP, let session = c.http, session.machine.exchange == nil {
                    return .processed(0)
                }
                log.debug("tls.read_failed", ["route": c.routeName, "side": side.label, "reason": error.reason])
                throw SystemError(errno: Errno.connectionReset, call: "SSL_read")
            case .wantInput:
                // Post-handshake messages (tickets, key updates) may want an answer.
                guard flushCiphertext(c, side, tls) else { throw SystemError(errno: Errno.connectionReset, call: "write") }
                if case .wouldBlock = try pullCiphertext(c, side, tls) { return .wouldBlock }
            }
        }
    }

    /// Encrypts up to `tlsWriteChunk` bytes of `bytes` for `side` and flushes what the socket
    /// takes. `.wouldBlock` while more than `tlsOutputLimit` ciphertext waits.
    func writePlaintext(
        _ c: Connection, _ side: Connection.Side, _ tls: TLSSide, _ bytes: UnsafeRawBufferPointer
    ) throws(SystemError) -> IOResult<Int> {
        let session = tls.session
        if session.pendingOutputCount >= Self.tlsOutputLimit {
            guard flushCiphertext(c, side, tls) else { throw SystemError(errno: Errno.brokenPipe, call: "write") }
            if session.pendingOutputCount >= Self.tlsOutputLimit { return .wouldBlock }
        }
        let n = min(bytes.count, Self.tlsWriteChunk)
        switch session.write(UnsafeRawBufferPointer(rebasing: bytes[0..<n])) {
        case .written(let written):
            guard flushCiphertext(c, side, tls) else { throw SystemError(errno: Errno.brokenPipe, call: "write") }
            return .processed(written)
        case .failed:
            throw SystemError(errno: Errno.brokenPipe, call: "SSL_write")
        }
    }

    /// Ends the direction towards `side`: close_notify then FIN under TLS, FIN otherwise.
    /// False when the socket failed while flushing.
    @discardableResult
    func shutdownWrite(_ c: Connection, _ side: Connection.Side) -> Bool {
        if let tls = c.tls?.side(side) {
            if !tls.shutdownPending {
                tls.shutdownPending = true
                tls.session.shutdown()
            }
            return flushCiphertext(c, side, tls)
        }
        _ = c.withSocket(side) { fd in try? Posix.shutdown(fd, .write) }
        return true
    }

    /// Writes `bytes` (an injected reply) to `side`, through its session when it has one.
    func writeBytes(_ c: Connection, _ side: Connection.Side, _ bytes: ArraySlice<UInt8>) throws(SystemError) -> IOResult<Int>? {
        if let tls = c.tls?.side(side) {
            var failure: SystemError?
            let result = bytes.withUnsafeBytes { raw -> IOResult<Int>? in
                do throws(SystemError) { return try writePlaintext(c, side, tls, raw) } catch { failure = error; return nil }
            }
            if let failure { throw failure }
            return result
        }
        return try c.withSocket(side) { (fd) throws(SystemError) in try Posix.write(fd, bytes: bytes) }
    }
}

extension Connection.Side {
    /// `client` or `upstream`, as metrics and the journal name it.
    var label: String { self == .client ? "client" : "upstream" }
}
