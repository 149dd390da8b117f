internal import COpenSSL

extension TLSSession {
    /// True once the handshake finished (and stays true).
    public var isHandshakeComplete: Bool {
        SSL_is_init_finished(ssl) == 1
    }

    /// The protocol ALPN settled on (for example "h2"), or nil when there was none.
    public var negotiatedALPN: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Server side: the SNI name the client sent (nil before the ClientHello, or without SNI).
    /// Client side: the `serverName` this session was made with.
    public var serverName: String? {
        guard context.isServer else { return requestedServerName }
        return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
    }

    /// True when the handshake resumed an earlier session (ticket or session id) instead of a
    /// full key exchange.
    public var isResumed: Bool {
        SSL_session_reused(ssl) == 1
    }

    /// The protocol version, for example "TLSv1.3" ("unknown" before the handshake settles it).
    public var protocolVersion: String {
        String(cString: SSL_get_version(ssl))
    }

    /// True when `read(into:)` may return bytes without new input: decrypted bytes or records are
    /// buffered inside OpenSSL (`SSL_has_pending`), or fed ciphertext is not processed yet. Only
    /// a hint — with part of a record buffered, `read` still says `.wantInput` — but false means
    /// reading is pointless until more is fed.
    public var hasBufferedInput: Bool {
        SSL_has_pending(ssl) == 1 || COpenSSL_BIO_pending(input) > 0
    }
}
