import Synchronization

/// A counter metric with labels, whose every label set is split into per-worker shards that
/// are summed when scraped.
///
/// Shards are created off the hot path (when a worker builds its plan) under a lock; after
/// that a worker writes its ``Counter`` with no lock and no locked instruction. A label set
/// leaves the exposition when its last shard is dropped (``removeShards(worker:where:)``: each
/// worker drops its own on the plan that deletes the route or fault); if it comes back it
/// starts from zero, which Prometheus reads as a counter reset.
///
/// ```swift
/// let bytes = CounterFamily(name: "faultline_bytes_total", help: "Bytes relayed.",
///                           labelNames: ["route", "direction"])
/// let upstream = bytes.shard(labels: ["api", "upstream"], worker: 0)
/// upstream.add(4096)   // on worker 0's thread only
/// ```
public final class CounterFamily: Sendable {
    /// The metric name, such as `faultline_bytes_total`.
    public let name: String
    /// The text of the `# HELP` line.
    public let help: String
    /// The label names, in the order label values are given.
    public let labelNames: [String]

    private let table = Mutex(SeriesTable<CounterSeries>())

    /// Creates a family with no samples yet.
    /// - Parameters:
    ///   - name: A valid Prometheus metric name; by convention counters end in `_total`.
    ///   - help: The text of the `# HELP` line.
    ///   - labelNames: Valid Prometheus label names; empty for an unlabelled counter.
    public init(name: String, help: String, labelNames: [String] = []) {
        Exposition.validate(name: name, labelNames: labelNames)
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    /// The shard that `worker` writes for a label set, created (and its sample line
    /// pre-rendered) on first request; later calls return the same instance.
    ///
    /// Takes a lock: call it when building a plan, not per chunk. Only the thread of `worker`
    /// may write the returned counter.
    /// - Parameters:
    ///   - labels: One value for each of ``labelNames``, in order.
    ///   - worker: The index of the writing thread (worker index, or any index reserved for
    ///     another single thread such as the control thread).
    public func shard(labels: [String], worker: Int) -> Counter {
        table.withLock { table in
            series(labels, in: &table).shard(worker: worker)
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

    /// A counter for a label set that any thread may write, summed with the per-worker shards.
    ///
    /// For counts bumped from several threads off the hot path; each call for the same label
    /// set returns the same instance.
    /// - Parameter labels: One value for each of ``labelNames``, in order.
    public func sharedShard(labels: [String]) -> SharedCounter {
        table.withLock { table in
            series(labels, in: &table).sharedShard()
        }
    }

    /// The current total of a label set across all its shards, or `nil` if it was never
    /// created.
    /// - Parameter labels: One value for each of ``labelNames``, in order.
    public func total(labels: [String]) -> UInt64? {
        table.withLock { table in table.existing(labels)?.total }
    }

    /// Every label set's current total, in label-value order: what one scrape would print, without
    /// the text. Costs one pass over the label sets and their shards (never over connections).
    public func samples() -> [Sample] {
        table.withLock { table in
            table.ordered.map { Sample(labelValues: $0.labelValues, value: .unsigned($0.series.total)) }
        }
    }

    /// Appends this family — `# HELP`, `# TYPE`, then one line per label set in label-value
    /// order — to `output` in text exposition format 0.0.4.
    public func emit(into output: inout String) {
        Exposition.writeHeader(into: &output, name: name, help: help, typeName: MetricType.counter.rawValue)
        table.withLock { table in
            for entry in table.ordered {
                output += entry.series.prefix
                output += String(entry.series.total)
                output += "\n"
            }
        }
    }

    private func series(_ labels: [String], in table: inout SeriesTable<CounterSeries>) -> CounterSeries {
        table.series(for: labels) {
            CounterSeries(prefix: Exposition.seriesPrefix(name: name, labelNames: labelNames, labelValues: labels))
        }
    }
}
