/// Per-key request counts for `attempts`, bounded: at most `capacity` keys, the least recently
/// seen key forgotten first (it counts from 1 again if it comes back).
public struct AttemptCounter: Sendable {
    /// Keys kept per fault by default.
    public static let defaultCapacity = 100_000

    private struct Node: Sendable {
        var key: String
        var count: Int
        var newer: Int
        var older: Int
    }

    public let capacity: Int
    private var index: [String: Int] = [:]
    private var nodes: [Node] = []
    /// Most and least recently seen node, -1 when empty.
    private var newest = -1
    private var oldest = -1

    public init(capacity: Int = AttemptCounter.defaultCapacity) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Keys held now.
    public var count: Int { index.count }

    /// The count recorded for `key` so far (0 when unknown or forgotten).
    public func count(of key: String) -> Int {
        index[key].map { nodes[$0].count } ?? 0
    }

    /// Records one request with `key`; returns its 1-based ordinal.
    public mutating func record(_ key: String) -> Int {
        if let slot = index[key] {
            nodes[slot].count += 1
            moveToNewest(slot)
            return nodes[slot].count
        }
        let slot: Int
        if index.count >= capacity {
            slot = oldest
            unlink(slot)
            index.removeValue(forKey: nodes[slot].key)
            nodes[slot] = Node(key: key, count: 1, newer: -1, older: -1)
        } else {
            slot = nodes.count
            nodes.append(Node(key: key, count: 1, newer: -1, older: -1))
        }
        index[key] = slot
        linkAsNewest(slot)
        return 1
    }

    private mutating func moveToNewest(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        linkAsNewest(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let node = nodes[slot]
        if node.newer >= 0 { nodes[node.newer].older = node.older } else { newest = node.older }
        if node.older >= 0 { nodes[node.older].newer = node.newer } else { oldest = node.newer }
        nodes[slot].newer = -1
        nodes[slot].older = -1
    }

    private mutating func linkAsNewest(_ slot: Int) {
        nodes[slot].older = newest
        nodes[slot].newer = -1
        if newest >= 0 { nodes[newest].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
