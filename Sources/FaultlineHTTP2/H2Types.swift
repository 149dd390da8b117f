/// Which end of an HTTP/2 connection a session plays.
public enum H2Role: Sendable, Hashable {
    /// Accepts streams (the proxy's side towards a client).
    case server
    /// Opens streams (the proxy's side towards an upstream).
    case client
}

/// One header field as it travels: bytes, so that a value the proxy passes on is never re-encoded.
/// Name and value share one array (one allocation a field).
public struct H2Field: Sendable, Hashable {
    /// The name's bytes, then the value's.
    private var bytes: [UInt8]
    private var nameCount: Int

    public init(name: some Collection<UInt8>, value: some Collection<UInt8>) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.count + value.count)
        bytes.append(contentsOf: name)
        bytes.append(contentsOf: value)
        self.bytes = bytes
        nameCount = name.count
    }

    public init(_ name: String, _ value: String) {
        self.init(name: name.utf8, value: value.utf8)
    }

    public var name: ArraySlice<UInt8> { bytes[..<nameCount] }
    public var value: ArraySlice<UInt8> { bytes[nameCount...] }
    public var nameString: String { String(decoding: name, as: UTF8.self) }
    public var valueString: String { String(decoding: value, as: UTF8.self) }

    /// Lends the name and the value, contiguous.
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>, Int) -> R) -> R {
        bytes.withUnsafeBufferPointer { body($0, nameCount) }
    }

    /// Whether the name is `other` (compared as bytes; nothing is allocated).
    func hasName(_ other: String) -> Bool {
        nameCount == other.utf8.count && bytes[..<nameCount].elementsEqual(other.utf8)
    }
}

extension Array where Element == H2Field {
    /// The first value of `name` (lowercase, as HTTP/2 requires), as text.
    public func value(of name: String) -> String? {
        first { $0.hasName(name) }?.valueString
    }
}

/// What a session saw while reading, queued by its callbacks and handed out by `takeEvents()`
/// (nghttp2's callbacks never call back into the session or the proxy).
public enum H2Event: Sendable, Hashable {
    /// A request head (server side) or a final response head (client side).
    case head(stream: Int32, fields: [H2Field], endStream: Bool)
    /// A 1xx response head (client side).
    case informational(stream: Int32, fields: [H2Field])
    /// Trailers; they end the stream.
    case trailers(stream: Int32, fields: [H2Field])
    /// Body bytes.
    case data(stream: Int32, bytes: [UInt8])
    /// END_STREAM arrived on a DATA frame.
    case end(stream: Int32)
    /// The peer reset the stream.
    case reset(stream: Int32, errorCode: UInt32)
    /// The stream closed, for whatever reason (`errorCode` 0 when it ended cleanly).
    case closed(stream: Int32, errorCode: UInt32)
    /// The peer sent GOAWAY.
    case goaway(lastStreamID: Int32, errorCode: UInt32)
    /// This session sent GOAWAY: one submitted, or nghttp2's own when the peer broke the
    /// protocol (a non-zero code the caller did not submit).
    case goawaySent(errorCode: UInt32)
    /// `bytes` of the body submitted on `stream` went into DATA frames (the moment to give the
    /// sender on the other side its flow-control credit).
    case sent(stream: Int32, bytes: Int)
}

/// A failure nghttp2 reported: the session is unusable after a fatal one.
public struct H2Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// nghttp2's error code (negative).
    public var code: Int32
    public var message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// A short reason for counters and the journal.
    public var reason: String {
        switch code {
        case -903: return "bad_preface"
        case -904: return "flood"
        case -905: return "continuation_flood"
        case -537: return "too_many_settings"
        default: return "protocol_error"
        }
    }
}

/// The settings a session announces.
public struct H2Settings: Sendable, Hashable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS (server side).
    public var maxConcurrentStreams: UInt32
    /// SETTINGS_INITIAL_WINDOW_SIZE: how much body a stream may send before the proxy forwarded it.
    public var streamWindow: Int32
    /// The connection's receive window.
    public var connectionWindow: Int32

    public init(maxConcurrentStreams: UInt32 = 128, streamWindow: Int32 = 262_144, connectionWindow: Int32 = 4_194_304) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.streamWindow = streamWindow
        self.connectionWindow = connectionWindow
    }
}

/// The client connection preface (RFC 9113 §3.4).
public enum H2Preface {
    public static let bytes: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Whether `prefix` (the first bytes a client sent) is, or may still become, the preface.
    /// `.yes` once all 24 bytes match; `.maybe` while fewer arrived and they match so far.
    public static func match(_ prefix: some Collection<UInt8>) -> Match {
        var count = 0
        for (byte, expected) in zip(prefix, bytes) {
            guard byte == expected else { return .no }
            count += 1
        }
        return count == bytes.count ? .yes : .maybe
    }

    public enum Match: Sendable, Hashable {
        case yes
        case maybe
        case no
    }
}
