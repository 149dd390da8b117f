/// The `faultline_build_info{version="..."} 1` metric, the conventional way to expose a build's
/// version as a label that dashboards can join on.
public enum BuildInfo {
    /// The metric name.
    public static let metricName = "faultline_build_info"

    /// Registers `faultline_build_info` with the given version into `registry`.
    /// - Parameters:
    ///   - version: The daemon's version, such as `1.0.0`.
    ///   - registry: The registry to add the family to.
    public static func register(version: String, into registry: MetricsRegistry) {
        let family = GaugeFamily(
            name: metricName,
            help: "Faultline build information; the value is always 1.",
            labelNames: ["version"]
        )
        family.shard(labels: [version], worker: 0).set(1)
        registry.register(family)
    }
}
