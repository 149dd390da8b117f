/// A metric family whose samples are computed when scraped, such as process metrics or the
/// number of active faults.
///
/// The closure runs on the scraping thread, outside every registry lock, once per scrape.
/// Samples are printed sorted by label values, after the family's `# HELP` and `# TYPE`
/// lines; an empty result still prints those two lines.
public struct Collector: Sendable {
    /// The metric name.
    public let name: String
    /// The text of the `# HELP` line.
    public let help: String
    /// Whether the family is a counter or a gauge.
    public let type: MetricType
    /// The label names, in the order each ``Sample``'s label values are given.
    public let labelNames: [String]
    /// Computes the samples at scrape time.
    public let collect: @Sendable () -> [Sample]

    /// Creates a collector.
    /// - Parameters:
    ///   - name: A valid Prometheus metric name.
    ///   - help: The text of the `# HELP` line.
    ///   - type: Whether the family is a counter or a gauge.
    ///   - labelNames: Valid Prometheus label names; empty for an unlabelled family.
    ///   - collect: Returns the samples, each with one label value per label name.
    public init(
        name: String,
        help: String,
        type: MetricType,
        labelNames: [String] = [],
        collect: @escaping @Sendable () -> [Sample]
    ) {
        Exposition.validate(name: name, labelNames: labelNames)
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
        self.collect = collect
    }

    /// A collector for one unlabelled value computed at scrape time.
    /// - Parameters:
    ///   - name: A valid Prometheus metric name.
    ///   - help: The text of the `# HELP` line.
    ///   - type: Whether the family is a counter or a gauge.
    ///   - value: Returns the value, or `nil` to print no sample (for example when /proc
    ///     cannot be read).
    public static func single(
        name: String,
        help: String,
        type: MetricType,
        value: @escaping @Sendable () -> SampleValue?
    ) -> Collector {
        Collector(name: name, help: help, type: type) {
            value().map { [Sample(value: $0)] } ?? []
        }
    }

    /// Appends the family, with freshly collected samples, to `output` in text exposition
    /// format 0.0.4.
    public func emit(into output: inout String) {
        Exposition.writeHeader(into: &output, name: name, help: help, typeName: type.rawValue)
        let samples = collect().sorted { Exposition.precedes($0.labelValues, $1.labelValues) }
        for sample in samples {
            output += Exposition.seriesPrefix(name: name, labelNames: labelNames, labelValues: sample.labelValues)
            output += sample.value.exposition
            output += "\n"
        }
    }
}
