/// One label set of a ``CounterFamily``: its pre-rendered line prefix and its shards.
///
/// Mutated only inside the family's `Mutex`; the counters it hands out are `Sendable`.
final class CounterSeries {
    let prefix: String
    private var shards: [Int: Counter] = [:]
    private var shared: SharedCounter?

    init(prefix: String) {
        self.prefix = prefix
    }

    func shard(worker: Int) -> Counter {
        if let counter = shards[worker] { return counter }
        let counter = Counter()
        shards[worker] = counter
        return counter
    }

    func sharedShard() -> SharedCounter {
        if let shared { return shared }
        let counter = SharedCounter()
        shared = counter
        return counter
    }

    /// Drops `worker`'s shard; returns whether no shard is left.
    func removeShard(worker: Int) -> Bool {
        shards.removeValue(forKey: worker)
        return shards.isEmpty && shared == nil
    }

    var total: UInt64 {
        var sum = shared?.value ?? 0
        for counter in shards.values {
            sum &+= counter.value
        }
        return sum
    }
}
