public import FaultlineConfig

extension ExploreSpec {
    /// The partition generators explore resolves itself (to explicit groups, so a schedule replays
    /// without drawing again).
    public static let partitionKinds = ["isolate", "random_halves", "groups", "bridge", "ring", "random_node"]

    /// Parameters whose two-number array is a range rather than two choices.
    static let numericRangeKeys: Set<String> = ["probability", "bit_flip_rate"]

    /// Decodes an explore file; every problem comes back as `PATH: MESSAGE`. Each space entry is
    /// also checked by drawing its smallest and largest fault and decoding them as the daemon
    /// would, so a bad parameter fails here rather than in the middle of a search.
    public static func decode(jsonText: String) -> Result<ExploreSpec, ConfigErrors> {
        switch JSONParser.parse(jsonText) {
        case .failure(let error): return .failure(ConfigErrors([ConfigError(path: "$", message: "\(error)")]))
        case .success(let value): return decode(value)
        }
    }

    public static func decode(_ value: JSONValue) -> Result<ExploreSpec, ConfigErrors> {
        var errors: [ConfigError] = []
        func fail(_ path: String, _ message: String) { errors.append(ConfigError(path: path, message: message)) }
        guard let object = value.objectValue else {
            return .failure(ConfigErrors([ConfigError(path: "$", message: "expected an object, got \(value.kindName)")]))
        }
        let known: Set<String> = ["$schema", "seed", "trials", "steps", "trial_time", "space", "workload", "check", "reset",
                                  "confirm", "shrink_time", "max_candidates"]
        for key in object.keys where !known.contains(key) { fail(key, "unknown key") }

        func integer(_ key: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
            guard let item = object[key] else { return fallback }
            guard let number = item.int64Value, range.contains(Int(number)) else {
                fail(key, "expected an integer in \(range.lowerBound)…\(range.upperBound), got \(JSONWriter.render(item))")
                return fallback
            }
            return Int(number)
        }
        func duration(_ item: JSONValue?, _ path: String, required: Bool = false, default fallback: Duration) -> Duration {
            guard let item else {
                if required { fail(path, "missing required key") }
                return fallback
            }
            guard let text = item.stringValue else { fail(path, "expected a duration string, got \(item.kindName)"); return fallback }
            switch DurationParser.parse(text) {
            case .success(let parsed) where parsed > .zero: return parsed
            case .success: fail(path, "must be positive"); return fallback
            case .failure: fail(path, "\"\(text)\" is not a duration"); return fallback
            }
        }
        func command(_ key: String, required: Bool) -> [String]? {
            guard let item = object[key] else {
                if required { fail(key, "missing required key") }
                return nil
            }
            guard let parts = item.arrayValue, !parts.isEmpty, parts.allSatisfy({ $0.stringValue != nil }) else {
                fail(key, "expected a non-empty array of strings (the program and its arguments)")
                return nil
            }
            return parts.compactMap(\.stringValue)
        }

        var seed: UInt64 = 0
        if let item = object["seed"] {
            switch item {
            case .integer(let number) where number >= 0: seed = UInt64(number)
            case .unsignedInteger(let number): seed = number
            default: fail("seed", "expected a non-negative integer, got \(JSONWriter.render(item))")
            }
        }
        let trials = integer("trials", default: 20, in: 1...100_000)
        var steps = 1...4
        if let item = object["steps"] {
            if let pair = item.arrayValue, pair.count == 2, let low = pair[0].int64Value, let high = pair[1].int64Value,
               low >= 1, high >= low, high <= 100 {
                steps = Int(low)...Int(high)
            } else {
                fail("steps", "expected [MIN, MAX] with 1 <= MIN <= MAX <= 100")
            }
        }
        let trialTime = duration(object["trial_time"], "trial_time", required: true, default: .seconds(10))
        let confirm = integer("confirm", default: 2, in: 1...20)
        let shrinkTime = duration(object["shrink_time"], "shrink_time", default: .seconds(600))
        let maxCandidates = integer("max_candidates", default: 200, in: 1...100_000)
        let check = command("check", required: true)
        let workload = command("workload", required: false)
        let reset = command("reset", required: false)

        var space: [SpaceEntry] = []
        if let items = object["space"]?.arrayValue, !items.isEmpty {
            for (index, item) in items.enumerated() {
                if let entry = decodeEntry(item, path: "space[\(index)]", trialTime: trialTime, &errors) { space.append(entry) }
            }
        } else {
            fail("space", object["space"] == nil ? "missing required key" : "expected a non-empty array of fault kinds")
        }
        guard errors.isEmpty, let check else { return .failure(ConfigErrors(errors)) }
        return .success(ExploreSpec(
            seed: seed, trials: trials, steps: steps, trialTime: trialTime, space: space, workload: workload, check: check,
            reset: reset, confirm: confirm, shrinkTime: shrinkTime, maxShrinkCandidates: maxCandidates))
    }

    private static func decodeEntry(
        _ item: JSONValue, path: String, trialTime: Duration, _ errors: inout [ConfigError]
    ) -> SpaceEntry? {
        let before = errors.count
        func fail(_ key: String, _ message: String) { errors.append(ConfigError(path: key.isEmpty ? path : "\(path).\(key)", message: message)) }
        guard let object = item.objectValue else { fail("", "expected an object, got \(item.kindName)"); return nil }
        guard let type = object["type"]?.stringValue else { fail("type", "missing required key"); return nil }
        var route = "*"
        if let item = object["route"] {
            if let text = item.stringValue { route = text } else { fail("route", "expected a string") }
        }
        var kinds: [String] = []
        if type == "partition" {
            let listed = object["kinds"]?.arrayValue ?? [.string("random_halves")]
            kinds = listed.compactMap(\.stringValue)
            if kinds.count != listed.count || kinds.isEmpty {
                fail("kinds", "expected a non-empty array of partition kinds")
            }
            for (index, kind) in kinds.enumerated() where !partitionKinds.contains(kind) {
                fail("kinds[\(index)]", "unknown partition kind \"\(kind)\" (expected \(partitionKinds.joined(separator: ", ")))")
            }
            if object["route"] != nil { fail("route", "partitions act on every route between the nodes they cut; leave route out") }
        } else if object["kinds"] != nil {
            fail("kinds", "only partitions have kinds")
        }
        var forRange: (Duration, Duration) = (trialTime / 10, trialTime / 2)
        if let item = object["for"] {
            if let range = durationRange(item) {
                forRange = range
                if range.1 > trialTime { fail("for", "the longest \(DurationParser.render(range.1)) exceeds trial_time \(DurationParser.render(trialTime))") }
            } else {
                fail("for", "expected [SHORTEST, LONGEST] durations, shortest first")
            }
        }
        var parameters: [(key: String, value: SpaceEntry.Parameter)] = []
        for member in object.members where !["type", "route", "kinds", "for", "id"].contains(member.key) {
            if member.value.arrayValue?.isEmpty == true {
                fail(member.key, "an empty array gives nothing to choose from")
                continue
            }
            parameters.append((member.key, parameter(member.key, member.value)))
        }
        if object["id"] != nil { fail("id", "explore names its steps itself (explore-0, explore-1, …)") }
        guard errors.count == before else { return nil }
        let entry = SpaceEntry(type: type, route: route, kinds: kinds, forRange: forRange, parameters: parameters)
        // The extremes of every range, and every value of every choice, decoded as the daemon
        // will decode them.
        let choices = parameters.map { parameter -> Int in
            if case .choice(let values) = parameter.value { return values.count }
            return 1
        }.max() ?? 1
        for corner in [false, true] {
            for choice in 0..<choices {
                let sample = entry.sample(corner: corner, choice: choice)
                if case .failure(let problems) = FaultDecoder.decodeFault(.object(sample), path: path, knownRoutes: nil) {
                    errors.append(contentsOf: problems.errors)
                    return nil
                }
            }
        }
        return entry
    }

    static func durationRange(_ item: JSONValue) -> (Duration, Duration)? {
        guard let pair = item.arrayValue, pair.count == 2,
              let low = pair[0].stringValue.flatMap({ try? DurationParser.parse($0).get() }),
              let high = pair[1].stringValue.flatMap({ try? DurationParser.parse($0).get() }),
              low > .zero, high >= low else { return nil }
        return (low, high)
    }

    static func parameter(_ key: String, _ value: JSONValue) -> SpaceEntry.Parameter {
        guard let items = value.arrayValue else { return .fixed(value) }
        if let range = durationRange(value) { return .durations(range.0, range.1) }
        if numericRangeKeys.contains(key), items.count == 2, let low = items[0].doubleValue, let high = items[1].doubleValue, low <= high {
            return .numbers(low, high)
        }
        return .choice(items)
    }
}

extension SpaceEntry {
    /// The fault with every parameter at one end of its range and every choice at its
    /// `choice`-th value (or its last), for checking a space entry; partitions get two
    /// placeholder groups.
    func sample(corner: Bool, choice: Int = 0) -> JSONObject {
        var fault = JSONObject()
        fault["id"] = "explore-check"
        fault["type"] = .string(type)
        if type == "partition" {
            fault["groups"] = [["a"], ["b"]]
        } else {
            fault["route"] = .string(route)
        }
        for (key, parameter) in parameters {
            switch parameter {
            case .fixed(let value): fault[key] = value
            case .durations(let low, let high): fault[key] = .string(DurationParser.render(corner ? high : low))
            case .numbers(let low, let high): fault[key] = .double(corner ? high : low)
            case .choice(let values): fault[key] = values[min(choice, values.count - 1)]
            }
        }
        return fault
    }
}
