/// A distribution of durations written by exactly one thread: per-bucket counts and a sum.
///
/// A `Histogram` is one *shard* of a ``HistogramFamily``: each worker owns its own shard and
/// is the only thread that ever calls ``observe(nanoseconds:)`` on it. Each bucket, and the
/// sum, is a ``Counter``, so an observation is a short scan over the bounds plus two relaxed
/// load/store pairs — no lock, no locked instruction, no floating point and no allocation.
///
/// Buckets are stored non-cumulatively (an observation touches one bucket, not all those
/// above it) and the count is their sum, so a scrape always sees non-decreasing cumulative
/// buckets and a `+Inf` bucket equal to the count. The sum is read separately from the
/// buckets, so a scrape racing the writer may see it one observation ahead of or behind the
/// count; Prometheus' rate-based queries are indifferent to that.
///
/// Two threads calling ``observe(nanoseconds:)`` on the same `Histogram` lose updates.
public final class Histogram: Sendable {
    /// The inclusive upper bound of each finite bucket in nanoseconds, strictly increasing; the
    /// `+Inf` bucket follows them.
    public let upperBoundsNanoseconds: [UInt64]

    // One per finite bound, then +Inf; each counts only the observations that fall in it.
    private let buckets: [Counter]
    private let sum = Counter()

    /// Creates an empty shard; the family has already checked that the bounds increase.
    init(upperBoundsNanoseconds: [UInt64]) {
        self.upperBoundsNanoseconds = upperBoundsNanoseconds
        self.buckets = (0...upperBoundsNanoseconds.count).map { _ in Counter() }
    }

    /// Records one duration.
    ///
    /// Single-writer only, like ``Counter/add(_:)``. A duration equal to a bound falls in that
    /// bound's bucket (`le` means less than or equal).
    /// - Parameter nanoseconds: The duration observed. The sum wraps at `UInt64.max`
    ///   nanoseconds (about 584 years) rather than trapping.
    public func observe(nanoseconds: UInt64) {
        // The bounds are few (14 by default) and the common durations sit in the first
        // buckets, so a linear scan beats a binary search here.
        var index = 0
        while index < upperBoundsNanoseconds.count, nanoseconds > upperBoundsNanoseconds[index] {
            index += 1
        }
        buckets[index].increment()
        sum.add(nanoseconds)
    }

    /// This shard's counts, sum and bounds, read with relaxed ordering; safe from any thread.
    public var snapshot: HistogramSnapshot {
        var counts = [UInt64](repeating: 0, count: buckets.count)
        var sumNanoseconds: UInt64 = 0
        accumulate(into: &counts, sumNanoseconds: &sumNanoseconds)
        return HistogramSnapshot(
            upperBoundsNanoseconds: upperBoundsNanoseconds,
            bucketCounts: counts,
            sumNanoseconds: sumNanoseconds
        )
    }

    /// Adds this shard's non-cumulative bucket counts and its sum to running totals.
    func accumulate(into counts: inout [UInt64], sumNanoseconds: inout UInt64) {
        for index in buckets.indices {
            counts[index] &+= buckets[index].value
        }
        sumNanoseconds &+= sum.value
    }
}
