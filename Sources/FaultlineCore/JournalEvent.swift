/// One journal event before it is numbered and timestamped (SPEC §6).
///
/// `fields` are the event's JSON members beyond `seq`, `ts` and `event`, already rendered as JSON
/// values (strings quoted), in order. Rendering happens where the event is made so that the
/// journal writer only adds the envelope.
public struct JournalEvent: Sendable, Hashable {
    /// `fault.injected`, `route.added`, …
    public var event: String
    /// Ordered (key, rendered JSON value) pairs.
    public var fields: [JournalField]

    public init(event: String, fields: [JournalField] = []) {
        self.event = event
        self.fields = fields
    }
}

/// A journal member: a key and its value rendered as JSON text.
public struct JournalField: Sendable, Hashable {
    public var key: String
    public var json: String

    public init(_ key: String, json: String) {
        self.key = key
        self.json = json
    }

    /// A string member.
    public static func string(_ key: String, _ value: String) -> JournalField {
        JournalField(key, json: JSONText.quote(value))
    }

    /// An integer member.
    public static func int<T: BinaryInteger>(_ key: String, _ value: T) -> JournalField {
        JournalField(key, json: String(value))
    }
}

/// Where events go. The control side's journal implements it; the data path calls it only when
/// a fault acts (rate-limited), never per byte.
public protocol EventSink: Sendable {
    func record(_ event: JournalEvent)
}

/// Minimal JSON text helpers for pure code.
public enum JSONText {
    /// A JSON string literal.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
