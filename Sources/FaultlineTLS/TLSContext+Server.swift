internal import COpenSSL

extension TLSContext {
    /// A termination context: presents the certificate chain in `certificatePath` with the private
    /// key in `keyPath` (both PEM; the key unencrypted).
    ///
    /// TLS 1.2 is the minimum, 1.3 is preferred. Resumption works both ways: session tickets
    /// (TLS 1.2 and 1.3) and a server-side session cache (TLS 1.2 session IDs).
    ///
    /// - Parameters:
    ///   - certificatePath: PEM file with the leaf certificate first, then any intermediates.
    ///   - keyPath: PEM file with the leaf's private key.
    ///   - alpn: protocols this server speaks, most preferred first (for example `["h2", "http/1.1"]`).
    ///     The server picks the first of these that the client offered; when none was offered, or
    ///     the client sent no ALPN, the handshake goes on without ALPN (`negotiatedALPN == nil`).
    /// - Throws: `TLSError` with reason `file` when a file is unreadable or has no usable PEM
    ///   content (the message names the path, for example
    ///   "cannot read certificate /x/y.pem: No such file or directory", "no certificate in /x/y.pem"),
    ///   `key_mismatch` when the key does not belong to the certificate.
    public static func server(certificatePath: String, keyPath: String, alpn: [String]) throws(TLSError) -> TLSContext {
        let context = try TLSContext(server: true, verifiesPeer: false, alpn: alpn)
        let ctx = context.ctx
        try context.useCertificateChain(certificatePath)
        try context.usePrivateKey(keyPath, certificatePath: certificatePath)
        // Sessions are bound to this id context; without one OpenSSL refuses to resume them when
        // a verify mode is ever set on the server.
        let sessionContext: [UInt8] = Array("faultline".utf8)
        _ = SSL_CTX_set_session_id_context(ctx, sessionContext, UInt32(sessionContext.count))
        _ = COpenSSL_SSL_CTX_set_session_cache_mode(ctx, COpenSSL_SSL_SESS_CACHE_SERVER)
        context.acceptServerNames()
        if !alpn.isEmpty {
            context.installALPNSelection()
        }
        return context
    }

    /// Accepts whatever SNI name the client sends. Without a server-name callback OpenSSL does
    /// not acknowledge the name, and then a TLS 1.2 session does not keep it: a resumed session
    /// would report no `serverName`. (One certificate per context: nothing is chosen by name.)
    func acceptServerNames() {
        _ = COpenSSL_SSL_CTX_set_tlsext_servername_callback(ctx) { _, _, _ in SSL_TLSEXT_ERR_OK }
    }
}
