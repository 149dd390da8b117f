/// How a partition blocks a link.
public enum PartitionMode: String, Sendable, Hashable {
    /// Connections are accepted but bytes are dropped and the upstream is not dialled: peers
    /// time out, as across a real partition.
    case blackhole
    /// Open connections are reset and new ones refused.
    case reset
}

/// A partition between groups of named nodes (SPEC §3.2), with generators already resolved.
public struct Partition: Sendable, Hashable {
    public var groups: [[String]]
    public var mode: PartitionMode
    /// Block only traffic leaving `groups[0]`.
    public var oneWay: Bool

    public init(groups: [[String]], mode: PartitionMode = .blackhole, oneWay: Bool = false) {
        self.groups = groups
        self.mode = mode
        self.oneWay = oneWay
    }

    /// The group index of a node, nil when the partition does not name it.
    public func group(of node: String) -> Int? {
        groups.firstIndex { $0.contains(node) }
    }

    /// Which directions of a link `from → to` this partition blocks (upstream = from → to bytes).
    /// Nodes named in no group are never blocked.
    public func blocks(from: String?, to: String?) -> Direction? {
        guard let from, let to, let fromGroup = group(of: from), let toGroup = group(of: to),
              fromGroup != toGroup else { return nil }
        guard oneWay else { return .both }
        if fromGroup == 0 { return .upstream }  // leaving groups[0] on the way to the service
        if toGroup == 0 { return .downstream }  // answers leaving groups[0] on the way back
        return nil
    }
}

/// Ways to describe a partition by rule instead of by groups; resolved from the seed at apply
/// time into concrete groups (SPEC §3.2).
public enum PartitionGenerator: Sendable, Hashable {
    /// One node against all others.
    case isolate(node: String)
    /// The nodes shuffled and cut into two halves.
    case randomHalves
    /// Two halves joined by one node that sees both (a bridge); modelled as two partitions that
    /// both leave the bridge node out.
    case bridge
    /// Each node sees only its ring neighbours.
    case ring
    /// One node, chosen at random, against all others.
    case randomNode

    public var kindName: String {
        switch self {
        case .isolate: return "isolate"
        case .randomHalves: return "random_halves"
        case .bridge: return "bridge"
        case .ring: return "ring"
        case .randomNode: return "random_node"
        }
    }

    /// Concrete partitions for the given nodes (sorted by name first, so the result depends
    /// only on the seed and the node set).
    public func resolve(nodes: [String], seed: UInt64, faultID: String) -> [[[String]]] {
        let sorted = Array(Set(nodes)).sorted()
        var rng = DecisionRNG(seed: seed, faultID: faultID, serial: 0, stream: 99)
        func shuffled(_ names: [String]) -> [String] {
            var out = names
            if out.count > 1 {
                for i in stride(from: out.count - 1, to: 0, by: -1) {
                    let j = Int(rng.next() % UInt64(i + 1))
                    out.swapAt(i, j)
                }
            }
            return out
        }
        switch self {
        case .isolate(let node):
            return [[[node], sorted.filter { $0 != node }]]
        case .randomNode:
            guard !sorted.isEmpty else { return [] }
            let node = sorted[Int(rng.next() % UInt64(sorted.count))]
            return [[[node], sorted.filter { $0 != node }]]
        case .randomHalves:
            let order = shuffled(sorted)
            let half = order.count / 2
            return [[Array(order[..<half]).sorted(), Array(order[half...]).sorted()]]
        case .bridge:
            // Shuffle, take the first node as the bridge and split the rest in halves: the halves
            // cannot talk, and the bridge, named in no group, talks to both.
            let order = shuffled(sorted)
            guard order.count >= 3 else { return [[sorted]] }
            let rest = Array(order.dropFirst())
            let half = rest.count / 2
            return [[Array(rest[..<half]).sorted(), Array(rest[half...]).sorted()]]
        case .ring:
            // The nodes in a seeded order around a ring; node i talks only to i-1 and i+1, so
            // every non-adjacent pair gets its own partition. Three nodes or fewer are all
            // neighbours: nothing is blocked.
            let order = shuffled(sorted)
            guard order.count > 3 else { return [] }
            var pairs: [[[String]]] = []
            for i in 0..<order.count {
                for j in (i + 1)..<order.count {
                    let adjacent = j == i + 1 || (i == 0 && j == order.count - 1)
                    if !adjacent { pairs.append([[order[i]], [order[j]]].sorted { $0[0] < $1[0] }) }
                }
            }
            // Listed in name order, so the journal reads the same for the same ring.
            return pairs.sorted { ($0[0][0], $0[1][0]) < ($1[0][0], $1[1][0]) }
        }
    }
}

/// The `partition` fault: groups given, or a generator resolved from the seed.
public struct PartitionFault: Sendable, Hashable {
    /// How the groups are described.
    public enum Rule: Sendable, Hashable {
        case groups([[String]])
        case generator(PartitionGenerator)
    }

    public var rule: Rule
    public var mode: PartitionMode
    public var oneWay: Bool
    /// The concrete group sets in force; nil until a generator is resolved. Each set is one
    /// partition; a link is blocked if any set blocks it.
    public var resolved: [[[String]]]?

    public init(rule: Rule, mode: PartitionMode = .blackhole, oneWay: Bool = false, resolved: [[[String]]]? = nil) {
        self.rule = rule
        self.mode = mode
        self.oneWay = oneWay
        if case .groups(let groups) = rule, resolved == nil {
            self.resolved = [groups]
        } else {
            self.resolved = resolved
        }
    }

    /// This fault with its generator resolved over `nodes` (no-op for given groups or when already resolved).
    public func resolving(nodes: [String], seed: UInt64, faultID: String) -> PartitionFault {
        guard resolved == nil, case .generator(let generator) = rule else { return self }
        var copy = self
        copy.resolved = generator.resolve(nodes: nodes, seed: seed, faultID: faultID)
        return copy
    }

    /// The directions of link `from → to` this fault blocks (union over its sets).
    public func blocks(from: String?, to: String?) -> Direction? {
        var up = false
        var down = false
        for groups in resolved ?? [] {
            switch Partition(groups: groups, mode: mode, oneWay: oneWay).blocks(from: from, to: to) {
            case .both?: up = true; down = true
            case .upstream?: up = true
            case .downstream?: down = true
            case nil: break
            }
        }
        switch (up, down) {
        case (true, true): return .both
        case (true, false): return .upstream
        case (false, true): return .downstream
        case (false, false): return nil
        }
    }
}
