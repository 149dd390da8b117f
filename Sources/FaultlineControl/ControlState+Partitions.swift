public import FaultlineConfig
public import FaultlineCore

/// Partition transitions: `POST /v1/partitions`, `DELETE /v1/partitions`, and how partitions are
/// resolved, shown and journaled (SPEC §3.2).
extension ControlState {
    /// Every node name a partition can name now: the routes' `from`/`to` and the `nodes` map, sorted.
    public var nodeNames: [String] {
        FaultPlan.nodeNames(routes: routes.map(\.spec), nodes: config.nodes)
    }

    /// Applies a partition given in shorthand: the body of a `partition` fault, with `type`
    /// optional (`{"groups": [["n1"], ["n2", "n3"]]}`, `{"kind": "isolate", "node": "n1"}`, …).
    /// Answers 201 with the fault as stored, its generator's resolution in `resolved`.
    /// - Parameter now: monotonic nanoseconds, from which a `for` counts.
    public func applyPartition(body: [UInt8], now: UInt64 = 0) -> ControlOutcome {
        let value: JSONValue
        switch ControlBody.parse(body, invalidCode: "invalid_fault") {
        case .success(let parsed): value = parsed
        case .failure(let failure): return .reply(failure.response)
        }
        guard case .object(var object) = value else {
            return .reply(.invalid(code: "invalid_fault", ConfigErrors([ConfigError(path: "$", message: "expected an object, got \(value.kindName)")])))
        }
        if let type = object["type"] {
            guard type == "partition" else {
                return .reply(.invalid(code: "invalid_fault", ConfigErrors([
                    ConfigError(path: "type", message: "must be \"partition\" here (or left out), got \(JSONWriter.render(type))"),
                ])))
            }
        } else {
            object["type"] = "partition"
        }
        return applyFault(.object(object), now: now)
    }

    /// Heals every partition (`DELETE /v1/partitions`): 200 `{"healed": [ids]}`, journaling
    /// `partition.healed` for each. With none in force it answers at once, without a new plan.
    public func healPartitions() -> ControlOutcome {
        let partitions = faults.filter(\.spec.isPartition)
        guard !partitions.isEmpty else { return .reply(.json(200, ["healed": []])) }
        var proposed = self
        proposed.faults.removeAll(where: \.spec.isPartition)
        return .change(ControlChange(
            proposed: proposed, reply: .healed(partitions.map(\.spec.id)),
            events: partitions.map { ControlEvents.cleared($0.spec, reason: "heal") }
        ))
    }

    /// A partition checked against the known nodes and resolved from the seed (other faults
    /// unchanged). Paths are relative to the fault object.
    func resolvePartition(_ spec: FaultSpec) -> Result<FaultSpec, ConfigErrors> {
        guard case .partition(let partition) = spec.kind else { return .success(spec) }
        let known = nodeNames
        let knownSet = Set(known)
        let knownText = known.isEmpty
            ? "no nodes are known: give routes `from`/`to` or a `nodes` map"
            : "known: \(known.joined(separator: ", "))"
        var errors: [ConfigError] = []
        switch partition.rule {
        case .groups(let groups):
            for (i, group) in groups.enumerated() {
                for (j, name) in group.enumerated() where !knownSet.contains(name) {
                    errors.append(ConfigError(path: "groups[\(i)][\(j)]", message: "unknown node \"\(name)\" (\(knownText))"))
                }
            }
        case .generator(let generator):
            let needed: Int
            switch generator {
            case .isolate(let node):
                if !knownSet.contains(node) {
                    errors.append(ConfigError(path: "node", message: "unknown node \"\(node)\" (\(knownText))"))
                }
                needed = 2
            case .randomHalves, .randomNode: needed = 2
            case .bridge, .ring: needed = 3
            }
            if errors.isEmpty && known.count < needed {
                errors.append(ConfigError(
                    path: "kind", message: "\(generator.kindName) needs at least \(needed) known nodes, found \(known.count) (\(knownText))"))
            }
        }
        guard errors.isEmpty else { return .failure(ConfigErrors(errors)) }
        return .success(spec.resolvingPartitions(nodes: known, seed: config.seed))
    }

    /// `faults` with their partition generators resolved over the node names `config` knows.
    static func resolvingPartitions(_ faults: [FaultSpec], config: DaemonConfig) -> [FaultSpec] {
        let names = FaultPlan.nodeNames(routes: config.routes, nodes: config.nodes)
        return faults.map { $0.resolvingPartitions(nodes: names, seed: config.seed) }
    }

    /// A fault as the API shows it: what `FaultEncoder` writes (the config file's shape), plus,
    /// for a partition given by a generator, `resolved`: the group sets it was resolved to.
    /// An active fault as the API shows it: `faultJSON(_:)` plus, for one applied with `for`,
    /// `expires_in_ms` — the time left at `now` (monotonic nanoseconds; nil: just applied, the
    /// whole `for`).
    public func faultJSON(_ fault: ManagedFault, now: UInt64?) -> JSONValue {
        let encoded = faultJSON(fault.spec)
        guard let expiresAt = fault.expiresAt, case .object(var object) = encoded else { return encoded }
        let left = now.map { expiresAt > $0 ? expiresAt - $0 : 0 } ?? fault.spec.lifetime?.nanosecondsClamped ?? 0
        object["expires_in_ms"] = .integer(Int64(clamping: left / 1_000_000))
        return .object(object)
    }

    /// A fault as stored: the config's keys (`FaultEncoder`), and a partition generator's
    /// resolution under `resolved`.
    public func faultJSON(_ spec: FaultSpec) -> JSONValue {
        let encoded = FaultEncoder.encode(spec)
        guard case .partition(let partition) = spec.kind, case .generator = partition.rule,
              let sets = partition.resolved, case .object(var object) = encoded else { return encoded }
        object["resolved"] = .array(sets.map(FaultEncoder.groups))
        return .object(object)
    }
}

extension FaultSpec {
    /// Whether this is a `partition`.
    var isPartition: Bool {
        if case .partition = kind { return true }
        return false
    }
}

extension ControlEvents {
    /// `fault.applied`, or `partition.applied` for a partition.
    static func applied(_ fault: FaultSpec) -> JournalEvent {
        guard case .partition(let partition) = fault.kind else { return faultApplied(fault) }
        return partitionApplied(fault, partition)
    }

    /// `fault.cleared`, or `partition.healed` for a partition.
    static func cleared(_ fault: FaultSpec, reason: String) -> JournalEvent {
        guard fault.isPartition else { return faultCleared(fault.id, reason: reason) }
        return JournalEvent(event: "partition.healed", fields: [.string("id", fault.id), .string("reason", reason)])
    }

    /// `partition.applied`: the id, how it was given (`kind`: a generator's name, or `groups`),
    /// `node` for `isolate`, the resolved `groups` (or `partitions`, the list of group sets, when
    /// a generator resolved to more or fewer than one), `mode`, `one_way` and `route`.
    static func partitionApplied(_ fault: FaultSpec, _ partition: PartitionFault) -> JournalEvent {
        var fields: [JournalField] = [.string("id", fault.id)]
        switch partition.rule {
        case .groups:
            fields.append(.string("kind", "groups"))
        case .generator(let generator):
            fields.append(.string("kind", generator.kindName))
            if case .isolate(let node) = generator { fields.append(.string("node", node)) }
        }
        let sets = partition.resolved ?? []
        if sets.count == 1 {
            fields.append(JournalField("groups", json: JSONWriter.render(FaultEncoder.groups(sets[0]))))
        } else {
            fields.append(JournalField("partitions", json: JSONWriter.render(.array(sets.map(FaultEncoder.groups)))))
        }
        fields.append(.string("mode", partition.mode.rawValue))
        fields.append(JournalField("one_way", json: partition.oneWay ? "true" : "false"))
        let route = FaultEncoder.encode(fault).objectValue?["route"] ?? "*"
        fields.append(JournalField("route", json: JSONWriter.render(route)))
        return JournalEvent(event: "partition.applied", fields: fields)
    }
}
