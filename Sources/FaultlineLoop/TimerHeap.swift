/// A min-heap of deadlines. Entries are never removed early: a timer whose owner has moved on
/// is recognised by its tag when it fires (lazy cancellation keeps scheduling O(log n) with no
/// lookups).
struct TimerHeap {
    struct Entry {
        var deadline: UInt64
        var sequence: UInt64
        var tag: UInt64

        @inline(__always)
        func fires(before other: Entry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && sequence < other.sequence)
        }
    }

    private(set) var entries: [Entry] = []
    private var nextSequence: UInt64 = 0

    init() { entries.reserveCapacity(1024) }

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var earliestDeadline: UInt64? { entries.first?.deadline }

    mutating func push(deadline: UInt64, tag: UInt64) {
        entries.append(Entry(deadline: deadline, sequence: nextSequence, tag: tag))
        nextSequence &+= 1
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].fires(before: entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: UInt64) -> Entry? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < entries.count && entries[left].fires(before: entries[smallest]) { smallest = left }
                if right < entries.count && entries[right].fires(before: entries[smallest]) { smallest = right }
                if smallest == parent { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
