internal import COpenSSL

/// An SSL_CTX, immutable after creation, shared by many sessions across threads.
///
/// Make one with `server(certificatePath:keyPath:alpn:)` (termination) or
/// `client(caPath:verify:alpn:)` (origination), then one `TLSSession` per connection. Both kinds
/// allow TLS 1.2 and 1.3 only, and refuse renegotiation (a proxy has no use for it, and it would
/// make a write wait for input).
///
/// `@unchecked Sendable`: the SSL_CTX is configured completely before the factory returns and is
/// only read afterwards (OpenSSL allows concurrent `SSL_new` on one SSL_CTX); the one mutable part,
/// the client session cache, is behind the lock inside `ClientSessionCache`.
public final class TLSContext: @unchecked Sendable {
    /// The SSL_CTX; freed in deinit. Each SSL holds its own reference, but the callbacks point
    /// back at this object, so a `TLSSession` keeps its context alive.
    let ctx: OpaquePointer
    /// True for a termination (server) context.
    let isServer: Bool
    /// True when client sessions verify the server's certificate and name.
    let verifiesPeer: Bool
    /// The ALPN protocols in the order given (the server's preference, or the client's offer).
    let alpnProtocols: [[UInt8]]
    /// Sessions to resume, by server name; clients only.
    let clientSessions: ClientSessionCache?

    /// Creates the SSL_CTX with what both roles share: TLS 1.2 minimum, no renegotiation.
    init(server: Bool, verifiesPeer: Bool, alpn: [String]) throws(TLSError) {
        alpnProtocols = try TLSContext.validatedALPN(alpn)
        OpenSSLErrorQueue.clear()
        guard let ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError.drained("internal", "cannot create SSL_CTX")
        }
        self.ctx = ctx
        isServer = server
        self.verifiesPeer = verifiesPeer
        clientSessions = server ? nil : ClientSessionCache()
        guard COpenSSL_SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 else {
            throw TLSError.drained("internal", "cannot set the minimum TLS version")
        }
        var options = COpenSSL_SSL_OP_NO_RENEGOTIATION | COpenSSL_SSL_OP_NO_COMPRESSION
        if server { options |= COpenSSL_SSL_OP_CIPHER_SERVER_PREFERENCE }
        _ = SSL_CTX_set_options(ctx, options)
        // Writes never retry with memory BIOs; should one ever, the caller's buffer may have moved.
        _ = COpenSSL_SSL_CTX_set_mode(ctx, COpenSSL_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
    }

    deinit {
        SSL_CTX_free(ctx)
    }
}
