/// One sample produced at scrape time by a ``Collector``: the values of the family's labels
/// (in the order of its `labelNames`) and the number to report.
public struct Sample: Sendable, Hashable {
    /// The label values, one for each of the collector's label names, in the same order.
    public var labelValues: [String]
    /// The sample's value.
    public var value: SampleValue

    /// Creates a sample.
    /// - Parameters:
    ///   - labelValues: One value for each of the collector's label names, in order; empty
    ///     for a family without labels.
    ///   - value: The sample's value.
    public init(labelValues: [String] = [], value: SampleValue) {
        self.labelValues = labelValues
        self.value = value
    }
}
