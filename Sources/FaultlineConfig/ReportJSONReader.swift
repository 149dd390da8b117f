/// Reads the members of one object of a request-log entry or a report, throwing the first problem
/// with its path. Unlike the config decoder it ignores keys it does not know, so a client keeps
/// reading answers from a newer daemon that adds fields.
struct ReportJSONReader {
    let object: JSONObject
    let path: String

    /// Reads `value` as an object, or throws `expected an object, got KIND`.
    init(_ value: JSONValue, path: String) throws(ReportJSONError) {
        guard case .object(let object) = value else {
            throw ReportJSONError(path: JSONPath.display(path), message: "expected an object, got \(value.kindName)")
        }
        self.object = object
        self.path = path
    }

    /// The path of a member.
    func path(_ key: String) -> String { JSONPath.child(path, key) }

    /// The member's value; throws `missing required key` when absent.
    func value(_ key: String) throws(ReportJSONError) -> JSONValue {
        guard let value = object[key] else { throw ReportJSONError(path: path(key), message: "missing required key") }
        return value
    }

    /// The member's value, nil when absent or `null`.
    func nullable(_ key: String) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func object(_ key: String) throws(ReportJSONError) -> ReportJSONReader {
        try ReportJSONReader(value(key), path: path(key))
    }

    func string(_ key: String) throws(ReportJSONError) -> String {
        try Self.string(value(key), path: path(key))
    }

    func nullableString(_ key: String) throws(ReportJSONError) -> String? {
        guard let value = nullable(key) else { return nil }
        return try Self.string(value, path: path(key))
    }

    func bool(_ key: String) throws(ReportJSONError) -> Bool {
        let value = try value(key)
        guard let flag = value.boolValue else { throw kindError(key, "a boolean", value) }
        return flag
    }

    func unsigned(_ key: String) throws(ReportJSONError) -> UInt64 {
        try Self.unsigned(value(key), path: path(key))
    }

    func nullableUnsigned(_ key: String) throws(ReportJSONError) -> UInt64? {
        guard let value = nullable(key) else { return nil }
        return try Self.unsigned(value, path: path(key))
    }

    func int(_ key: String) throws(ReportJSONError) -> Int {
        let value = try value(key)
        guard case .integer(let number) = value else { throw kindError(key, "an integer", value) }
        guard let result = Int(exactly: number) else { throw ReportJSONError(path: path(key), message: "number out of range") }
        return result
    }

    func double(_ key: String) throws(ReportJSONError) -> Double {
        let value = try value(key)
        guard let number = value.doubleValue else { throw kindError(key, "a number", value) }
        return number
    }

    func nullableDouble(_ key: String) throws(ReportJSONError) -> Double? {
        guard let value = nullable(key) else { return nil }
        guard let number = value.doubleValue else { throw kindError(key, "a number", value) }
        return number
    }

    /// Microseconds (`…_us`) as nanoseconds.
    func microseconds(_ key: String) throws(ReportJSONError) -> UInt64 {
        try Self.nanoseconds(fromMicroseconds: unsigned(key), path: path(key))
    }

    func nullableMicroseconds(_ key: String) throws(ReportJSONError) -> UInt64? {
        guard let micros = try nullableUnsigned(key) else { return nil }
        return try Self.nanoseconds(fromMicroseconds: micros, path: path(key))
    }

    /// A `ts` string as nanoseconds since the epoch.
    func timestamp(_ key: String) throws(ReportJSONError) -> Int64 {
        let text = try string(key)
        guard let nanoseconds = ReportJSON.parseTimestamp(text) else {
            throw ReportJSONError(path: path(key), message: "invalid timestamp \(JSONWriter.render(.string(text))) (expected RFC 3339, e.g. 2026-12-02T18:00:00.123456Z)")
        }
        return nanoseconds
    }

    func array(_ key: String) throws(ReportJSONError) -> [JSONValue] {
        let value = try value(key)
        guard let items = value.arrayValue else { throw kindError(key, "an array", value) }
        return items
    }

    func kindError(_ key: String, _ expected: String, _ value: JSONValue) -> ReportJSONError {
        ReportJSONError(path: path(key), message: "expected \(expected), got \(value.kindName)")
    }

    static func string(_ value: JSONValue, path: String) throws(ReportJSONError) -> String {
        guard let text = value.stringValue else {
            throw ReportJSONError(path: path, message: "expected a string, got \(value.kindName)")
        }
        return text
    }

    static func unsigned(_ value: JSONValue, path: String) throws(ReportJSONError) -> UInt64 {
        switch value {
        case .integer(let number) where number >= 0: return UInt64(number)
        case .integer: throw ReportJSONError(path: path, message: "expected a non-negative integer, got \(value)")
        case .unsignedInteger(let number): return number
        default: throw ReportJSONError(path: path, message: "expected an integer, got \(value.kindName)")
        }
    }

    private static func nanoseconds(fromMicroseconds micros: UInt64, path: String) throws(ReportJSONError) -> UInt64 {
        let (nanoseconds, overflow) = micros.multipliedReportingOverflow(by: 1000)
        guard !overflow else { throw ReportJSONError(path: path, message: "number out of range") }
        return nanoseconds
    }
}
