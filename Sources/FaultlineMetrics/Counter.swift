import Synchronization

/// A monotonically increasing count written by exactly one thread.
///
/// A `Counter` is one *shard* of a ``CounterFamily``: each worker owns its own shard and is
/// the only thread that ever calls ``add(_:)`` or ``increment()`` on it. Because there is one
/// writer, an increment is a relaxed load followed by a relaxed store — no locked
/// read-modify-write instruction, so counting a chunk costs about as much as a plain `+=`.
/// The atomic type is still needed so that a scrape on another thread reads a whole value
/// (never a torn one) without a data race.
///
/// Two threads calling ``add(_:)`` on the same `Counter` lose updates. Where several threads
/// must share one count, use ``SharedCounter``.
public final class Counter: Sendable {
    private let storage: Atomic<UInt64>

    /// Creates a counter starting at zero.
    public init() {
        self.storage = Atomic(0)
    }

    /// Adds `n` to the count.
    ///
    /// Single-writer only: this is a relaxed load and a relaxed store, not an atomic add.
    /// - Parameter n: The amount to add. Wraps at `UInt64.max` rather than trapping, so the
    ///   hot path carries no overflow check that could stop the daemon.
    public func add(_ n: UInt64) {
        let current = storage.load(ordering: .relaxed)
        storage.store(current &+ n, ordering: .relaxed)
    }

    /// Adds one to the count. Single-writer only, like ``add(_:)``.
    public func increment() {
        add(1)
    }

    /// The current count, read with relaxed ordering; safe from any thread.
    public var value: UInt64 {
        storage.load(ordering: .relaxed)
    }
}
