import FaultlineConfig
public import FaultlineCore

/// Fault transitions: `POST /v1/faults`, `DELETE /v1/faults/{id}`, `DELETE /v1/faults`.
extension ControlState {
    /// Applies one fault, given as the config file writes it, checked against the known routes.
    ///
    /// A fault without `id` gets `<type>-<n>`, skipping ids in use. 400 for a body that is not
    /// JSON, 422 `invalid_fault` with every problem, 409 `fault_exists` for an id in use.
    public func applyFault(body: [UInt8]) -> ControlOutcome {
        switch ControlBody.parse(body, invalidCode: "invalid_fault") {
        case .success(let value): return applyFault(value)
        case .failure(let failure): return .reply(failure.response)
        }
    }

    /// `applyFault(body:)` on an already parsed body (also the door of `POST /v1/partitions`).
    func applyFault(_ value: JSONValue) -> ControlOutcome {
        var number = nextGeneratedFaultNumber
        var generated = false
        let decoded = FaultDecoder.decodeFault(value, path: "", knownRoutes: Set(routes.map(\.spec.name)), generatedID: { type in
            generated = true
            while fault(id: "\(type)-\(number)") != nil { number += 1 }
            defer { number += 1 }
            return "\(type)-\(number)"
        })
        switch decoded {
        case .success(let spec):
            let protocols = Dictionary(routes.map { ($0.spec.name, $0.spec.protocolKind) }, uniquingKeysWith: { a, _ in a })
            if let problem = FaultDecoder.routeProblem(spec, protocols: protocols) {
                return .reply(.invalid(code: "invalid_fault", ConfigErrors([ConfigError(path: "route", message: problem)])))
            }
            var outcome = applying(spec)
            if generated, case .change(var change) = outcome {
                change.proposed.nextGeneratedFaultNumber = number
                outcome = .change(change)
            }
            return outcome
        case .failure(let errors):
            return .reply(.invalid(code: "invalid_fault", errors))
        }
    }

    /// Puts a decoded fault in force, after the API's fault and the schedule's steps alike.
    ///
    /// A partition generator is resolved here, once, from the seed over the node names known now,
    /// and stored resolved, so later plans do not draw again. 422 `invalid_fault` for a partition
    /// naming a node no route or `nodes` entry knows; 409 `fault_exists` for an id in use, unless
    /// `replacing` (the schedule re-applying its own fault), which swaps the old one for the new.
    /// - Parameter reason: the `reason` of the clear journaled when replacing.
    public func applying(_ spec: FaultSpec, replacing: Bool = false, reason: String = "api") -> ControlOutcome {
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
        proposed.faults.append(ManagedFault(spec: resolved, origin: .runtime))
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
}
