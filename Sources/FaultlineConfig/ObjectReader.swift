/// Walks one JSON object for a decoder: hands out members by key and reports every member that no
/// one asked for as an unknown key, in document order.
struct ObjectReader {
    let object: JSONObject
    let path: String
    private var taken: Set<String> = []

    /// Reads `value` as an object, or reports `expected an object, got KIND` and returns nil.
    init?(_ value: JSONValue, path: String, diagnostics: inout Diagnostics) {
        guard case .object(let object) = value else {
            diagnostics.add(path, "expected an object, got \(value.kindName)")
            return nil
        }
        self.object = object
        self.path = path
    }

    /// The path of a member of this object.
    func path(_ key: String) -> String { JSONPath.child(path, key) }

    /// The member's value, or nil when absent; either way the key counts as known.
    mutating func take(_ key: String) -> JSONValue? {
        taken.insert(key)
        return object[key]
    }

    /// Like `take`, but absent and `null` both mean nil: for keys whose value may be null.
    mutating func takeNullable(_ key: String) -> JSONValue? {
        guard let value = take(key), !value.isNull else { return nil }
        return value
    }

    /// Like `take`, but reports `missing required key` when absent.
    mutating func require(_ key: String, _ diagnostics: inout Diagnostics) -> JSONValue? {
        guard let value = take(key) else {
            diagnostics.add(path(key), "missing required key")
            return nil
        }
        return value
    }

    /// Reports each member not taken, with `message`.
    func reportUnknownKeys(_ diagnostics: inout Diagnostics, message: String = "unknown key") {
        for key in object.keys where !taken.contains(key) {
            diagnostics.add(path(key), message)
        }
    }
}
