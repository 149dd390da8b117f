/// One label set of a ``GaugeFamily``: its pre-rendered line prefix and its shards.
///
/// Mutated only inside the family's `Mutex`; the gauges it hands out are `Sendable`.
final class GaugeSeries {
    let prefix: String
    private var shards: [Int: Gauge] = [:]

    init(prefix: String) {
        self.prefix = prefix
    }

    func shard(worker: Int) -> Gauge {
        if let gauge = shards[worker] { return gauge }
        let gauge = Gauge()
        shards[worker] = gauge
        return gauge
    }

    /// Drops `worker`'s shard; returns whether no shard is left.
    func removeShard(worker: Int) -> Bool {
        shards.removeValue(forKey: worker)
        return shards.isEmpty
    }

    var total: Int64 {
        var sum: Int64 = 0
        for gauge in shards.values {
            sum &+= gauge.value
        }
        return sum
    }
}
