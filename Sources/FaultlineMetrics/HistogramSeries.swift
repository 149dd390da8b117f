/// One label set of a ``HistogramFamily``: its pre-rendered line prefixes and its shards.
///
/// Mutated only inside the family's `Mutex`; the histograms it hands out are `Sendable`.
final class HistogramSeries {
    /// `name_bucket{…,le="…"} ` for each finite bound, then for `+Inf`.
    let bucketPrefixes: [String]
    /// `name_sum{…} `.
    let sumPrefix: String
    /// `name_count{…} `.
    let countPrefix: String
    private let upperBoundsNanoseconds: [UInt64]
    private var shards: [Int: Histogram] = [:]

    init(bucketPrefixes: [String], sumPrefix: String, countPrefix: String, upperBoundsNanoseconds: [UInt64]) {
        self.bucketPrefixes = bucketPrefixes
        self.sumPrefix = sumPrefix
        self.countPrefix = countPrefix
        self.upperBoundsNanoseconds = upperBoundsNanoseconds
    }

    func shard(worker: Int) -> Histogram {
        if let histogram = shards[worker] { return histogram }
        let histogram = Histogram(upperBoundsNanoseconds: upperBoundsNanoseconds)
        shards[worker] = histogram
        return histogram
    }

    /// Drops `worker`'s shard; returns whether no shard is left.
    func removeShard(worker: Int) -> Bool {
        shards.removeValue(forKey: worker)
        return shards.isEmpty
    }

    var total: HistogramSnapshot {
        var counts = [UInt64](repeating: 0, count: upperBoundsNanoseconds.count + 1)
        var sumNanoseconds: UInt64 = 0
        for histogram in shards.values {
            histogram.accumulate(into: &counts, sumNanoseconds: &sumNanoseconds)
        }
        return HistogramSnapshot(
            upperBoundsNanoseconds: upperBoundsNanoseconds,
            bucketCounts: counts,
            sumNanoseconds: sumNanoseconds
        )
    }
}
