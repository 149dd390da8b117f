internal import FaultlineCore

/// Decodes and validates a daemon config file (SPEC §2) into a `DaemonConfig`.
///
/// Strict: unknown keys are errors at every level, every value is checked for kind and range, and
/// cross-references are checked (fault routes, schedule clears, unique names, ids and listen
/// addresses). Decoding does not stop at the first problem: the failure carries every error found,
/// as `PATH: MESSAGE` (see `ConfigError` for the formats). Top-level keys: `version` (required,
/// must be 1), `seed`, `workers`, `control`, `metrics_listen`, `journal`, `limits`, `nodes`,
/// `routes`, `faults`, `schedule`.
public enum ConfigDecoder {
    /// The most event-loop threads `workers` may ask for.
    public static let maxWorkers = 256
    /// The accepted range of `limits.buffer_bytes` (4 KiB to 16 MiB).
    public static let bufferBytesRange = 4096...16_777_216
    /// The accepted range of `limits.latency_queue_bytes` (4 KiB to 1 GiB); it must also be at
    /// least `limits.buffer_bytes`, so a latency fault never holds less than the relay buffer.
    public static let latencyQueueBytesRange = 4096...1_073_741_824
    /// The accepted range of `limits.request_log` (0 turns the log off).
    public static let requestLogRange = 0...10_000_000

    /// Decodes a config from its JSON text.
    public static func decode(jsonText: String) -> Result<DaemonConfig, ConfigErrors> {
        decode(bytes: Array(jsonText.utf8))
    }

    /// Decodes a config from its UTF-8 bytes. Invalid JSON gives a single `$: invalid JSON at …`
    /// error; repeated keys are reported (the first value is kept) together with every other
    /// problem.
    public static func decode(bytes: [UInt8]) -> Result<DaemonConfig, ConfigErrors> {
        let (parsed, duplicates) = JSONParser.parseReportingDuplicates(bytes: bytes)
        switch parsed {
        case .failure(let error):
            return .failure(ConfigErrors([ConfigError(path: error.path, message: error.message)]))
        case .success(let value):
            var diagnostics = Diagnostics()
            diagnostics.append(contentsOf: duplicates.map { ConfigError(path: $0.path, message: $0.message) })
            let config = decode(value, &diagnostics)
            return diagnostics.result(config)
        }
    }

    /// Decodes a config from an already parsed document.
    public static func decode(_ value: JSONValue) -> Result<DaemonConfig, ConfigErrors> {
        var diagnostics = Diagnostics()
        let config = decode(value, &diagnostics)
        return diagnostics.result(config)
    }

    static func decode(_ value: JSONValue, _ diagnostics: inout Diagnostics) -> DaemonConfig? {
        guard var reader = ObjectReader(value, path: JSONPath.root, diagnostics: &diagnostics) else { return nil }
        var config = DaemonConfig()
        // An editor's pointer at Config/faultline.schema.json; nothing to the daemon.
        if let schema = reader.take("$schema") { _ = diagnostics.string(schema, JSONPath.child(JSONPath.root, "$schema")) }

        if let version = reader.require("version", &diagnostics) {
            switch version {
            case .integer(1):
                config.version = 1
            case .integer, .unsignedInteger:
                diagnostics.add("version", "unsupported version \(JSONWriter.render(version)) (expected 1)")
            default:
                diagnostics.add("version", "expected an integer, got \(version.kindName)")
            }
        }
        if let seed = reader.take("seed") {
            config.seed = diagnostics.unsigned64(seed, "seed") ?? 0
        }
        if let workers = reader.take("workers") {
            config.workers = diagnostics.integer(workers, "workers", in: 0...Int64(maxWorkers)).map { Int($0) } ?? 0
        }
        if let control = reader.take("control") {
            config.control = decodeControl(control, &diagnostics)
        }
        if let metrics = reader.takeNullable("metrics_listen") {
            config.metricsListen = diagnostics.endpoint(metrics, "metrics_listen")
        }
        if let journal = reader.takeNullable("journal") {
            config.journal = diagnostics.nonEmptyString(journal, "journal")
        }
        if let limits = reader.take("limits") {
            config.limits = decodeLimits(limits, &diagnostics)
        }
        if let nodes = reader.take("nodes") {
            config.nodes = decodeNodes(nodes, &diagnostics)
        }
        var routeNames: Set<String> = []
        if let routes = reader.take("routes") {
            (config.routes, routeNames) = decodeRoutes(routes, &diagnostics)
        }
        let protocols = Dictionary(config.routes.map { ($0.name, $0.protocolKind) }, uniquingKeysWith: { first, _ in first })
        if let faults = reader.take("faults") {
            config.faults = decodeFaults(faults, knownRoutes: routeNames, protocols: protocols, &diagnostics)
        }
        if let schedule = reader.take("schedule") {
            config.schedule = decodeSchedule(
                schedule, knownRoutes: routeNames, protocols: protocols, faultIDs: Set(config.faults.map(\.id)), &diagnostics
            )
        }
        reader.reportUnknownKeys(&diagnostics)
        return config
    }
}
