public import FaultlineCore

/// The whole daemon config file (SPEC §2), decoded and validated by `ConfigDecoder`.
public struct DaemonConfig: Sendable, Hashable {
    /// The config format version; always 1.
    public var version: Int
    /// Seed of every random decision (SPEC §3); any integer in `0...UInt64.max`, default 0.
    public var seed: UInt64
    /// Event-loop threads; 0 (the default) means one per core. At most `ConfigDecoder.maxWorkers`.
    public var workers: Int
    /// The control API's listeners and peers.
    public var control: ControlConfig
    /// Extra listener for `GET /metrics`; nil for none.
    public var metricsListen: Endpoint?
    /// Path of the JSON-lines journal; nil for none.
    public var journal: String?
    /// Daemon-wide limits; defaults from `Limits.defaults`.
    public var limits: Limits
    /// The routes, in file order; names and listen addresses are unique.
    public var routes: [RouteSpec]
    /// Faults active from load, in file order; ids are unique.
    public var faults: [FaultSpec]
    /// Node name → the source addresses that identify it (top-level `"nodes"`).
    public var nodes: [String: [IPAddress]]
    /// The schedule; nil when the file has none.
    public var schedule: ScheduleSpec?

    /// A config; every part but the version has the default the file format gives it.
    public init(
        version: Int = 1, seed: UInt64 = 0, workers: Int = 0, control: ControlConfig = ControlConfig(),
        metricsListen: Endpoint? = nil, journal: String? = nil, limits: Limits = .defaults,
        routes: [RouteSpec] = [], faults: [FaultSpec] = [], nodes: [String: [IPAddress]] = [:],
        schedule: ScheduleSpec? = nil
    ) {
        self.version = version
        self.seed = seed
        self.workers = workers
        self.control = control
        self.metricsListen = metricsListen
        self.journal = journal
        self.limits = limits
        self.routes = routes
        self.faults = faults
        self.nodes = nodes
        self.schedule = schedule
    }
}
