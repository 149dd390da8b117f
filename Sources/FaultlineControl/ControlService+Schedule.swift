import FaultlineConfig
import FaultlineCore
import FaultlineSystem

/// The schedule runner (SPEC §2 `schedule`, §4 `/v1/schedule`): the control thread owns a
/// `ScheduleStateMachine`, its loop calls `scheduleTick()` at `scheduleDeadline` (a timerfd
/// timer), and every action is carried out through the same `ControlState` transitions as the
/// API — apply or clear, new plan, `DataPlane.apply`, journal.
extension ControlService {
    /// When the schedule next needs the control thread, in monotonic nanoseconds (nil: nothing pending).
    public var scheduleDeadline: UInt64? { schedule?.nextDeadline }

    /// When the control thread's timer must next fire: the schedule's next step or the end of
    /// the first fault applied with `for`, whichever comes first (nil: nothing pending).
    public var timerDeadline: UInt64? {
        [scheduleDeadline, state.nextExpiry].compactMap { $0 }.min()
    }

    /// What the timer does when it fires: clears the faults whose `for` ran out (one plan for all
    /// of them), then carries out the schedule's steps due now.
    public func timerTick() {
        let now = monotonicClock()
        if let expiry = state.nextExpiry, expiry <= now {
            let response = perform(state.expireFaults(now: now))
            if response.status >= 300 {
                log.error("fault.expire_failed", ["error": response.jsonBody.map { "\($0)" } ?? ""])
            }
        }
        scheduleTick()
    }

    /// Carries out every step due now (and starts a schedule whose start instant has come).
    public func scheduleTick() {
        guard var machine = schedule else { return }
        let actions = machine.tick(now: monotonicClock())
        schedule = machine
        carryOut(actions)
    }

    /// Loads `spec` as the schedule and starts it as its `start` says: at once (`on_load`), on
    /// `POST /v1/schedule/start` (`manual`), or at its RFC 3339 instant. Faults the previous
    /// schedule left in force are taken over (the new one's `stop` clears them).
    func loadSchedule(_ spec: ScheduleSpec) {
        var machine = ScheduleStateMachine(spec: spec, applied: schedule?.applied ?? [])
        switch spec.start {
        case .onLoad:
            let actions = machine.start(now: monotonicClock())
            schedule = machine
            carryOut(actions)
        case .manual:
            schedule = machine
            log.info("schedule.loaded", ["start": "manual", "steps": "\(spec.steps.count)"])
        case .at(let text):
            let epoch = ScheduleJSON.epochNanoseconds(rfc3339: text) ?? Int64(clamping: realtimeClock())
            let at = ScheduleJSON.monotonic(atEpoch: epoch, monotonicNow: monotonicClock(), realtimeNow: realtimeClock())
            _ = machine.startAt(at)
            schedule = machine
            log.info("schedule.waiting", ["start": text, "steps": "\(spec.steps.count)"])
            // An instant already past starts at once, catching up on the steps due since.
            scheduleTick()
        }
    }

    /// `PUT /v1/schedule`: the body is the config file's `schedule` object, checked with the same
    /// rules (routes the steps name must exist; a `clear` must name an active fault or one a step
    /// applies). 409 `schedule_running` while the current one runs or is paused (stop it first).
    func replaceSchedule(body: [UInt8]) -> ControlResponse {
        let value: JSONValue
        switch ControlBody.parse(body, invalidCode: "invalid_schedule") {
        case .success(let parsed): value = parsed
        case .failure(let failure): return failure.response
        }
        if let phase = schedule?.phase, phase == .running || phase == .paused {
            return .error(409, code: "schedule_running", message: "the schedule is \(phase.rawValue); stop it first (POST /v1/schedule/stop)")
        }
        let spec: ScheduleSpec
        switch decodeSchedule(value) {
        case .success(let decoded): spec = decoded
        case .failure(let errors): return .invalid(code: "invalid_schedule", errors)
        }
        loadSchedule(spec)
        return .json(200, scheduleJSON(withSpec: true))
    }

    /// `POST /v1/schedule/{start,stop,pause,resume}`.
    func scheduleCommand(_ command: String) -> ControlResponse {
        guard var machine = schedule else {
            return .notFound("no schedule is loaded (PUT /v1/schedule)")
        }
        let now = monotonicClock()
        switch command {
        case "start":
            if machine.phase == .running || machine.phase == .paused {
                return .error(409, code: "schedule_running", message: "the schedule is already \(machine.phase.rawValue)")
            }
            let actions = machine.start(now: now)
            schedule = machine
            carryOut(actions)
        case "stop":
            let actions = machine.stop()
            schedule = machine
            carryOut(actions)
        case "pause":
            guard machine.pause(now: now) else {
                return .error(409, code: "schedule_not_running", message: "the schedule is \(machine.phase.rawValue), not running")
            }
            schedule = machine
            journal.record(JournalEvent(event: "schedule.paused", fields: [
                .int("steps_run", machine.stepsRun), .int("elapsed_ms", (machine.elapsed(now: now) ?? 0) / 1_000_000),
            ]))
        case "resume":
            guard machine.phase == .paused else {
                return .error(409, code: "schedule_not_paused", message: "the schedule is \(machine.phase.rawValue), not paused")
            }
            let actions = machine.resume(now: now)
            schedule = machine
            journal.record(JournalEvent(event: "schedule.resumed", fields: [
                .int("steps_run", machine.stepsRun), .int("elapsed_ms", (machine.elapsed(now: now) ?? 0) / 1_000_000),
            ]))
            carryOut(actions)
        default:
            return .notFound("no endpoint /v1/schedule/\(command)")
        }
        return .json(200, scheduleJSON(withSpec: false))
    }

    // MARK: Carrying out

    private func carryOut(_ actions: [ScheduleStateMachine.Action]) {
        for action in actions {
            switch action {
            case .started:
                guard let spec = schedule?.spec else { continue }
                var fields: [JournalField] = [
                    .string("start", ScheduleJSON.startText(spec.start)), .int("steps", spec.steps.count),
                    .int("timeline", schedule?.timeline.count ?? 0),
                ]
                if let repetition = spec.repeat {
                    fields.append(JournalField("repeat", json: JSONWriter.render([
                        "every": .string(DurationParser.render(repetition.every)), "times": .integer(Int64(repetition.times)),
                    ])))
                }
                journal.record(JournalEvent(event: "schedule.started", fields: fields))
                log.info("schedule.started", ["start": ScheduleJSON.startText(spec.start), "steps": "\(spec.steps.count)"])
            case .apply(let fault, let due, let replacing):
                let response = perform(state.applying(fault, replacing: replacing, reason: "schedule"))
                if response.status >= 300 { schedule?.forget(id: fault.id) }
                recordStep(due, action: "apply", id: fault.id, automatic: false, response: response)
            case .clear(let id, let due, let automatic):
                let response: ControlResponse? = state.fault(id: id) == nil ? nil : perform(state.clearFault(id: id, reason: "schedule"))
                recordStep(due, action: "clear", id: id, automatic: automatic, response: response)
            case .release(let id):
                if state.fault(id: id) != nil {
                    let response = perform(state.clearFault(id: id, reason: "schedule_stop"))
                    if response.status >= 300 {
                        log.error("schedule.release_failed", ["fault": id, "error": response.jsonBody.map { "\($0)" } ?? ""])
                    }
                }
            case .finished:
                journal.record(JournalEvent(event: "schedule.finished", fields: [
                    .string("reason", "completed"), .int("steps_run", schedule?.stepsRun ?? 0),
                ]))
                log.info("schedule.finished", ["reason": "completed"])
            case .stopped:
                journal.record(JournalEvent(event: "schedule.finished", fields: [
                    .string("reason", "stopped"), .int("steps_run", schedule?.stepsRun ?? 0),
                ]))
                log.info("schedule.finished", ["reason": "stopped"])
            }
        }
    }

    /// Journals `schedule.step` (after the change is in force, so `lateness_us` is when it took
    /// effect against when it was due) and counts it. `response` nil: nothing to clear.
    private func recordStep(
        _ due: ScheduleStateMachine.Due, action: String, id: String, automatic: Bool, response: ControlResponse?
    ) {
        let now = monotonicClock()
        metrics.recordScheduleStep()
        var fields: [JournalField] = [
            .int("step", due.step), .int("iteration", due.iteration), .string("action", action), .string("fault", id),
        ]
        if automatic { fields.append(JournalField("automatic", json: "true")) }
        fields.append(.string("due", DurationParser.render(.nanoseconds(Int64(clamping: due.offset)))))
        fields.append(.int("lateness_us", now >= due.deadline ? (now - due.deadline) / 1000 : 0))
        switch response {
        case nil:
            fields.append(.string("result", "skipped"))
            fields.append(.string("reason", "not active"))
        case let response? where response.status < 300:
            fields.append(.string("result", "ok"))
        case let response?:
            let error = response.jsonBody?.objectValue?["error"]?.objectValue
            fields.append(.string("result", "failed"))
            fields.append(.string("error", error?["code"]?.stringValue ?? "status \(response.status)"))
            fields.append(.string("message", error?["message"]?.stringValue ?? ""))
            log.warning("schedule.step_failed", [
                "step": "\(due.step)", "iteration": "\(due.iteration)", "fault": id, "status": "\(response.status)",
                "error": error?["message"]?.stringValue ?? "",
            ])
        }
        journal.record(JournalEvent(event: "schedule.step", fields: fields))
    }

    // MARK: Decoding and showing

    /// Decodes a `schedule` object with the config decoder's rules, by decoding a config with the
    /// routes (with their protocols, so an HTTP fault naming a tcp route is refused) and active
    /// fault ids known now (errors come back relative to the object).
    private func decodeSchedule(_ value: JSONValue) -> Result<ScheduleSpec, ConfigErrors> {
        let routes: [JSONValue] = state.routes.map {
            [
                "name": .string($0.spec.name), "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1",
                "protocol": .string($0.spec.protocolKind.rawValue),
            ]
        }
        // Stand-ins for the active faults, so a `clear` may name them.
        let faults: [JSONValue] = state.faults.map { ["id": .string($0.spec.id), "type": "stall"] }
        let document: JSONValue = ["version": 1, "routes": .array(routes), "faults": .array(faults), "schedule": value]
        switch ConfigDecoder.decode(document) {
        case .success(let config):
            guard let spec = config.schedule else {
                return .failure(ConfigErrors([ConfigError(path: "$", message: "expected a schedule object")]))
            }
            return .success(spec)
        case .failure(let errors):
            return .failure(ConfigErrors(errors.errors.map { error in
                var path = error.path
                if path == "schedule" {
                    path = "$"
                } else if path.hasPrefix("schedule.") {
                    path = String(path.dropFirst("schedule.".count))
                }
                return ConfigError(path: path, message: error.message)
            }))
        }
    }

    /// `GET /v1/schedule` (with the schedule itself under `schedule`) and `/v1/status`'s summary.
    func scheduleJSON(withSpec: Bool) -> JSONValue {
        guard let machine = schedule else { return ["state": "none"] }
        let monotonicNow = monotonicClock()
        let realtimeNow = realtimeClock()
        func wall(_ monotonic: UInt64) -> JSONValue {
            .string(Timestamp.rfc3339(nanoseconds: ScheduleJSON.realtime(
                atMonotonic: monotonic, monotonicNow: monotonicNow, realtimeNow: realtimeNow)))
        }
        var object = JSONObject()
        object["state"] = .string(machine.phase.rawValue)
        object["start"] = .string(ScheduleJSON.startText(machine.spec.start))
        object["steps_run"] = .integer(Int64(machine.stepsRun))
        object["steps_total"] = .integer(Int64(machine.timeline.count))
        let elapsed = machine.elapsed(now: monotonicNow)
        object["elapsed_ms"] = elapsed.map { .integer(Int64(clamping: $0 / 1_000_000)) } ?? .null
        object["started_at"] = elapsed == nil ? .null : wall(machine.clockOrigin)
        if let entry = machine.upcoming {
            var next = JSONObject()
            next["step"] = .integer(Int64(entry.step))
            next["iteration"] = .integer(Int64(entry.iteration))
            switch machine.spec.steps[entry.step].action {
            case .apply(let fault):
                next["action"] = .string(entry.isForClear ? "clear" : "apply")
                next["fault"] = .string(fault.id)
            case .clear(let id):
                next["action"] = "clear"
                next["fault"] = .string(id)
            }
            next["automatic"] = .bool(entry.isForClear)
            next["due"] = .string(DurationParser.render(.nanoseconds(Int64(clamping: entry.offset))))
            if machine.phase == .running, let deadline = machine.nextDeadline {
                next["due_at"] = wall(deadline)
                next["due_in_ms"] = .integer(deadline > monotonicNow ? Int64((deadline - monotonicNow) / 1_000_000) : 0)
            }
            object["next"] = .object(next)
        } else {
            object["next"] = .null
        }
        if machine.phase == .waiting, let deadline = machine.nextDeadline {
            object["starts_at"] = wall(deadline)
        }
        object["applied"] = .array(machine.applied.map { .string($0) })
        if withSpec { object["schedule"] = ScheduleJSON.encode(machine.spec) }
        return .object(object)
    }
}
