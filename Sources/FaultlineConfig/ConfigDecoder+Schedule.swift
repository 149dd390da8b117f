internal import FaultlineCore

/// `schedule`: start, steps and repeat.
extension ConfigDecoder {
    /// Steps must come in order of `at`; `"for"` only follows `apply`; `clear` must name a fault of
    /// `faults[]` or one a step applies; `repeat.every` must be longer than one run of the steps.
    /// A step's `apply` without an id gets `"<type>-step<index>"`; an HTTP fault it applies must
    /// not name a tcp route (`protocols`: the protocol of each route that decoded).
    static func decodeSchedule(
        _ value: JSONValue, knownRoutes: Set<String>, protocols: [String: RouteProtocol] = [:], faultIDs: Set<String>,
        _ diagnostics: inout Diagnostics
    ) -> ScheduleSpec? {
        guard var reader = ObjectReader(value, path: "schedule", diagnostics: &diagnostics) else { return nil }
        let errorsBefore = diagnostics.errors.count
        var start = ScheduleSpec.Start.onLoad
        if let value = reader.take("start"), let text = diagnostics.string(value, reader.path("start")) {
            switch text {
            case "on_load": start = .onLoad
            case "manual": start = .manual
            case _ where RFC3339.isValid(text): start = .at(text)
            default: diagnostics.add(reader.path("start"), "\(quoted(text)) is not on_load, manual or an RFC 3339 time")
            }
        }

        var steps: [ScheduleSpec.Step] = []
        var clears: [(id: String, path: String)] = []
        if let value = reader.require("steps", &diagnostics), let items = diagnostics.array(value, reader.path("steps")) {
            if items.isEmpty { diagnostics.add(reader.path("steps"), "must have at least one step") }
            var previousAt = Duration.zero
            for (index, item) in items.enumerated() {
                let path = JSONPath.index(reader.path("steps"), index)
                guard let step = decodeStep(
                    item, path: path, index: index, knownRoutes: knownRoutes, protocols: protocols, &clears, &diagnostics
                ) else { continue }
                if step.at < previousAt {
                    diagnostics.add(
                        JSONPath.child(path, "at"),
                        "must not be earlier than the previous step (\(DurationParser.render(previousAt))), "
                            + "got \(quoted(DurationParser.render(step.at)))"
                    )
                }
                previousAt = max(previousAt, step.at)
                steps.append(step)
            }
        }
        var applied = faultIDs
        for step in steps {
            if case .apply(let fault) = step.action { applied.insert(fault.id) }
        }
        for clear in clears where !applied.contains(clear.id) {
            diagnostics.add(clear.path, "no fault with id \(quoted(clear.id))")
        }

        var repetition: ScheduleSpec.Repeat?
        if let value = reader.take("repeat"), var inner = ObjectReader(value, path: reader.path("repeat"), diagnostics: &diagnostics) {
            let every = inner.require("every", &diagnostics).flatMap {
                diagnostics.duration($0, inner.path("every"), positive: true)
            }
            let times = inner.require("times", &diagnostics).flatMap {
                diagnostics.integer($0, inner.path("times"), in: 1...Int64.max)
            }
            let end = steps.map { $0.at + ($0.forDuration ?? .zero) }.max() ?? .zero
            if let every, every <= end {
                diagnostics.add(
                    inner.path("every"),
                    "must be longer than the steps it repeats (they run until \(DurationParser.render(end))), "
                        + "got \(quoted(DurationParser.render(every)))"
                )
            }
            inner.reportUnknownKeys(&diagnostics)
            if let every, let times { repetition = ScheduleSpec.Repeat(every: every, times: Int(times)) }
        }
        reader.reportUnknownKeys(&diagnostics)
        guard diagnostics.errors.count == errorsBefore else { return nil }
        return ScheduleSpec(start: start, steps: steps, repeat: repetition)
    }

    private static func decodeStep(
        _ value: JSONValue, path: String, index: Int, knownRoutes: Set<String>, protocols: [String: RouteProtocol],
        _ clears: inout [(id: String, path: String)], _ diagnostics: inout Diagnostics
    ) -> ScheduleSpec.Step? {
        guard var reader = ObjectReader(value, path: path, diagnostics: &diagnostics) else { return nil }
        let errorsBefore = diagnostics.errors.count
        let at = reader.require("at", &diagnostics).flatMap { diagnostics.duration($0, reader.path("at")) }
        let applyValue = reader.take("apply")
        let clearValue = reader.take("clear")
        var action: ScheduleSpec.Action?
        switch (applyValue, clearValue) {
        case (nil, nil):
            diagnostics.add(path, "needs \"apply\" or \"clear\"")
        case (.some, .some):
            diagnostics.add(path, "has both \"apply\" and \"clear\"; use one per step")
        case (.some(let apply), nil):
            if let decoded = FaultDecoder.decode(
                apply, path: reader.path("apply"), knownRoutes: knownRoutes,
                generatedID: { "\($0)-step\(index)" },
                lifetime: .refused("give \"for\" on the step, next to \"apply\", not inside the fault"), &diagnostics
            ) {
                if let problem = FaultDecoder.routeProblem(decoded.fault, protocols: protocols) {
                    diagnostics.add(JSONPath.child(reader.path("apply"), "route"), problem)
                } else {
                    action = .apply(decoded.fault)
                }
            }
        case (nil, .some(let clear)):
            if let id = diagnostics.name(clear, reader.path("clear")) {
                clears.append((id, reader.path("clear")))
                action = .clear(id)
            }
        }
        var forDuration: Duration?
        if let value = reader.take("for") {
            if clearValue != nil {
                diagnostics.add(reader.path("for"), "only allowed with \"apply\"")
            } else {
                forDuration = diagnostics.duration(value, reader.path("for"), positive: true)
            }
        }
        reader.reportUnknownKeys(&diagnostics)
        guard diagnostics.errors.count == errorsBefore, let at, let action else { return nil }
        return ScheduleSpec.Step(at: at, action: action, forDuration: forDuration)
    }
}
