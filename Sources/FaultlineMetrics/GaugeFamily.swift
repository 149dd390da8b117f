import Synchronization

/// A gauge metric with labels, whose every label set is split into per-worker shards that are
/// summed when scraped (for example each worker's active connections on a route).
///
/// Shards are created off the hot path under a lock; after that a worker writes its
/// ``Gauge`` with no lock. Unlike counters, a label set may be dropped with
/// ``remove(labels:)`` — for instance when its route is deleted.
public final class GaugeFamily: Sendable {
    /// The metric name, such as `faultline_connections_active`.
    public let name: String
    /// The text of the `# HELP` line.
    public let help: String
    /// The label names, in the order label values are given.
    public let labelNames: [String]

    private let table = Mutex(SeriesTable<GaugeSeries>())

    /// Creates a family with no samples yet.
    /// - Parameters:
    ///   - name: A valid Prometheus metric name.
    ///   - help: The text of the `# HELP` line.
    ///   - labelNames: Valid Prometheus label names; empty for an unlabelled gauge.
    public init(name: String, help: String, labelNames: [String] = []) {
        Exposition.validate(name: name, labelNames: labelNames)
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    /// The shard that `worker` writes for a label set, created (and its sample line
    /// pre-rendered) on first request; later calls return the same instance until the label
    /// set is removed.
    ///
    /// Takes a lock: call it when building a plan, not per chunk. Only the thread of `worker`
    /// may write the returned gauge.
    /// - Parameters:
    ///   - labels: One value for each of ``labelNames``, in order.
    ///   - worker: The index of the writing thread.
    public func shard(labels: [String], worker: Int) -> Gauge {
        table.withLock { table in
            table.series(for: labels) {
                GaugeSeries(prefix: Exposition.seriesPrefix(name: name, labelNames: labelNames, labelValues: labels))
            }.shard(worker: worker)
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

    /// Drops a label set from the exposition.
    ///
    /// Shards already handed out keep working but are no longer reported; a later
    /// ``shard(labels:worker:)`` for the same labels starts again from zero.
    /// - Parameter labels: One value for each of ``labelNames``, in order.
    /// - Returns: Whether the label set existed.
    @discardableResult
    public func remove(labels: [String]) -> Bool {
        table.withLock { table in table.remove(labels) }
    }

    /// The current sum of a label set across its shards, or `nil` if it does not exist.
    /// - Parameter labels: One value for each of ``labelNames``, in order.
    public func total(labels: [String]) -> Int64? {
        table.withLock { table in table.existing(labels)?.total }
    }

    /// Every label set's current sum, in label-value order: what one scrape would print, without
    /// the text. Costs one pass over the label sets and their shards.
    public func samples() -> [Sample] {
        table.withLock { table in
            table.ordered.map { Sample(labelValues: $0.labelValues, value: .signed($0.series.total)) }
        }
    }

    /// Appends this family — `# HELP`, `# TYPE`, then one line per label set in label-value
    /// order — to `output` in text exposition format 0.0.4.
    public func emit(into output: inout String) {
        Exposition.writeHeader(into: &output, name: name, help: help, typeName: MetricType.gauge.rawValue)
        table.withLock { table in
            for entry in table.ordered {
                output += entry.series.prefix
                output += String(entry.series.total)
                output += "\n"
            }
        }
    }
}
