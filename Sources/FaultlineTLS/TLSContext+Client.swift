internal import COpenSSL

extension TLSContext {
    /// An origination context: verifies upstream servers and resumes their sessions.
    ///
    /// Sessions made from one client context resume each other: the context keeps the newest
    /// resumable session (TLS 1.3 tickets arrive after the handshake, while reading) per server
    /// name, and the next `TLSSession` with the same `serverName` offers it. Sessions without a
    /// server name are never resumed: nothing tells their servers apart.
    ///
    /// - Parameters:
    ///   - caPath: PEM file of trusted CA certificates; nil uses the system's default trust store.
    ///   - verify: false accepts any certificate and any name (`SSL_VERIFY_NONE`): for test
    ///     upstreams with self-signed certificates.
    ///   - alpn: protocols to offer, most preferred first; empty sends no ALPN extension.
    /// - Throws: `TLSError` with reason `file` when `caPath` is unreadable or has no certificate.
    public static func client(caPath: String?, verify: Bool, alpn: [String]) throws(TLSError) -> TLSContext {
        try client(caPath: caPath, verify: verify, alpn: alpn, capAtTLS12: false)
    }

    /// `client(caPath:verify:alpn:)`, optionally refusing TLS 1.3 (for tests of the TLS 1.2 paths).
    package static func client(caPath: String?, verify: Bool, alpn: [String], capAtTLS12: Bool) throws(TLSError) -> TLSContext {
        let context = try TLSContext(server: false, verifiesPeer: verify, alpn: alpn)
        let ctx = context.ctx
        if capAtTLS12 {
            guard COpenSSL_SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) == 1 else {
                throw TLSError.drained("internal", "cannot set the maximum TLS version")
            }
        }
        SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        if let caPath {
            try context.loadTrustedCertificates(caPath)
        } else if verify {
            OpenSSLErrorQueue.clear()
            guard SSL_CTX_set_default_verify_paths(ctx) == 1 else {
                throw TLSError.drained("file", "cannot load the default CA certificates")
            }
        }
        if !alpn.isEmpty {
            let wire = TLSContext.wireFormat(context.alpnProtocols)
            // Unlike almost every OpenSSL call, this one returns 0 on success.
            guard SSL_CTX_set_alpn_protos(ctx, wire, UInt32(wire.count)) == 0 else {
                throw TLSError.drained("internal", "cannot set the ALPN protocols")
            }
        }
        context.installClientSessionCache()
        return context
    }
}
