import FaultlineConfig
public import FaultlineCore

/// Fault transitions: `POST /v1/faults`, `DELETE /v1/faults/{id}`, `DELETE /v1/faults`, and the
/// end of a fault applied with `for`.
extension ControlState {
    /// Applies one fault, given as the config file writes it, checked against the known routes,
    /// or an array of them all at once (one plan; nothing applied when any is refused).
    ///
    /// A fault without `id` gets `<type>-<n>`, counted per type and skipping ids in use. `for`
    /// (a positive duration) makes it expire that long after `now`. 400 for a body that is not
    /// JSON, 422 `invalid_fault` with every problem (paths `[1].delay` inside an array), 409
    /// `fault_exists` for an id in use.
    /// - Parameter now: monotonic nanoseconds, from which `for` counts.
    public func applyFault(body: [UInt8], now: UInt64 = 0) -> ControlOutcome {
        switch ControlBody.parse(body, invalidCode: "invalid_fault") {
        case .success(let value): return applyFault(value, now: now)
        case .failure(let failure): return .reply(failure.response)
        }
    }

    /// `applyFault(body:now:)` on an already parsed body (also the door of `POST /v1/partitions`).
    func applyFault(_ value: JSONValue, now: UInt64) -> ControlOutcome {
        if case .array(let items) = value { return applyFaults(items, now: now) }
        var numbers = generatedFaultNumbers
        switch decodeForAPI(value, path: "", numbers: &numbers, reserved: []) {
        case .failure(let errors):
            return .reply(.invalid(code: "invalid_fault", errors))
        case .success(let spec):
            var outcome = applying(spec, now: now)
            if case .change(var change) = outcome {
                change.proposed.generatedFaultNumbers = numbers
                outcome = .change(change)
            }
            return outcome
        }
    }

    /// An array of faults as one change: every element decoded, checked and resolved first, the
    /// errors of all of them reported at `[i].…`; then all put in force by one plan.
    private func applyFaults(_ items: [JSONValue], now: UInt64) -> ControlOutcome {
        guard !items.isEmpty else {
            return .reply(.invalid(code: "invalid_fault", ConfigErrors([ConfigError(path: "$", message: "expected at least one fault")])))
        }
        var numbers = generatedFaultNumbers
        // Ids written in the array are not handed out to the elements without one.
        let written = Set(items.compactMap { $0.objectValue?["id"]?.stringValue })
        var errors: [ConfigError] = []
        var specs: [FaultSpec] = []
        var owners: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let element = "[\(index)]"
            switch decodeForAPI(item, path: JSONPath.index("", index), numbers: &numbers, reserved: written) {
            case .failure(let problems):
                errors += problems.errors.map { ConfigError(path: Self.elementPath($0.path, element), message: $0.message) }
            case .success(let spec):
                if let owner = owners[spec.id] {
                    errors.append(ConfigError(path: element + ".id", message: "duplicate id \"\(spec.id)\" (also at [\(owner)])"))
                    continue
                }
                owners[spec.id] = index
                switch resolvePartition(spec) {
                case .success(let resolved): specs.append(resolved)
                case .failure(let problems):
                    errors += problems.errors.map { ConfigError(path: Self.elementPath($0.path, element), message: $0.message) }
                }
            }
        }
        if !errors.isEmpty { return .reply(.invalid(code: "invalid_fault", ConfigErrors(errors))) }
        if let index = specs.firstIndex(where: { fault(id: $0.id) != nil }) {
            return .reply(.error(409, code: "fault_exists", message: "a fault with id \"\(specs[index].id)\" is already active", path: "[\(index)].id"))
        }
        var proposed = self
        proposed.generatedFaultNumbers = numbers
        for spec in specs {
            proposed.faults.append(ManagedFault(spec: spec, origin: .runtime, expiresAt: Self.expiry(spec, now: now)))
        }
        return .change(ControlChange(
            proposed: proposed, reply: .faults(ids: specs.map(\.id), status: 201), events: specs.map { ControlEvents.applied($0) }
        ))
    }

    /// A path inside element `element` (`[1]`) of an array body: `$[1].delay` → `[1].delay`,
    /// a path relative to the element (`groups[0]`) → `[1].groups[0]`.
    private static func elementPath(_ path: String, _ element: String) -> String {
        if path.hasPrefix("$[") { return String(path.dropFirst()) }
        if path.isEmpty || path == "$" { return element }
        return path.hasPrefix(element) ? path : element + "." + path
    }

    /// A fault object of the API decoded (`for` allowed) and checked against the routes'
    /// protocols; generated ids are counted per type in `numbers`, skipping ids in force and
    /// `reserved`.
    private func decodeForAPI(
        _ value: JSONValue, path: String, numbers: inout [String: Int], reserved: Set<String>
    ) -> Result<FaultSpec, ConfigErrors> {
        let decoded = FaultDecoder.decodeFault(value, path: path, knownRoutes: Set(routes.map(\.spec.name)), generatedID: { type in
            var number = numbers[type] ?? 1
            while fault(id: "\(type)-\(number)") != nil || reserved.contains("\(type)-\(number)") { number += 1 }
            numbers[type] = number + 1
            return "\(type)-\(number)"
        }, lifetime: .allowed)
        guard case .success(let spec) = decoded else { return decoded }
        let protocols = Dictionary(routes.map { ($0.spec.name, $0.spec.protocolKind) }, uniquingKeysWith: { a, _ in a })
        if let problem = FaultDecoder.routeProblem(spec, protocols: protocols) {
            return .failure(ConfigErrors([ConfigError(path: JSONPath.child(path, "route"), message: problem)]))
        }
        return .success(spec)
    }

    /// When a fault with `lifetime` applied at `now` ends (nil without one).
    static func expiry(_ spec: FaultSpec, now: UInt64) -> UInt64? {
        spec.lifetime.map { now &+ $0.nanosecondsClamped }
    }

    /// Puts a decoded fault in force, after the API's fault and the schedule's steps alike.
    ///
    /// A partition generator is resolved here, once, from the seed over the node names known now,
    /// and stored resolved, so later plans do not draw again. 422 `invalid_fault` for a partition
    /// naming a node no route or `nodes` entry knows; 409 `fault_exists` for an id in use, unless
    /// `replacing` (the schedule re-applying its own fault), which swaps the old one for the new.
    /// - Parameters:
    ///   - reason: the `reason` of the clear journaled when replacing.
    ///   - now: monotonic nanoseconds, from which the fault's `for` counts.
    public func applying(_ spec: FaultSpec, replacing: Bool = false, reason: String = "api", now: UInt64 = 0) -> ControlOutcome {
        let resolved: FaultSpec
        switch resolvePartition(spec) {
        case .success(let fault): resolved = fault
        case .failure(let errors): return .reply(.invalid(code: "invalid_fault", errors))
        }
        var proposed = self
        var events: [JournalEvent] = []
        if let index = faults.firstIndex(where: { $0.spec.id == spec.id }) {
            guard replacing else {
                return .reply(.error(409, code: "fault_exists", message: "a fault with id \"\(spec.id)\" is already active", path: "id"))
            }
            events.append(ControlEvents.cleared(faults[index].spec, reason: reason))
            proposed.faults.remove(at: index)
        }
        proposed.faults.append(ManagedFault(spec: resolved, origin: .runtime, expiresAt: Self.expiry(resolved, now: now)))
        events.append(ControlEvents.applied(resolved))
        return .change(ControlChange(proposed: proposed, reply: .fault(id: spec.id, status: 201), events: events))
    }

    /// Clears one fault (from the file or the API).
    /// - Parameter reason: journaled with `fault.cleared` / `partition.healed`.
    public func clearFault(id: String, reason: String = "api") -> ControlOutcome {
        guard let index = faults.firstIndex(where: { $0.spec.id == id }) else {
            return .reply(.notFound("no fault with id \"\(id)\""))
        }
        var proposed = self
        let removed = proposed.faults.remove(at: index)
        return .change(ControlChange(proposed: proposed, reply: .noContent, events: [ControlEvents.cleared(removed.spec, reason: reason)]))
    }

    /// Clears every active fault. With none active it answers at once, without a new plan.
    public func clearAllFaults() -> ControlOutcome {
        let ids = faults.map(\.spec.id)
        guard !ids.isEmpty else { return .reply(.json(200, ["cleared": []])) }
        var proposed = self
        proposed.faults.removeAll()
        return .change(ControlChange(
            proposed: proposed, reply: .cleared(ids), events: faults.map { ControlEvents.cleared($0.spec, reason: "clear_all") }
        ))
    }

    /// When the next fault applied with `for` runs out, in monotonic nanoseconds (nil: none has `for`).
    public var nextExpiry: UInt64? {
        faults.compactMap(\.expiresAt).min()
    }

    /// Clears every fault whose `for` has run out by `now`, journaling `fault.cleared` (or
    /// `partition.healed`) with reason `expired`. Nothing due: a reply, no new plan.
    public func expireFaults(now: UInt64) -> ControlOutcome {
        let due = faults.filter { ($0.expiresAt ?? .max) <= now }
        guard !due.isEmpty else { return .reply(.noContent) }
        var proposed = self
        proposed.faults.removeAll { ($0.expiresAt ?? .max) <= now }
        return .change(ControlChange(
            proposed: proposed, reply: .cleared(due.map(\.spec.id)),
            events: due.map { ControlEvents.cleared($0.spec, reason: "expired") }
        ))
    }
}
