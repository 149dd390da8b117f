/// Why a TLS operation failed: a short stable label for metrics plus OpenSSL's text.
///
/// `reason` is one of a closed set of snake_case labels, safe to use as a metric label value:
///
/// | reason | meaning |
/// |---|---|
/// | `not_tls` | the peer's bytes are not TLS (plaintext HTTP to a TLS port, "wrong version number") |
/// | `wrong_version` | both sides speak TLS but share no protocol version (or the peer said so) |
/// | `no_shared_cipher` | no cipher suite in common |
/// | `certificate_verify_failed` | the peer's certificate did not verify (issuer, expiry, ...) |
/// | `hostname_mismatch` | the certificate verified but does not name the server we asked for |
/// | `unexpected_eof` | the transport ended without close_notify |
/// | `bad_certificate` | the peer rejected our certificate (bad/unsupported/expired/unknown alert) |
/// | `unknown_ca` | the peer does not trust our certificate's issuer (unknown_ca alert) |
/// | `alert` | the peer sent another fatal alert (its description is in `message`) |
/// | `protocol` | any other TLS protocol violation OpenSSL reports |
/// | `file` | a certificate, key or CA file is unreadable or holds nothing usable (`message` names the path) |
/// | `key_mismatch` | the private key does not belong to the certificate |
/// | `internal` | OpenSSL failed for a reason outside the protocol (allocation, misuse) |
///
/// Callers may make their own (for example `handshake_timeout`) with `init(reason:message:)`.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable snake_case label for a metric (see the table above).
    public var reason: String
    /// Human text including OpenSSL's reason strings, for example
    /// "certificate verify failed: unable to get local issuer certificate".
    public var message: String

    /// An error with the given label and text.
    public init(reason: String, message: String) {
        self.reason = reason
        self.message = message
    }

    /// `reason: message`, for logs.
    public var description: String { "\(reason): \(message)" }
}
