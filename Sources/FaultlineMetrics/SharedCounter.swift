import Synchronization

/// A monotonically increasing count that any number of threads may write.
///
/// Unlike ``Counter``, every ``add(_:)`` is an atomic wrapping add (a locked
/// read-modify-write), so concurrent writers never lose an update. Use it off the hot path —
/// for counts bumped by the control thread and others — and give each worker its own
/// ``Counter`` instead.
public final class SharedCounter: Sendable {
    private let storage: Atomic<UInt64>

    /// Creates a counter starting at zero.
    public init() {
        self.storage = Atomic(0)
    }

    /// Atomically adds `n` to the count; safe from any thread.
    /// - Parameter n: The amount to add. Wraps at `UInt64.max` rather than trapping.
    public func add(_ n: UInt64) {
        storage.wrappingAdd(n, ordering: .relaxed)
    }

    /// Atomically adds one to the count; safe from any thread.
    public func increment() {
        storage.wrappingAdd(1, ordering: .relaxed)
    }

    /// The current count, read with relaxed ordering; safe from any thread.
    public var value: UInt64 {
        storage.load(ordering: .relaxed)
    }
}
