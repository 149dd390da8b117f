internal import COpenSSL

extension TLSContext {
    /// Routes every new client session (TLS 1.2: at the end of the handshake; TLS 1.3: each
    /// NewSessionTicket, read after it) to `ClientSessionCache`.
    ///
    /// The callback finds its `TLSSession` through the SSL's app data (ex_data index 0), set in
    /// `TLSSession.init`; the session knows the server name the cache is keyed by.
    func installClientSessionCache() {
        _ = COpenSSL_SSL_CTX_set_session_cache_mode(
            ctx, COpenSSL_SSL_SESS_CACHE_CLIENT | COpenSSL_SSL_SESS_CACHE_NO_INTERNAL_STORE)
        SSL_CTX_sess_set_new_cb(ctx) { ssl, session in
            guard let ssl, let session, let owner = SSL_get_ex_data(ssl, 0) else { return 0 }
            let tlsSession = Unmanaged<TLSSession>.fromOpaque(owner).takeUnretainedValue()
            guard let name = tlsSession.requestedServerName, let cache = tlsSession.context.clientSessions,
                  SSL_SESSION_is_resumable(session) == 1
            else { return 0 }
            cache.store(session, for: name)
            return 1  // the cache keeps OpenSSL's reference
        }
    }
}
