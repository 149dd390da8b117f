/// A parsed JSON value that keeps what a config file needs to be strict about.
///
/// Integers and numbers with a fraction or exponent stay apart, so `"workers": 1.0` can be
/// rejected. An integer literal is `.integer` when it fits `Int64`, `.unsignedInteger` only when it
/// is larger than `Int64.max` but fits `UInt64` (a 64-bit seed), and `.double` beyond that.
/// Objects keep their keys in document order (see `JSONObject`).
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer literal that fits `Int64`.
    case integer(Int64)
    /// An integer literal in `Int64.max + 1 ... UInt64.max`; never used for smaller values.
    case unsignedInteger(UInt64)
    /// A number with a fraction or an exponent, or an integer too large for `UInt64`.
    case double(Double)
    /// A string, escapes resolved.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object, keys in document order.
    case object(JSONObject)

    /// The kind of value as error messages name it: `null`, `boolean`, `integer`, `number`,
    /// `string`, `array` or `object`.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer, .unsignedInteger: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The string payload, or nil for any other kind.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The object payload, or nil for any other kind.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The array payload, or nil for any other kind.
    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// The boolean payload, or nil for any other kind.
    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The value as an `Int64` when it is an integer literal that fits; nil for numbers with a
    /// fraction and for anything else.
    public var int64Value: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// Any number (integer or not) as a `Double`; nil for other kinds.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .unsignedInteger(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension JSONValue: ExpressibleByNilLiteral {
    /// `nil` is JSON `null`.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// A JSON boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// A JSON integer.
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// A JSON number with a fraction.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// A JSON string.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// A JSON array.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// A JSON object whose keys keep the literal's order; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text of the value (see `JSONWriter`).
    public var description: String { JSONWriter.render(self) }
}
