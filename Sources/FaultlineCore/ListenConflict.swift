/// Whether two listen addresses can be bound side by side. The same address and port, or a
/// wildcard (`0.0.0.0`, `[::]`) and any address of its family on the same port, cannot: the
/// kernel refuses the second bind (IPv6 listeners are `IPV6_V6ONLY`, so families never clash).
/// Port 0 asks the kernel for a free port and never conflicts.
public enum ListenConflict: Sendable, Equatable {
    case duplicate
    case overlaps

    /// How `endpoint` conflicts with `other`, or nil when both can be bound.
    public static func between(_ endpoint: Endpoint, _ other: Endpoint) -> ListenConflict? {
        guard endpoint.port != 0, endpoint.port == other.port else { return nil }
        if endpoint.address == other.address { return .duplicate }
        guard endpoint.address.isIPv4 == other.address.isIPv4 else { return nil }
        return endpoint.address.isWildcard || other.address.isWildcard ? .overlaps : nil
    }
}

/// Listen addresses seen so far, each with an owner (a route name or a JSON path), answering
/// "which owner conflicts with this one" in constant time however many there are.
public struct ListenAddressIndex<Owner>: Sendable where Owner: Sendable {
    fileprivate struct PortEntry: Sendable {
        var exact: [IPAddress: Owner] = [:]
        var wildcardV4: Owner?
        var wildcardV6: Owner?
        var firstV4: Owner?
        var firstV6: Owner?

        mutating func insert(_ address: IPAddress, owner: Owner) {
            if exact[address] == nil { exact[address] = owner }
            if address.isIPv4 {
                if firstV4 == nil { firstV4 = owner }
                if address.isWildcard, wildcardV4 == nil { wildcardV4 = owner }
            } else {
                if firstV6 == nil { firstV6 = owner }
                if address.isWildcard, wildcardV6 == nil { wildcardV6 = owner }
            }
        }
    }

    private var ports: [UInt16: PortEntry] = [:]

    public init() {}

    /// The owner of an address that conflicts with `endpoint`, and how; nil when it is free.
    public func conflict(with endpoint: Endpoint) -> (owner: Owner, kind: ListenConflict)? {
        guard endpoint.port != 0, let entry = ports[endpoint.port] else { return nil }
        if let owner = entry.exact[endpoint.address] { return (owner, .duplicate) }
        let v4 = endpoint.address.isIPv4
        if let owner = v4 ? entry.wildcardV4 : entry.wildcardV6 { return (owner, .overlaps) }
        if endpoint.address.isWildcard, let owner = v4 ? entry.firstV4 : entry.firstV6 { return (owner, .overlaps) }
        return nil
    }

    /// Records `endpoint` as `owner`'s; the first owner of an address stays its owner.
    public mutating func insert(_ endpoint: Endpoint, owner: Owner) {
        guard endpoint.port != 0 else { return }
        // In place: a copy of the entry would copy its dictionary on every insert.
        ports[endpoint.port, default: PortEntry()].insert(endpoint.address, owner: owner)
    }
}

extension IPAddress {
    /// `0.0.0.0` or `::`.
    public var isWildcard: Bool {
        switch self {
        case .v4(let a, let b, let c, let d): return a == 0 && b == 0 && c == 0 && d == 0
        case .v6(let bytes): return bytes.allSatisfy { $0 == 0 }
        }
    }

    public var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }
}
