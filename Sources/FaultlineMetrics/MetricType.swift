/// The Prometheus type of a metric family, as written on its `# TYPE` line.
public enum MetricType: String, Sendable, Hashable {
    /// A value that only goes up (or resets to zero when the process restarts).
    case counter
    /// A value that goes up and down.
    case gauge
}
