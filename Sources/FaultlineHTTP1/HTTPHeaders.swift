/// One header (or trailer) field as received: the name keeps its case, the value has its
/// surrounding whitespace removed.
public struct HTTPField: Sendable, Hashable {
    /// The field name, case as received.
    public var name: String
    /// The field value without leading or trailing SP/HTAB.
    public var value: String

    /// A field from its name and value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Header fields in the order they were received; names compare case-insensitively (ASCII).
///
/// Repeated names are kept as separate fields, never merged, so a proxy can forward a head
/// field by field and a strict reader can see every copy.
public struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// The fields, in order.
    public private(set) var fields: [HTTPField]

    /// No fields.
    public init() { fields = [] }

    /// The given fields, in order.
    public init(_ fields: [HTTPField]) { self.fields = fields }

    /// Fields from `name: value` pairs, in literal order (repeats allowed).
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { HTTPField(name: $0.0, value: $0.1) }
    }

    /// Number of fields.
    public var count: Int { fields.count }
    /// True when there are no fields.
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[HTTPField]> { fields.makeIterator() }

    /// Appends a field (after any with the same name).
    public mutating func append(_ field: HTTPField) {
        fields.append(field)
    }

    /// Appends a field (after any with the same name).
    public mutating func append(name: String, value: String) {
        fields.append(HTTPField(name: name, value: value))
    }

    /// Replaces every field named `name` by one field with `value`, at the first one's position
    /// (or at the end when there was none).
    public mutating func replaceOrAppend(name: String, value: String) {
        if let first = fields.firstIndex(where: { HTTPHeaders.namesEqual($0.name, name) }) {
            fields[first].value = value
            var index = fields.count - 1
            while index > first {
                if HTTPHeaders.namesEqual(fields[index].name, name) { fields.remove(at: index) }
                index -= 1
            }
        } else {
            append(name: name, value: value)
        }
    }

    /// Removes every field named `name`.
    public mutating func remove(name: String) {
        fields.removeAll { HTTPHeaders.namesEqual($0.name, name) }
    }

    /// The first value for `name`, or nil.
    public subscript(name: String) -> String? {
        fields.first { HTTPHeaders.namesEqual($0.name, name) }?.value
    }

    /// Every value for `name`, in order.
    public func values(for name: String) -> [String] {
        fields.filter { HTTPHeaders.namesEqual($0.name, name) }.map(\.value)
    }

    /// Whether a field named `name` is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { HTTPHeaders.namesEqual($0.name, name) }
    }

    /// The comma-separated list elements of every `name` field, trimmed, empty elements dropped,
    /// lowercased (for token lists such as `Connection` and `Transfer-Encoding`).
    public func tokens(for name: String) -> [String] {
        var out: [String] = []
        for value in values(for: name) {
            for element in value.split(separator: ",", omittingEmptySubsequences: true) {
                let trimmed = HTTPSyntax.trimmingWhitespace(Substring(element))
                if !trimmed.isEmpty { out.append(HTTPSyntax.lowercasedASCII(trimmed)) }
            }
        }
        return out
    }

    /// ASCII case-insensitive name comparison.
    public static func namesEqual(_ lhs: String, _ rhs: String) -> Bool {
        let a = lhs.utf8, b = rhs.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { HTTPSyntax.lowercase($0) == HTTPSyntax.lowercase($1) }
    }
}
