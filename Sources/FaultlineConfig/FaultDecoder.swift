public import FaultlineCore

/// Decodes one fault object of SPEC §3.1 into a `FaultSpec`, with the same rules everywhere a
/// fault is written: the config's `faults[]`, a schedule step's `apply`, a control-API body.
///
/// Common keys: `id` (optional, `[A-Za-z0-9._-]+`), `type` (required), `route` (`"*"`, a name or a
/// non-empty list of names; default `"*"`), `direction` (`upstream`/`downstream`/`both`, default
/// `both`), `probability` (number in 0…1, default 1). Parameters by type:
///
/// | type | parameters |
/// |---|---|
/// | `latency` | `delay` (required), `jitter` (default `"0s"`), `distribution` (`uniform` default, `normal`) |
/// | `bandwidth` | `bytes_per_second` (required, ≥ 1) |
/// | `slicer` | `average_size` (required, ≥ 1), `size_variation` (default 0, < `average_size`), `delay` (default `"0s"`) |
/// | `blackhole`, `stall` | none |
/// | `reset` | `after` (default `"0s"`), `after_bytes` (optional, ≥ 0) |
/// | `timeout` | `timeout` (required; `"0s"` = never) |
/// | `limit_data` | `bytes` (required, ≥ 0) |
/// | `slow_close`, `connect_delay` | `delay` (required) |
/// | `refuse` | `existing` (`keep` default, `reset`) |
/// | `corrupt` | `bit_flip_rate` (required, 0…1) |
///
/// The HTTP faults (`abort`, `delay`, `drop_response`, `duplicate`, and the HTTP/2 ones
/// `rst_stream`, `goaway`, `window_stall`) take no `direction` and add
/// `match`, `attempts` and `mark` (FaultDecoder+HTTP.swift); those three keys on any other type
/// are errors. Any other key is reported as `unknown key for type T`. Errors are those of
/// `ConfigError`.
public enum FaultDecoder {
    /// Decodes one fault.
    ///
    /// - Parameters:
    ///   - value: the fault object.
    ///   - path: JSON path of `value`, prefixed to every error (`""` or `"$"` for a request body,
    ///     which makes errors read `delay: …`).
    ///   - knownRoutes: route names `route` may name; nil skips the check.
    ///   - generatedID: the id to use when the object has none, given the fault's `type`. The config
    ///     uses `"<type>-<index>"`; a caller that decodes many faults must keep these unique.
    /// - Returns: the fault, or every problem found.
    public static func decodeFault(
        _ value: JSONValue, path: String, knownRoutes: Set<String>?,
        generatedID: (_ type: String) -> String = { "\($0)-0" }, lifetime: LifetimeRule = .refused(nil)
    ) -> Result<FaultSpec, ConfigErrors> {
        var diagnostics = Diagnostics()
        let decoded = decode(value, path: path, knownRoutes: knownRoutes, generatedID: generatedID, lifetime: lifetime, &diagnostics)
        return diagnostics.result(decoded?.fault)
    }

    /// Whether a fault object may carry `for` (how long until the daemon clears it).
    public enum LifetimeRule: Sendable {
        /// Faults applied through the API: `for` is a positive duration.
        case allowed
        /// Elsewhere (the config's `faults[]`, a schedule step's fault): `for` is an error, with
        /// this message (nil: the generic unknown-key one).
        case refused(String?)
    }

    /// A decoded fault and whether its id was generated rather than written.
    struct Decoded {
        var fault: FaultSpec
        var idWasGenerated: Bool
    }

    static func decode(
        _ value: JSONValue, path: String, knownRoutes: Set<String>?,
        generatedID: (_ type: String) -> String, lifetime lifetimeRule: LifetimeRule = .refused(nil),
        _ diagnostics: inout Diagnostics
    ) -> Decoded? {
        guard var reader = ObjectReader(value, path: path, diagnostics: &diagnostics) else { return nil }
        let errorsBefore = diagnostics.errors.count

        var lifetime: Duration?
        switch lifetimeRule {
        case .allowed:
            if let forValue = reader.take("for") { lifetime = diagnostics.duration(forValue, reader.path("for"), positive: true) }
        case .refused(let message?):
            if reader.take("for") != nil { diagnostics.add(reader.path("for"), message) }
        case .refused(nil):
            break
        }

        var typeName: String?
        if let typeValue = reader.require("type", &diagnostics),
           let text = diagnostics.string(typeValue, reader.path("type")) {
            if FaultKind.typeNames.contains(text) {
                typeName = text
            } else {
                diagnostics.add(reader.path("type"), "unknown fault type \(quoted(text))")
            }
        }

        var id: String?
        if let idValue = reader.take("id") { id = diagnostics.name(idValue, reader.path("id")) }

        var routes = RouteSelector.all
        if let routeValue = reader.take("route") {
            routes = decodeRoutes(routeValue, path: reader.path("route"), knownRoutes: knownRoutes, &diagnostics) ?? .all
        }

        var direction = Direction.both
        let isHTTP = typeName.map { FaultKind.httpTypeNames.contains($0) } ?? false
        if let typeName, isHTTP, reader.take("direction") != nil {
            diagnostics.add(reader.path("direction"), "not allowed for type \(typeName) (HTTP faults act on requests)")
        }
        if let typeName, !isHTTP {
            for key in httpOnlyKeys where reader.take(key) != nil {
                diagnostics.add(
                    reader.path(key), "not allowed for type \(typeName): only for HTTP faults (\(FaultKind.httpTypeNames.joined(separator: ", ")))")
            }
        }
        if typeName == "partition" {
            // A partition acts on links between nodes, in the directions its groups say.
            for key in ["direction", "probability"] where reader.take(key) != nil {
                diagnostics.add(reader.path(key), "not allowed for type partition")
            }
        }
        if !isHTTP, let directionValue = reader.take("direction") {
            direction = diagnostics.choice(
                directionValue, reader.path("direction"), what: "direction", [Direction.upstream, .downstream, .both]
            ) ?? .both
        }

        var probability = 1.0
        if let probabilityValue = reader.take("probability") {
            probability = diagnostics.number(probabilityValue, reader.path("probability"), in: 0...1) ?? 1
        }

        guard let typeName else { return nil }
        let http = isHTTP ? decodeHTTPRule(&reader, &diagnostics) : HTTPFaultRule.none
        let kind = isHTTP ? decodeHTTPKind(typeName, &reader, &diagnostics) : decodeKind(typeName, &reader, &diagnostics)
        reader.reportUnknownKeys(&diagnostics, message: "unknown key for type \(typeName)")

        guard let kind, diagnostics.errors.count == errorsBefore else { return nil }
        let idWasGenerated = id == nil
        let fault = FaultSpec(
            id: id ?? generatedID(typeName), routes: routes, direction: direction, probability: probability, kind: kind,
            http: http, lifetime: lifetime
        )
        return Decoded(fault: fault, idWasGenerated: idWasGenerated)
    }

    private static func decodeRoutes(
        _ value: JSONValue, path: String, knownRoutes: Set<String>?, _ diagnostics: inout Diagnostics
    ) -> RouteSelector? {
        func routeName(_ value: JSONValue, _ path: String, _ diagnostics: inout Diagnostics) -> String? {
            guard let name = diagnostics.string(value, path) else { return nil }
            if let knownRoutes, !knownRoutes.contains(name) {
                diagnostics.add(path, "unknown route \(quoted(name))")
                return nil
            }
            if knownRoutes == nil, let problem = Diagnostics.nameProblem(name) {
                diagnostics.add(path, problem)
                return nil
            }
            return name
        }
        switch value {
        case .string("*"):
            return .all
        case .string:
            return routeName(value, path, &diagnostics).map { .names([$0]) }
        case .array(let items):
            if items.isEmpty {
                diagnostics.add(path, "must name at least one route")
                return nil
            }
            var names: [String] = []
            var failed = false
            for (index, item) in items.enumerated() {
                let itemPath = JSONPath.index(path, index)
                if item == .string("*") {
                    diagnostics.add(itemPath, "\"*\" cannot be combined with route names")
                    failed = true
                } else if let name = routeName(item, itemPath, &diagnostics) {
                    if names.contains(name) {
                        diagnostics.add(itemPath, "duplicate route \(quoted(name))")
                        failed = true
                    } else {
                        names.append(name)
                    }
                } else {
                    failed = true
                }
            }
            return failed ? nil : .names(names)
        default:
            diagnostics.add(path, "expected a route name, a list of route names or \"*\", got \(value.kindName)")
            return nil
        }
    }

    /// Reads the parameters of `typeName`. Problems are reported to `diagnostics`, and a
    /// placeholder stands in for a bad value: the caller discards the result when anything was
    /// reported.
    private static func decodeKind(
        _ typeName: String, _ reader: inout ObjectReader, _ diagnostics: inout Diagnostics
    ) -> FaultKind? {
        func duration(_ key: String, default fallback: Duration? = nil) -> Duration {
            let value = fallback == nil ? reader.require(key, &diagnostics) : reader.take(key)
            guard let value else { return fallback ?? .zero }
            return diagnostics.duration(value, reader.path(key)) ?? .zero
        }
        func integer(_ key: String, min: Int64, default fallback: Int? = nil) -> Int {
            let value = fallback == nil ? reader.require(key, &diagnostics) : reader.take(key)
            guard let value else { return fallback ?? 0 }
            return diagnostics.integer(value, reader.path(key), in: min...Int64.max).map { Int($0) } ?? 0
        }
        func choice<T: RawRepresentable>(_ key: String, what: String, _ cases: [T]) -> T where T.RawValue == String {
            guard let value = reader.take(key) else { return cases[0] }
            return diagnostics.choice(value, reader.path(key), what: what, cases) ?? cases[0]
        }

        switch typeName {
        case "latency":
            return .latency(
                delay: duration("delay"), jitter: duration("jitter", default: .zero),
                distribution: choice("distribution", what: "distribution", [JitterDistribution.uniform, .normal])
            )
        case "bandwidth":
            return .bandwidth(bytesPerSecond: integer("bytes_per_second", min: 1))
        case "slicer":
            let averageSize = integer("average_size", min: 1)
            let sizeVariation = integer("size_variation", min: 0, default: 0)
            if averageSize > 0, sizeVariation >= averageSize {
                diagnostics.add(
                    reader.path("size_variation"), "must be less than average_size (\(averageSize)), got \(sizeVariation)"
                )
            }
            return .slicer(averageSize: averageSize, sizeVariation: sizeVariation, delay: duration("delay", default: .zero))
        case "blackhole":
            return .blackhole
        case "stall":
            return .stall
        case "reset":
            let after = duration("after", default: .zero)
            var afterBytes: Int?
            if let value = reader.takeNullable("after_bytes") {
                afterBytes = diagnostics.integer(value, reader.path("after_bytes"), in: 0...Int64.max).map { Int($0) }
            }
            return .reset(after: after, afterBytes: afterBytes)
        case "timeout":
            return .timeout(duration("timeout"))
        case "limit_data":
            return .limitData(bytes: integer("bytes", min: 0))
        case "slow_close":
            return .slowClose(delay: duration("delay"))
        case "refuse":
            return .refuse(existing: choice("existing", what: "value", [RefuseExisting.keep, .reset]))
        case "connect_delay":
            return .connectDelay(duration("delay"))
        case "partition":
            return decodePartition(&reader, &diagnostics).map { .partition($0) }
        case "corrupt":
            guard let value = reader.require("bit_flip_rate", &diagnostics) else { return nil }
            return diagnostics.number(value, reader.path("bit_flip_rate"), in: 0...1).map { .corrupt(bitFlipRate: $0) }
        default:
            // `typeName` was checked against `FaultKind.typeNames`; a name there but not here is a
            // Core change this decoder has not caught up with.
            diagnostics.add(reader.path("type"), "fault type \(quoted(typeName)) is not supported by the config decoder")
            return nil
        }
    }

    /// `groups` (two or more non-empty lists of distinct node names) or `kind` (+ `node` for
    /// `isolate`); `mode` (`blackhole` default, `reset`); `one_way` (default false).
    private static func decodePartition(_ reader: inout ObjectReader, _ diagnostics: inout Diagnostics) -> PartitionFault? {
        var mode = PartitionMode.blackhole
        if let value = reader.take("mode") {
            mode = diagnostics.choice(value, reader.path("mode"), what: "mode", [PartitionMode.blackhole, .reset]) ?? .blackhole
        }
        var oneWay = false
        if let value = reader.take("one_way") { oneWay = diagnostics.bool(value, reader.path("one_way")) ?? false }
        let groupsValue = reader.take("groups")
        let kindValue = reader.take("kind")
        let nodeValue = reader.take("node")
        switch (groupsValue, kindValue) {
        case (let groupsValue?, nil):
            if nodeValue != nil { diagnostics.add(reader.path("node"), "only allowed with kind isolate") }
            let path = reader.path("groups")
            guard let items = diagnostics.array(groupsValue, path) else { return nil }
            guard items.count >= 2 else {
                diagnostics.add(path, "must list at least two groups, got \(items.count)")
                return nil
            }
            var groups: [[String]] = []
            var seen: [String: String] = [:]
            for (i, item) in items.enumerated() {
                let groupPath = JSONPath.index(path, i)
                guard let members = diagnostics.array(item, groupPath) else { continue }
                if members.isEmpty { diagnostics.add(groupPath, "must not be empty") }
                var group: [String] = []
                for (j, member) in members.enumerated() {
                    let memberPath = JSONPath.index(groupPath, j)
                    guard let name = diagnostics.name(member, memberPath) else { continue }
                    if let first = seen[name] {
                        diagnostics.add(memberPath, "node \(quoted(name)) is already in \(first)")
                    } else {
                        seen[name] = memberPath
                        group.append(name)
                    }
                }
                groups.append(group)
            }
            return PartitionFault(rule: .groups(groups), mode: mode, oneWay: oneWay)
        case (nil, let kindValue?):
            let path = reader.path("kind")
            guard let kind = diagnostics.string(kindValue, path) else { return nil }
            let generator: PartitionGenerator
            switch kind {
            case "isolate":
                guard let nodeValue else {
                    diagnostics.add(reader.path("node"), "missing required key")
                    return nil
                }
                guard let node = diagnostics.name(nodeValue, reader.path("node")) else { return nil }
                generator = .isolate(node: node)
            case "random_halves": generator = .randomHalves
            case "bridge": generator = .bridge
            case "ring": generator = .ring
            case "random_node": generator = .randomNode
            default:
                diagnostics.add(path, "unknown partition kind \(quoted(kind)) (expected isolate, random_halves, bridge, ring or random_node)")
                return nil
            }
            if nodeValue != nil, case .isolate = generator {} else if nodeValue != nil {
                diagnostics.add(reader.path("node"), "only allowed with kind isolate")
            }
            return PartitionFault(rule: .generator(generator), mode: mode, oneWay: oneWay)
        case (nil, nil):
            diagnostics.add(reader.path("groups"), "missing required key (give groups or kind)")
            return nil
        case (_?, _?):
            diagnostics.add(reader.path("kind"), "give either groups or kind, not both")
            return nil
        }
    }
}
