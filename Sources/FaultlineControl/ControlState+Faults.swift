import FaultlineConfig
import FaultlineCore

/// Fault transitions: `POST /v1/faults`, `DELETE /v1/faults/{id}`, `DELETE /v1/faults`.
extension ControlState {
    /// Applies one fault, given as the config file writes it, checked against the known routes.
    ///
    /// A fault without `id` gets `<type>-<n>`, skipping ids in use. 400 for a body that is not
    /// JSON, 422 `invalid_fault` with every problem, 409 `fault_exists` for an id in use.
    public func applyFault(body: [UInt8]) -> ControlOutcome {
        let value: JSONValue
        switch ControlBody.parse(body, invalidCode: "invalid_fault") {
        case .success(let parsed): value = parsed
        case .failure(let failure): return .reply(failure.response)
        }
        var number = nextGeneratedFaultNumber
        var generated = false
        let decoded = FaultDecoder.decodeFault(value, path: "", knownRoutes: Set(routes.map(\.spec.name)), generatedID: { type in
            generated = true
            while fault(id: "\(type)-\(number)") != nil { number += 1 }
            defer { number += 1 }
            return "\(type)-\(number)"
        })
        let spec: FaultSpec
        switch decoded {
        case .success(let fault): spec = fault
        case .failure(let errors): return .reply(.invalid(code: "invalid_fault", errors))
        }
        if fault(id: spec.id) != nil {
            return .reply(.error(409, code: "fault_exists", message: "a fault with id \"\(spec.id)\" is already active", path: "id"))
        }
        var proposed = self
        proposed.faults.append(ManagedFault(spec: spec, origin: .runtime))
        if generated { proposed.nextGeneratedFaultNumber = number }
        return .change(ControlChange(proposed: proposed, reply: .fault(id: spec.id, status: 201), events: [ControlEvents.faultApplied(spec)]))
    }

    /// Clears one fault (from the file or the API).
    public func clearFault(id: String) -> ControlOutcome {
        guard let index = faults.firstIndex(where: { $0.spec.id == id }) else {
            return .reply(.notFound("no fault with id \"\(id)\""))
        }
        var proposed = self
        proposed.faults.remove(at: index)
        return .change(ControlChange(proposed: proposed, reply: .noContent, events: [ControlEvents.faultCleared(id, reason: "api")]))
    }

    /// Clears every active fault. With none active it answers at once, without a new plan.
    public func clearAllFaults() -> ControlOutcome {
        let ids = faults.map(\.spec.id)
        guard !ids.isEmpty else { return .reply(.json(200, ["cleared": []])) }
        var proposed = self
        proposed.faults.removeAll()
        return .change(ControlChange(
            proposed: proposed, reply: .cleared(ids), events: ids.map { ControlEvents.faultCleared($0, reason: "clear_all") }
        ))
    }
}
