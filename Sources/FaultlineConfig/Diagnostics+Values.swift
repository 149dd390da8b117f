internal import FaultlineCore

/// Readers for single values: each returns nil and reports the problem at `path` when the value is
/// not what the key needs.
extension Diagnostics {
    mutating func string(_ value: JSONValue, _ path: String) -> String? {
        guard case .string(let text) = value else {
            add(path, "expected a string, got \(value.kindName)")
            return nil
        }
        return text
    }

    mutating func nonEmptyString(_ value: JSONValue, _ path: String) -> String? {
        guard let text = string(value, path) else { return nil }
        if text.isEmpty {
            add(path, "must not be empty")
            return nil
        }
        return text
    }

    /// A name for a route, fault or node: `[A-Za-z0-9._-]+`, so it can stand in a URL path and a
    /// metric label unescaped.
    mutating func name(_ value: JSONValue, _ path: String) -> String? {
        guard let text = nonEmptyString(value, path) else { return nil }
        if let problem = Self.nameProblem(text) {
            add(path, problem)
            return nil
        }
        return text
    }

    static func nameProblem(_ text: String) -> String? { NameRule.problem(text) }

    static func isValidName(_ text: String) -> Bool { NameRule.isValid(text) }

    mutating func bool(_ value: JSONValue, _ path: String) -> Bool? {
        guard case .bool(let flag) = value else {
            add(path, "expected a boolean, got \(value.kindName)")
            return nil
        }
        return flag
    }

    /// An integer in `range`; the message names the bounds as `must be between A and B` or, when the
    /// upper bound is `Int64.max`, `must be at least A`.
    mutating func integer(_ value: JSONValue, _ path: String, in range: ClosedRange<Int64>) -> Int64? {
        switch value {
        case .integer(let number):
            guard range.contains(number) else {
                add(path, rangeMessage(lower: "\(range.lowerBound)", upper: upperText(range), got: "\(number)"))
                return nil
            }
            return number
        case .unsignedInteger(let number):
            add(path, rangeMessage(lower: "\(range.lowerBound)", upper: upperText(range), got: "\(number)"))
            return nil
        default:
            add(path, "expected an integer, got \(value.kindName)")
            return nil
        }
    }

    /// An integer in `0...UInt64.max`.
    mutating func unsigned64(_ value: JSONValue, _ path: String) -> UInt64? {
        switch value {
        case .integer(let number):
            guard number >= 0 else {
                add(path, rangeMessage(lower: "0", upper: "\(UInt64.max)", got: "\(number)"))
                return nil
            }
            return UInt64(number)
        case .unsignedInteger(let number):
            return number
        case .double(let number) where number == number.rounded() && number.magnitude >= 0x1p63:
            // An integer literal too large for 64 bits arrives as a double (18446744073709551616).
            add(path, "out of range: " + rangeMessage(lower: "0", upper: "\(UInt64.max)", got: number.description))
            return nil
        default:
            add(path, "expected an integer, got \(value.kindName)")
            return nil
        }
    }

    /// Any JSON number (integer or not) in `range`.
    mutating func number(_ value: JSONValue, _ path: String, in range: ClosedRange<Double>) -> Double? {
        guard let number = value.doubleValue else {
            add(path, "expected a number, got \(value.kindName)")
            return nil
        }
        guard range.contains(number) else {
            add(path, rangeMessage(lower: formatted(range.lowerBound), upper: formatted(range.upperBound), got: JSONWriter.render(value)))
            return nil
        }
        return number
    }

    /// A duration string (see `DurationParser`); `positive` also rejects `"0s"`.
    mutating func duration(_ value: JSONValue, _ path: String, positive: Bool = false) -> Duration? {
        guard case .string(let text) = value else {
            add(path, "expected a duration string, got \(value.kindName)")
            return nil
        }
        switch DurationParser.parse(text) {
        case .success(let duration):
            if positive && duration == .zero {
                add(path, "must be greater than 0s, got \(quoted(text))")
                return nil
            }
            return duration
        case .failure(let failure):
            let why: String
            switch failure {
            case .empty, .malformed: why = ""
            case .negative: why = " (negative)"
            case .missingUnit: why = " (missing unit)"
            case .tooLarge: why = " (too large)"
            }
            add(path, "\(quoted(text)) is not a duration\(why)")
            return nil
        }
    }

    mutating func endpoint(_ value: JSONValue, _ path: String) -> Endpoint? {
        guard let text = string(value, path) else { return nil }
        guard let endpoint = Endpoint(parsing: text) else {
            add(path, "\(quoted(text)) is not a valid address")
            return nil
        }
        return endpoint
    }

    /// A route's upstream: `host:port` with an IP literal or a DNS name.
    mutating func upstream(_ value: JSONValue, _ path: String) -> UpstreamAddress? {
        guard let text = string(value, path) else { return nil }
        guard let upstream = UpstreamAddress(parsing: text) else {
            add(path, "\(quoted(text)) is not a valid address")
            return nil
        }
        return upstream
    }

    mutating func ipAddress(_ value: JSONValue, _ path: String) -> IPAddress? {
        guard let text = string(value, path) else { return nil }
        guard let address = IPAddress(parsing: text) else {
            add(path, "\(quoted(text)) is not a valid IP address")
            return nil
        }
        return address
    }

    /// One of a fixed set of strings: `unknown WHAT "x" (expected a, b or c)`.
    mutating func choice<T: RawRepresentable>(
        _ value: JSONValue, _ path: String, what: String, _ cases: [T]
    ) -> T? where T.RawValue == String {
        guard let text = string(value, path) else { return nil }
        guard let match = cases.first(where: { $0.rawValue == text }) else {
            add(path, "unknown \(what) \(quoted(text)) (expected \(Self.orList(cases.map(\.rawValue))))")
            return nil
        }
        return match
    }

    /// A protocol code written as an integer in `range` or by name, `names[i]` naming code `i`
    /// (case-sensitive); `what` names the kind of code in errors (`"HTTP/2 error code"`).
    mutating func code(_ value: JSONValue, _ path: String, in range: ClosedRange<Int64>, names: [String], what: String) -> Int64? {
        switch value {
        case .integer, .unsignedInteger:
            return integer(value, path, in: range)
        case .string(let text):
            guard let code = names.firstIndex(of: text) else {
                add(path, "unknown \(what) \(quoted(text)) (expected \(range.lowerBound)–\(range.upperBound) or \(Self.orList(names)))")
                return nil
            }
            return Int64(code)
        default:
            add(path, "expected an integer or a \(what) name, got \(value.kindName)")
            return nil
        }
    }

    mutating func array(_ value: JSONValue, _ path: String) -> [JSONValue]? {
        guard case .array(let items) = value else {
            add(path, "expected an array, got \(value.kindName)")
            return nil
        }
        return items
    }

    /// `"a"`, `"a or b"`, `"a, b or c"`.
    static func orList(_ words: [String]) -> String {
        guard let last = words.last else { return "" }
        if words.count == 1 { return last }
        return words.dropLast().joined(separator: ", ") + " or " + last
    }

    private func upperText(_ range: ClosedRange<Int64>) -> String? {
        range.upperBound == Int64.max ? nil : "\(range.upperBound)"
    }

    private func rangeMessage(lower: String, upper: String?, got: String) -> String {
        if let upper { return "must be between \(lower) and \(upper), got \(got)" }
        return "must be at least \(lower), got \(got)"
    }

    private func formatted(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : number.description
    }
}

/// A string as JSON writes it: quoted and escaped, so odd characters in a message stay visible.
func quoted(_ text: String) -> String {
    JSONWriter.render(.string(text))
}

/// The rule for route, fault and node names and fault ids: `[A-Za-z0-9._-]`, 1 to 128 bytes, so
/// a name can stand in a URL path and a metric label unescaped. The length bound keeps a name out
/// of trouble where it is repeated: every metric label, journal line and URL that mentions it (a
/// 100,000-byte id would be copied into each).
public enum NameRule {
    /// The longest name or id, in bytes.
    public static let maxBytes = 128

    /// Why `text` is not a valid name or id, or nil when it is one. A name too long is not
    /// quoted back (it is the one thing the message must not repeat).
    public static func problem(_ text: String) -> String? {
        let length = text.utf8.count
        if length > maxBytes { return "is \(length) bytes long; a name is at most \(maxBytes) bytes" }
        guard isValid(text) else { return "\(quoted(text)) is not a valid name (use letters, digits, '.', '_' and '-')" }
        return nil
    }

    /// `[A-Za-z0-9._-]{1,128}`.
    public static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= maxBytes && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }
}
