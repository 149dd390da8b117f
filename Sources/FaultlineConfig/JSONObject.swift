/// One `"key": value` pair of a JSON object.
public struct JSONMember: Sendable, Hashable {
    /// The member's key.
    public var key: String
    /// The member's value.
    public var value: JSONValue

    /// A member with the given key and value.
    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON object that keeps its keys in the order they were written and holds each key once.
///
/// Two objects are equal when they hold the same members in the same order: order is part of
/// what a user wrote and what `JSONWriter` prints back.
public struct JSONObject: Sendable, Hashable {
    /// The members in order.
    public private(set) var members: [JSONMember]
    private var positions: [String: Int]

    /// An empty object.
    public init() {
        members = []
        positions = [:]
    }

    /// An object from key/value pairs in order; a repeated key keeps its first position and its
    /// last value.
    public init(_ pairs: [(String, JSONValue)]) {
        self.init()
        for (key, value) in pairs { self[key] = value }
    }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    /// The number of members.
    public var count: Int { members.count }

    /// True when the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// The value for `key`. Setting a new key appends it, setting an existing key replaces its value
    /// in place, and setting nil removes the key.
    public subscript(key: String) -> JSONValue? {
        get { positions[key].map { members[$0].value } }
        set {
            if let position = positions[key] {
                if let newValue {
                    members[position].value = newValue
                } else {
                    members.remove(at: position)
                    positions[key] = nil
                    for index in position..<members.count { positions[members[index].key] = index }
                }
            } else if let newValue {
                positions[key] = members.count
                members.append(JSONMember(key: key, value: newValue))
            }
        }
    }

    /// Same members in the same order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members == rhs.members
    }

    /// Hashes the members in order.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(members)
    }
}
