import FaultlineSystem

/// The answers `UpstreamResolver` holds and when each is asked again: a pure value, driven with
/// explicit times, so its rules are tested without DNS or threads.
///
/// - A name nobody asked for yet is `pending` and asked for.
/// - An answer is used for `ttl`; after that it is still used while it is asked again (once).
/// - A failure is used for `negativeTTL`; after that the next lookup waits (`pending`) for the
///   new answer rather than failing on an old one.
/// - `refresh` (a connect failed on every address) asks again at once, unless already asking
///   or the answer changed since.
struct UpstreamResolverCache {
    /// A name and the port its addresses get.
    struct Key: Hashable, Sendable {
        var name: String
        var port: UInt16
    }

    /// What a worker gets for a name.
    enum Lookup: Equatable {
        /// Connect to these, in order.
        case addresses([SocketAddress])
        /// The name does not resolve: the connect fails with `reason="resolve"`.
        case failed
        /// Being resolved: park the connection until the answer arrives.
        case pending
    }

    private struct Entry {
        var addresses: [SocketAddress] = []
        var failed = false
        /// An answer has arrived (addresses or a failure).
        var answered = false
        var answeredAt: UInt64 = 0
        /// Asked for and not answered yet.
        var inFlight = false
    }

    let ttlNanoseconds: UInt64
    let negativeTTLNanoseconds: UInt64
    private var entries: [Key: Entry] = [:]

    init(ttlNanoseconds: UInt64, negativeTTLNanoseconds: UInt64) {
        self.ttlNanoseconds = ttlNanoseconds
        self.negativeTTLNanoseconds = negativeTTLNanoseconds
    }

    /// What `key` resolves to at `now`, and whether to ask the resolver for it.
    mutating func lookup(_ key: Key, now: UInt64) -> (Lookup, ask: Bool) {
        guard var entry = entries[key] else {
            entries[key] = Entry(inFlight: true)
            return (.pending, true)
        }
        var ask = false
        let lifetime = entry.failed ? negativeTTLNanoseconds : ttlNanoseconds
        if entry.answered, !entry.inFlight, now &- entry.answeredAt >= lifetime {
            entry.inFlight = true
            entries[key] = entry
            ask = true
        }
        if !entry.answered || (entry.failed && entry.inFlight) { return (.pending, ask) }
        return (entry.failed ? .failed : .addresses(entry.addresses), ask)
    }

    /// Marks `key` to be asked again at once, a connect having failed on every one of `failed`;
    /// true when the resolver must be asked: some route still uses the name, it is not being
    /// asked already, and `failed` is still its answer (a connect that began before a newer
    /// answer does not ask again).
    mutating func refresh(_ key: Key, failed: [SocketAddress]) -> Bool {
        guard var entry = entries[key], !entry.inFlight, entry.addresses == failed else { return false }
        entry.inFlight = true
        entries[key] = entry
        return true
    }

    /// The resolver's answer for `key` at `now`: its addresses, or nil when it did not resolve.
    /// Returns true when the addresses differ from the previous answer (worth a log line). An
    /// answer for a name no route uses any more is dropped.
    mutating func answer(_ key: Key, addresses: [SocketAddress]?, now: UInt64) -> Bool {
        guard let previous = entries[key] else { return false }
        var entry = Entry()
        entry.answered = true
        entry.answeredAt = now
        entry.failed = addresses == nil
        entry.addresses = addresses ?? []
        entries[key] = entry
        return addresses != nil && previous.addresses != entry.addresses
    }

    /// Keeps only the names in `keys` (a plan's routes); returns the new ones, now being asked
    /// for, so a new route's first connection seldom waits.
    mutating func retain(_ keys: Set<Key>) -> [Key] {
        entries = entries.filter { keys.contains($0.key) }
        let fresh = keys.filter { entries[$0] == nil }.sorted { ($0.name, $0.port) < ($1.name, $1.port) }
        for key in fresh { entries[key] = Entry(inFlight: true) }
        return fresh
    }
}
