extension CounterFamily {
    /// `faultline_accept_failures_total{listener,reason}`: failed `accept` calls, by listener (a
    /// route's name, or `control-tcp`, `control-unix`, `metrics`) and reason (`emfile`, `enfile`,
    /// `enobufs`, `enomem`, `aborted`, `error`).
    ///
    /// One family for the workers and the control thread: `ProxyMetrics` creates and registers
    /// it, and hands it to `ControlMetrics` (faultlined wires them); each thread writes its own
    /// shards.
    public static func acceptFailures() -> CounterFamily {
        CounterFamily(
            name: "faultline_accept_failures_total",
            help: "Failed accept calls, by listener (route, control-tcp, control-unix, metrics) and reason (emfile, enfile, enobufs, enomem, aborted, error).",
            labelNames: ["listener", "reason"])
    }
}
