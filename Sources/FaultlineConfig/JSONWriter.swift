import FaultlineCore

/// Serialises a `JSONValue` as compact JSON text.
///
/// Objects are written in their stored key order, with no whitespace. Strings escape `"`, `\` and
/// every control character (`\n`, `\r`, `\t`, `\b`, `\f`, otherwise `\u00XX`); all other characters,
/// including non-ASCII ones, are written as UTF-8. Numbers with a fraction use Swift's shortest
/// round-tripping form (`0.25`, `1.0`, `1e-07`); a non-finite double, which JSON cannot express,
/// is written as `null`.
public enum JSONWriter {
    /// The compact JSON text of `value`.
    public static func render(_ value: JSONValue) -> String {
        var output = ""
        write(value, into: &output)
        return output
    }

    /// Appends the compact JSON text of `value` to `output`.
    public static func write(_ value: JSONValue, into output: inout String) {
        switch value {
        case .null:
            output += "null"
        case .bool(let flag):
            output += flag ? "true" : "false"
        case .integer(let number):
            output += String(number)
        case .unsignedInteger(let number):
            output += String(number)
        case .double(let number):
            output += number.isFinite ? number.description : "null"
        case .string(let text):
            writeString(text, into: &output)
        case .array(let items):
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += "," }
                write(item, into: &output)
            }
            output += "]"
        case .object(let object):
            output += "{"
            for (index, member) in object.members.enumerated() {
                if index > 0 { output += "," }
                writeString(member.key, into: &output)
                output += ":"
                write(member.value, into: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ text: String, into output: inout String) {
        JSONText.append(text, to: &output)
    }
}
