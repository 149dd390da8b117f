internal import COpenSSL

/// One TLS connection side driven through memory BIOs: the caller moves ciphertext between the
/// socket and the session; OpenSSL never touches a file descriptor. Not thread safe; owned by one
/// worker thread.
///
/// The loop a caller runs:
/// 1. bytes read from the socket go to `feed(_:)` (socket EOF: `feedEOF()`);
/// 2. `handshake()` until `.complete`, then `read(into:)` until `.wantInput` (or `.closed`);
/// 3. plaintext to send goes through `write(_:)`;
/// 4. after every one of these — reads included: TLS 1.3 tickets and KeyUpdate replies are
///    produced while reading — flush `withPendingOutput(_:)` to the socket and `consumeOutput(_:)`
///    what the socket took.
///
/// Failures are sticky: once a call returns `.failed`, every later `handshake`, `read` and
/// `write` returns the same error. Any alert OpenSSL queued for the peer is in the pending output.
public final class TLSSession {
    /// Keeps the SSL_CTX's callbacks' target alive while this SSL exists.
    let context: TLSContext
    /// Owns both BIOs (`SSL_set_bio`); freed in deinit.
    let ssl: OpaquePointer
    /// Ciphertext from the peer, written by `feed`, read by OpenSSL.
    let input: OpaquePointer
    /// Ciphertext for the peer, written by OpenSSL, consumed by `consumeOutput`.
    let output: OpaquePointer
    /// The name given for a client session (the SNI sent unless it is an IP literal).
    let requestedServerName: String?
    /// The first failure; returned again by every later call.
    var failure: TLSError?
    /// The peer's close_notify arrived.
    var inputClosed = false
    /// `shutdown()` queued our close_notify.
    var outputClosed = false

    /// A session on `context`, ready for `handshake()`.
    ///
    /// - Parameters:
    ///   - context: a server context makes a server (accepting) session, a client context a
    ///     client (connecting) one.
    ///   - serverName: for a client session, sent as SNI (unless it is an IP literal, which SNI
    ///     cannot carry) and, when the context verifies, checked against the certificate's names
    ///     (DNS names, or IP addresses for an IP literal). It also selects the cached session to
    ///     resume. Nil or empty: no SNI, no name check, no resumption. Ignored for server sessions.
    /// - Throws: `TLSError` (`internal`) when OpenSSL cannot allocate the session or refuses the
    ///   name (for example one longer than 255 bytes).
    public init(context: TLSContext, serverName: String? = nil) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.ctx) else {
            throw TLSError.drained("internal", "cannot create SSL")
        }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.drained("internal", "cannot create memory BIOs")
        }
        SSL_set_bio(ssl, input, output)
        // An empty name is no name (OpenSSL refuses empty SNI).
        let name = context.isServer || serverName?.isEmpty == true ? nil : serverName
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            do {
                try TLSSession.configureClient(ssl, context: context, serverName: name)
            } catch {
                SSL_free(ssl)
                throw error
            }
        }
        self.context = context
        self.ssl = ssl
        self.input = input
        self.output = output
        requestedServerName = name
        // For the new-session callback (see `TLSContext.installClientSessionCache`).
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
    }

    /// SNI, name checks and the session to resume, for a client SSL.
    private static func configureClient(_ ssl: OpaquePointer, context: TLSContext, serverName: String?) throws(TLSError) {
        guard let serverName else { return }
        let address = a2i_IPADDRESS(serverName)
        let isIPLiteral = address != nil
        ASN1_OCTET_STRING_free(address)
        if isIPLiteral {
            if context.verifiesPeer && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) != 1 {
                throw TLSError.drained("internal", "cannot check the certificate for \(serverName)")
            }
        } else {
            guard COpenSSL_SSL_set_tlsext_host_name(ssl, serverName) == 1 else {
                throw TLSError.drained("internal", "cannot send \(serverName) as SNI")
            }
            if context.verifiesPeer {
                SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
                guard SSL_set1_host(ssl, serverName) == 1 else {
                    throw TLSError.drained("internal", "cannot check the certificate for \(serverName)")
                }
            }
        }
        if let cached = context.clientSessions?.session(for: serverName) {
            _ = SSL_set_session(ssl, cached)  // takes its own reference
            SSL_SESSION_free(cached)
        }
        _ = OpenSSLErrorQueue.drain()  // a2i_IPADDRESS may leave an entry for a DNS name
    }

    deinit {
        if failure == nil {
            // SSL_free evicts the session (marks it not resumable) unless close_notify was sent:
            // TLS 1.0's rule. As of TLS 1.1 (RFC 5246 §7.2.1) an unclosed connection no longer
            // forbids resumption, and a proxy's peers often just close. A failed session keeps
            // OpenSSL's eviction (fatal errors already remove it).
            SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_SENT_SHUTDOWN)
        }
        SSL_free(ssl)
    }
}

@available(*, unavailable)
extension TLSSession: Sendable {}
