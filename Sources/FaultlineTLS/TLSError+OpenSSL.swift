internal import COpenSSL

extension TLSError {
    /// The error for an SSL call on `ssl` that failed with `SSL_get_error` code `code`
    /// (`SSL_ERROR_SSL` or `SSL_ERROR_SYSCALL`); empties the thread's error queue.
    static func failedCall(on ssl: OpaquePointer, code: Int32) -> TLSError {
        let entries = OpenSSLErrorQueue.drain()
        let text = entries.map(\.text).uniqued().joined(separator: "; ")
        guard let primary = entries.first(where: { $0.library == ERR_LIB_SSL }) else {
            if code == SSL_ERROR_SYSCALL && entries.isEmpty {
                // OpenSSL 1.1's way of reporting EOF without close_notify; 3.0 normally raises
                // SSL_R_UNEXPECTED_EOF_WHILE_READING instead (openssl#17004).
                return TLSError(reason: "unexpected_eof", message: "unexpected eof while reading")
            }
            return TLSError(reason: "internal", message: text.isEmpty ? "SSL error \(code)" : text)
        }
        if primary.reason == SSL_R_CERTIFICATE_VERIFY_FAILED {
            return verifyFailure(of: ssl, fallback: text)
        }
        if let alert = receivedAlert(primary.reason) {
            return alert
        }
        return TLSError(reason: label(forSSLReason: primary.reason), message: text)
    }

    /// A verification failure, labelled from the verify result rather than the generic
    /// "certificate verify failed" entry on the queue.
    private static func verifyFailure(of ssl: OpaquePointer, fallback: String) -> TLSError {
        let result = Int32(truncatingIfNeeded: SSL_get_verify_result(ssl))
        guard result != X509_V_OK else {
            return TLSError(reason: "certificate_verify_failed", message: fallback)
        }
        let detail = String(cString: X509_verify_cert_error_string(Int(result)))
        let hostname = result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH
        return TLSError(
            reason: hostname ? "hostname_mismatch" : "certificate_verify_failed",
            message: "certificate verify failed: \(detail)")
    }

    /// The error for a fatal alert the peer sent, if `reason` is one: OpenSSL reports a received
    /// alert as SSL reason `SSL_AD_REASON_OFFSET + description`.
    private static func receivedAlert(_ reason: Int32) -> TLSError? {
        let offset: Int32 = 1000  // SSL_AD_REASON_OFFSET
        guard reason >= offset && reason < offset + 256 else { return nil }
        let description = reason - offset
        let name = String(cString: SSL_alert_desc_string_long(description))
        let label: String
        switch description {
        case SSL_AD_BAD_CERTIFICATE, SSL_AD_UNSUPPORTED_CERTIFICATE, SSL_AD_CERTIFICATE_REVOKED,
            SSL_AD_CERTIFICATE_EXPIRED, SSL_AD_CERTIFICATE_UNKNOWN:
            label = "bad_certificate"
        case SSL_AD_UNKNOWN_CA:
            label = "unknown_ca"
        case SSL_AD_PROTOCOL_VERSION:
            label = "wrong_version"
        default:
            label = "alert"
        }
        return TLSError(reason: label, message: "received alert: \(name)")
    }

    /// The label for an SSL-library reason code raised on this side.
    private static func label(forSSLReason reason: Int32) -> String {
        switch reason {
        case SSL_R_HTTP_REQUEST, SSL_R_HTTPS_PROXY_REQUEST, SSL_R_WRONG_VERSION_NUMBER,
            SSL_R_UNKNOWN_PROTOCOL, SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
            return "not_tls"
        case SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_UNSUPPORTED_SSL_VERSION, SSL_R_WRONG_SSL_VERSION,
            SSL_R_VERSION_TOO_LOW, SSL_R_VERSION_TOO_HIGH, SSL_R_NO_PROTOCOLS_AVAILABLE:
            return "wrong_version"
        case SSL_R_NO_SHARED_CIPHER, SSL_R_NO_CIPHERS_AVAILABLE, SSL_R_NO_SHARED_GROUPS,
            SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
            return "no_shared_cipher"
        case SSL_R_UNEXPECTED_EOF_WHILE_READING:
            return "unexpected_eof"
        default:
            return "protocol"
        }
    }

    /// An error while building a context: `message`, then OpenSSL's text when it has any;
    /// empties the thread's error queue.
    static func drained(_ reason: String, _ message: String) -> TLSError {
        let text = OpenSSLErrorQueue.drain().map(\.text).uniqued().joined(separator: "; ")
        return TLSError(reason: reason, message: text.isEmpty ? message : "\(message): \(text)")
    }
}

extension Array where Element == String {
    /// The elements without repeats, first occurrence kept (OpenSSL often queues one reason twice).
    fileprivate func uniqued() -> [String] {
        var seen: [String] = []
        for element in self where !seen.contains(element) {
            seen.append(element)
        }
        return seen
    }
}
