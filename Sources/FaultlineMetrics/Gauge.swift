import Synchronization

/// A signed value that goes up and down, written by exactly one thread.
///
/// A `Gauge` is one *shard* of a ``GaugeFamily``; a scrape reports the sum of a label set's
/// shards (for example each worker's count of active connections on a route). Like
/// ``Counter``, writes are a relaxed load and a relaxed store with no locked
/// read-modify-write, so only the owning thread may call ``add(_:)``, ``increment()``,
/// ``decrement()`` or ``set(_:)``; any thread may read ``value``.
public final class Gauge: Sendable {
    private let storage: Atomic<Int64>

    /// Creates a gauge at zero.
    public init() {
        self.storage = Atomic(0)
    }

    /// Adds `delta` (which may be negative) to the value. Single-writer only.
    /// - Parameter delta: The signed change; wraps rather than trapping on overflow.
    public func add(_ delta: Int64) {
        let current = storage.load(ordering: .relaxed)
        storage.store(current &+ delta, ordering: .relaxed)
    }

    /// Adds one to the value. Single-writer only.
    public func increment() {
        add(1)
    }

    /// Subtracts one from the value. Single-writer only.
    public func decrement() {
        add(-1)
    }

    /// Replaces the value. Single-writer only.
    /// - Parameter value: The new value.
    public func set(_ value: Int64) {
        storage.store(value, ordering: .relaxed)
    }

    /// The current value, read with relaxed ordering; safe from any thread.
    public var value: Int64 {
        storage.load(ordering: .relaxed)
    }
}
