/// The state of a histogram at one instant: cumulative bucket counts, count and sum.
public struct HistogramSnapshot: Sendable, Hashable {
    /// The inclusive upper bound of each finite bucket in nanoseconds, strictly increasing.
    public var upperBoundsNanoseconds: [UInt64]
    /// For each bound of ``upperBoundsNanoseconds`` and then for `+Inf`, the number of
    /// observations less than or equal to it — the values of the `_bucket` lines.
    public var cumulativeCounts: [UInt64]
    /// The sum of all observed durations in nanoseconds (wrapping at `UInt64.max`).
    public var sumNanoseconds: UInt64

    /// The number of observations: the `+Inf` bucket.
    public var count: UInt64 {
        cumulativeCounts.last ?? 0
    }

    /// Creates a snapshot from per-bucket (non-cumulative) counts.
    /// - Parameters:
    ///   - upperBoundsNanoseconds: The finite bucket bounds in nanoseconds, strictly increasing.
    ///   - bucketCounts: The observations that fell in each bucket alone, one per bound and then
    ///     one for `+Inf`.
    ///   - sumNanoseconds: The sum of the observed durations in nanoseconds.
    public init(upperBoundsNanoseconds: [UInt64], bucketCounts: [UInt64], sumNanoseconds: UInt64) {
        precondition(
            bucketCounts.count == upperBoundsNanoseconds.count + 1,
            "a histogram with \(upperBoundsNanoseconds.count) bound(s) needs \(upperBoundsNanoseconds.count + 1) bucket counts, got \(bucketCounts.count)"
        )
        self.upperBoundsNanoseconds = upperBoundsNanoseconds
        var running: UInt64 = 0
        self.cumulativeCounts = bucketCounts.map { count in
            running &+= count
            return running
        }
        self.sumNanoseconds = sumNanoseconds
    }
}
