import Synchronization

/// The set of metric families a daemon exposes, rendered in registration order as Prometheus
/// text exposition format 0.0.4.
///
/// Registration happens at start-up or plan-build time; ``render()`` may run on any thread
/// (the control thread serving `/metrics`) while workers keep writing their shards.
public final class MetricsRegistry: Sendable {
    private enum Family: Sendable {
        case counter(CounterFamily)
        case gauge(GaugeFamily)
        case histogram(HistogramFamily)
        case collector(Collector)

        var name: String {
            switch self {
            case .counter(let family): family.name
            case .gauge(let family): family.name
            case .histogram(let family): family.name
            case .collector(let collector): collector.name
            }
        }

        /// The current values, for a counter, gauge or collector family (nil for a histogram).
        var samples: [Sample]? {
            switch self {
            case .counter(let family): family.samples()
            case .gauge(let family): family.samples()
            case .histogram: nil
            case .collector(let collector): collector.collect()
            }
        }

        func emit(into output: inout String) {
            switch self {
            case .counter(let family): family.emit(into: &output)
            case .gauge(let family): family.emit(into: &output)
            case .histogram(let family): family.emit(into: &output)
            case .collector(let collector): collector.emit(into: &output)
            }
        }
    }

    private let families = Mutex<[Family]>([])

    /// Creates an empty registry.
    public init() {}

    /// Adds a counter family; it is rendered after every family registered before it.
    ///
    /// Registering two families with the same name is a programmer error and traps.
    /// - Parameter family: The family to expose.
    public func register(_ family: CounterFamily) {
        append(.counter(family))
    }

    /// Adds a gauge family; it is rendered after every family registered before it.
    ///
    /// Registering two families with the same name is a programmer error and traps.
    /// - Parameter family: The family to expose.
    public func register(_ family: GaugeFamily) {
        append(.gauge(family))
    }

    /// Adds a histogram family; it is rendered after every family registered before it.
    ///
    /// Registering two families with the same name is a programmer error and traps.
    /// - Parameter family: The family to expose.
    public func register(_ family: HistogramFamily) {
        append(.histogram(family))
    }

    /// Adds a family computed at scrape time; it is rendered after every family registered
    /// before it.
    ///
    /// Registering two families with the same name is a programmer error and traps.
    /// - Parameter collector: The family to expose.
    public func register(_ collector: Collector) {
        append(.collector(collector))
    }

    /// Renders every family in registration order as Prometheus text exposition format 0.0.4
    /// (`Content-Type: text/plain; version=0.0.4`).
    public func render() -> String {
        // Copy the list and render outside the lock, so a slow collector (reading /proc)
        // never blocks a registration.
        let snapshot = families.withLock { $0 }
        var output = ""
        output.reserveCapacity(4096)
        for family in snapshot {
            family.emit(into: &output)
        }
        return output
    }

    /// The current samples of the counter, gauge or collector family named `name` (label values
    /// in the family's label order, values as a scrape would print them), for readers that want
    /// numbers rather than text, such as the status page's snapshot; nil when no such family is
    /// registered, or it is a histogram.
    ///
    /// Costs what scraping that one family costs: one pass over its label sets and their
    /// per-worker shards.
    /// - Parameter name: The metric name, such as `faultline_bytes_total`.
    public func samples(of name: String) -> [Sample]? {
        let family = families.withLock { families in families.first { $0.name == name } }
        return family?.samples
    }

    private func append(_ family: Family) {
        families.withLock { families in
            precondition(
                !families.contains { $0.name == family.name },
                "metric family \(family.name) is already registered"
            )
            families.append(family)
        }
    }
}
