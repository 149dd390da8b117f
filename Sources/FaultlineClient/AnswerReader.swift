import FaultlineConfig

/// Reads the members of one JSON object of an answer, throwing `.invalidResponse` that names the
/// member when one is missing or of the wrong kind (a daemon of another version, or not one).
struct AnswerReader {
    let object: JSONObject
    let what: String

    init(_ value: JSONValue, what: String) throws(FaultlineClientError) {
        guard let object = value.objectValue else {
            throw .invalidResponse("expected \(what) to be an object, got \(value.kindName)")
        }
        self.object = object
        self.what = what
    }

    func value(_ key: String) throws(FaultlineClientError) -> JSONValue {
        guard let value = object[key] else { throw .invalidResponse("\(what) has no \"\(key)\"") }
        return value
    }

    func string(_ key: String) throws(FaultlineClientError) -> String {
        let value = try value(key)
        guard let text = value.stringValue else { throw wrongKind(key, "a string", value) }
        return text
    }

    /// A string, or nil when the member is absent or `null`.
    func optionalString(_ key: String) throws(FaultlineClientError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw wrongKind(key, "a string or null", value) }
        return text
    }

    func bool(_ key: String) throws(FaultlineClientError) -> Bool {
        let value = try value(key)
        guard let flag = value.boolValue else { throw wrongKind(key, "a boolean", value) }
        return flag
    }

    func int(_ key: String) throws(FaultlineClientError) -> Int {
        let value = try value(key)
        guard let number = value.int64Value, let int = Int(exactly: number) else { throw wrongKind(key, "an integer", value) }
        return int
    }

    func unsigned(_ key: String) throws(FaultlineClientError) -> UInt64 {
        let value = try value(key)
        switch value {
        case .integer(let number) where number >= 0: return UInt64(number)
        case .unsignedInteger(let number): return number
        default: throw wrongKind(key, "a non-negative integer", value)
        }
    }

    func double(_ key: String) throws(FaultlineClientError) -> Double {
        let value = try value(key)
        guard let number = value.doubleValue else { throw wrongKind(key, "a number", value) }
        return number
    }

    func array(_ key: String) throws(FaultlineClientError) -> [JSONValue] {
        let value = try value(key)
        guard let items = value.arrayValue else { throw wrongKind(key, "an array", value) }
        return items
    }

    private func wrongKind(_ key: String, _ expected: String, _ value: JSONValue) -> FaultlineClientError {
        .invalidResponse("expected \"\(key)\" of \(what) to be \(expected), got \(value.kindName)")
    }
}
