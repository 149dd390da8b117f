import FaultlineConfig
public import FaultlineCore

extension ControlState {
    /// Carries out an outcome: a reply is returned as is; a change is built into a plan and
    /// applied to `dataPlane` (which returns once every worker has it), and only then committed
    /// to `self` and written to `journal`. When the data plane refuses the plan, nothing changes
    /// and the answer is 409 `apply_failed` — or 422 `invalid_setting` with the setting's path
    /// when the data plane cannot serve one (a TLS file it cannot read), or 503
    /// `dataplane_timeout` when a worker did not take the plan in time.
    /// - Parameter now: monotonic nanoseconds, for the time left on faults with `for` in the answer.
    /// - Returns: the answer to send.
    public mutating func perform(
        _ outcome: ControlOutcome, on dataPlane: any DataPlane, journal: any EventSink, now: UInt64? = nil
    ) -> ControlResponse {
        switch outcome {
        case .reply(let response):
            return response
        case .change(let change):
            let plan = change.proposed.withPlanVersion(planVersion).nextPlan()
            let applied: FaultPlan
            do {
                applied = try dataPlane.apply(plan)
            } catch {
                if (error as? any DataPlaneTimeout)?.dataPlaneTimeout == true {
                    return .error(503, code: "dataplane_timeout", message: "\(error)")
                }
                if let problem = (error as? any SettingProblem)?.settingProblem {
                    return .invalid(code: "invalid_setting", ConfigErrors([ConfigError(path: problem.path, message: problem.message)]))
                }
                return .error(409, code: "apply_failed", message: "\(error)")
            }
            self = change.proposed.committed(applied: applied)
            for event in change.events { journal.record(event) }
            return render(change.reply, now: now)
        }
    }

    /// The answer for a committed change.
    func render(_ reply: ControlReply, now: UInt64? = nil) -> ControlResponse {
        switch reply {
        case .route(let name, let status):
            guard let route = route(named: name) else { return .notFound("no route named \"\(name)\"") }
            return .json(status, json(route))
        case .fault(let id, let status):
            guard let fault = fault(id: id) else { return .notFound("no fault with id \"\(id)\"") }
            return .json(status, faultJSON(fault, now: now))
        case .faults(let ids, let status):
            return .json(status, ["faults": .array(ids.compactMap { fault(id: $0) }.map { faultJSON($0, now: now) })])
        case .noContent:
            return .noContent
        case .cleared(let ids):
            return .json(200, ["cleared": .array(ids.map { .string($0) })])
        case .healed(let ids):
            return .json(200, ["healed": .array(ids.map { .string($0) })])
        case .reloaded:
            return .json(200, [
                "reloaded": true, "plan_version": .integer(Int64(planVersion)),
                "routes": .integer(Int64(routes.count)), "faults": .integer(Int64(faults.count)),
            ])
        }
    }

    /// A copy whose plan version is `version` (a proposal is numbered from the state in force).
    private func withPlanVersion(_ version: UInt64) -> ControlState {
        var copy = self
        copy.planVersion = version
        return copy
    }
}
