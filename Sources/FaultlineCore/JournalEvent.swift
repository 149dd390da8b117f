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

/// JSON text helpers for pure code; `FaultlineConfig`'s writer uses the same quoting.
public enum JSONText {
    /// A JSON string literal: `"` and `\\` escaped, `\n \r \t \b \f` as such, every other
    /// control character as `\u00XX`, everything else as is.
    public static func quote(_ text: String) -> String {
        var out = ""
        append(text, to: &out)
        return out
    }

    /// Appends the JSON string literal of `text` to `output`.
    public static func append(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16, uppercase: true)
                output += "\\u00" + (hex.count < 2 ? "0" : "") + hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

/// An error the data plane found in one setting of a plan (a TLS file it cannot use): the
/// control side answers it like a config error, with the setting's path.
public protocol SettingProblem: Error {
    /// The setting's JSON path (`routes[0].tls.cert`) and what is wrong with it; nil when the
    /// error is not about a setting.
    var settingProblem: (path: String, message: String)? { get }
}

/// An error meaning the data plane did not take a plan in time (a worker held busy) and
/// nothing changed: the control side answers 503 `dataplane_timeout`.
public protocol DataPlaneTimeout: Error {
    var dataPlaneTimeout: Bool { get }
}
