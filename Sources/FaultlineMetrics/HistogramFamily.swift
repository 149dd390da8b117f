import Synchronization

/// A histogram metric of durations with labels, whose every label set is split into per-worker
/// shards that are summed when scraped.
///
/// Shards are created off the hot path (when a worker builds its plan) under a lock; after
/// that a worker records into its ``Histogram`` with no lock and no locked instruction. Like a
/// counter, a label set is never removed: its buckets, sum and count only go up.
///
/// Each label set is exposed as one `_bucket` line per bound (cumulative, `le` meaning less
/// than or equal) and one for `le="+Inf"`, then `_sum` in seconds and `_count`.
///
/// ```swift
/// let duration = HistogramFamily(name: "faultline_http_request_duration_seconds",
///                                help: "Time from request head to response end.",
///                                labelNames: ["route"])
/// let api = duration.shard(labels: ["api"], worker: 0)
/// api.observe(nanoseconds: 1_250_000)   // on worker 0's thread only
/// ```
public final class HistogramFamily: Sendable {
    /// The bucket bounds used when none are given, in seconds: 0.5 ms to 10 s, the Prometheus
    /// client defaults extended down to 0.5 ms because a proxy hop is often faster than 5 ms.
    public static let defaultUpperBoundsSeconds: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// The metric name, such as `faultline_http_request_duration_seconds`.
    public let name: String
    /// The text of the `# HELP` line.
    public let help: String
    /// The label names, in the order label values are given; `le` is added for the buckets.
    public let labelNames: [String]
    /// The inclusive upper bound of each finite bucket in nanoseconds, strictly increasing; a
    /// `+Inf` bucket follows them.
    public let upperBoundsNanoseconds: [UInt64]

    // The `le` value of each finite bound, then "+Inf", rendered once from the nanosecond
    // bounds so that the text names exactly the bound that observations are compared with.
    private let bucketLabels: [String]
    private let table = Mutex(SeriesTable<HistogramSeries>())

    /// Creates a family with no samples yet.
    /// - Parameters:
    ///   - name: A valid Prometheus metric name; by convention durations end in `_seconds`.
    ///   - help: The text of the `# HELP` line.
    ///   - labelNames: Valid Prometheus label names other than `le`; empty for an unlabelled
    ///     histogram.
    ///   - upperBoundsSeconds: The inclusive upper bounds of the finite buckets in seconds,
    ///     each rounded to the nearest nanosecond; they must be finite, non-negative and
    ///     strictly increasing once rounded. `+Inf` is always added and must not be listed.
    public init(
        name: String,
        help: String,
        labelNames: [String] = [],
        upperBoundsSeconds: [Double] = HistogramFamily.defaultUpperBoundsSeconds
    ) {
        Exposition.validate(name: name, labelNames: labelNames)
        precondition(!labelNames.contains("le"), "label name le is reserved for the buckets of histogram \(name)")
        let bounds = upperBoundsSeconds.map { seconds in
            // 2^64 ns: the largest bound a UInt64 of nanoseconds can hold, about 584 years.
            precondition(
                seconds.isFinite && seconds >= 0 && seconds * 1e9 < 18_446_744_073_709_551_616,
                "bucket bound \(seconds) of histogram \(name) is not a finite, non-negative number of seconds below 2^64 ns"
            )
            return UInt64((seconds * 1e9).rounded())
        }
        precondition(
            zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 },
            "bucket bounds of histogram \(name) must be strictly increasing in nanoseconds: \(upperBoundsSeconds)"
        )
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.upperBoundsNanoseconds = bounds
        self.bucketLabels = bounds.map { Exposition.decimalSeconds(nanoseconds: $0) } + ["+Inf"]
    }

    /// The shard that `worker` writes for a label set, created (and its sample lines
    /// pre-rendered) on first request; later calls return the same instance.
    ///
    /// Takes a lock: call it when building a plan, not per request. Only the thread of
    /// `worker` may write the returned histogram.
    /// - Parameters:
    ///   - labels: One value for each of ``labelNames``, in order.
    ///   - worker: The index of the writing thread (worker index, or any index reserved for
    ///     another single thread such as the control thread).
    public func shard(labels: [String], worker: Int) -> Histogram {
        table.withLock { table in
            table.series(for: labels) { makeSeries(labels) }.shard(worker: worker)
        }
    }

    /// Drops `worker`'s shard of every label set that `matches` selects (label values in
    /// ``labelNames`` order); a label set left with no shard leaves the exposition.
    ///
    /// For the writing thread itself, when its plan no longer has the route or fault the labels
    /// name: it stops writing those shards first, so no count can land in one after it is gone,
    /// and a later ``shard(labels:worker:)`` for the same labels starts a new series from zero.
    /// Takes the family's lock once.
    public func removeShards(worker: Int, where matches: @Sendable ([String]) -> Bool) {
        table.withLock { table in
            table.removeAll { labelValues, series in matches(labelValues) && series.removeShard(worker: worker) }
        }
    }

    /// The current state of a label set summed across all its shards, or `nil` if it was
    /// never created.
    /// - Parameter labels: One value for each of ``labelNames``, in order.
    public func snapshot(labels: [String]) -> HistogramSnapshot? {
        table.withLock { table in table.existing(labels)?.total }
    }

    /// Appends this family — `# HELP`, `# TYPE`, then for each label set in label-value order
    /// its `_bucket`, `_sum` and `_count` lines — to `output` in text exposition format 0.0.4.
    public func emit(into output: inout String) {
        Exposition.writeHeader(into: &output, name: name, help: help, typeName: "histogram")
        table.withLock { table in
            for entry in table.ordered {
                let series = entry.series
                let total = series.total
                for (prefix, count) in zip(series.bucketPrefixes, total.cumulativeCounts) {
                    output += prefix
                    output += String(count)
                    output += "\n"
                }
                output += series.sumPrefix
                output += Exposition.decimalSeconds(nanoseconds: total.sumNanoseconds)
                output += "\n"
                output += series.countPrefix
                output += String(total.count)
                output += "\n"
            }
        }
    }

    private func makeSeries(_ labels: [String]) -> HistogramSeries {
        // The sum prefix first: it checks the label count against the family's own names.
        let sumPrefix = Exposition.seriesPrefix(name: name + "_sum", labelNames: labelNames, labelValues: labels)
        let bucketPrefixes = bucketLabels.map { bound in
            Exposition.seriesPrefix(name: name + "_bucket", labelNames: labelNames + ["le"], labelValues: labels + [bound])
        }
        return HistogramSeries(
            bucketPrefixes: bucketPrefixes,
            sumPrefix: sumPrefix,
            countPrefix: Exposition.seriesPrefix(name: name + "_count", labelNames: labelNames, labelValues: labels),
            upperBoundsNanoseconds: upperBoundsNanoseconds
        )
    }
}
