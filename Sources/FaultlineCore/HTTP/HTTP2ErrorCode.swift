/// The error codes of RFC 9113 §7 that RST_STREAM and GOAWAY carry, by name and value.
///
/// A config names a code either way (`"error_code": "REFUSED_STREAM"` or `7`); any 32-bit value is
/// valid on the wire (unknown codes mean INTERNAL_ERROR to the peer, §7), so only the names are
/// limited to this table.
public enum HTTP2ErrorCode {
    /// The names in value order: `names[code]` is the name of `code`, 0 (NO_ERROR) to 0xd.
    public static let names = [
        "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
        "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
    ]

    /// NO_ERROR (0): GOAWAY's default, a graceful shutdown.
    public static let noError: UInt32 = 0
    /// PROTOCOL_ERROR (1).
    public static let protocolError: UInt32 = 1
    /// INTERNAL_ERROR (2): RST_STREAM's default.
    public static let internalError: UInt32 = 2
    /// REFUSED_STREAM (7): the stream was not processed; safe to retry.
    public static let refusedStream: UInt32 = 7
    /// CANCEL (8): the stream is no longer wanted.
    public static let cancel: UInt32 = 8

    /// The value of `name` (case-sensitive, as RFC 9113 writes it), or nil when it names no code.
    public static func value(named name: String) -> UInt32? {
        names.firstIndex(of: name).map { UInt32($0) }
    }

    /// The RFC 9113 name of `value`, or nil for a code the RFC does not define.
    public static func name(of value: UInt32) -> String? {
        value < names.count ? names[Int(value)] : nil
    }
}
