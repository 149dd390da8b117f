import FaultlineConfig
import FaultlineCore
import Testing

@Suite struct FaultDecoderTests {
    private func decode(_ json: String, knownRoutes: Set<String>? = ["a", "b"]) throws -> FaultSpec {
        let value = try JSONParser.parse(json).get()
        return try FaultDecoder.decodeFault(value, path: "", knownRoutes: knownRoutes, generatedID: { "gen-\($0)" }).get()
    }

    @Test(arguments: [
        (#"{"type": "latency", "delay": "100ms"}"#,
         FaultKind.latency(delay: .milliseconds(100), jitter: .zero, distribution: .uniform)),
        (#"{"type": "latency", "delay": "1s", "jitter": "250ms", "distribution": "normal"}"#,
         .latency(delay: .seconds(1), jitter: .milliseconds(250), distribution: .normal)),
        (#"{"type": "bandwidth", "bytes_per_second": 1024}"#, .bandwidth(bytesPerSecond: 1024)),
        (#"{"type": "slicer", "average_size": 64}"#, .slicer(averageSize: 64, sizeVariation: 0, delay: .zero)),
        (#"{"type": "slicer", "average_size": 64, "size_variation": 63, "delay": "1ms"}"#,
         .slicer(averageSize: 64, sizeVariation: 63, delay: .milliseconds(1))),
        (#"{"type": "blackhole"}"#, .blackhole),
        (#"{"type": "stall"}"#, .stall),
        (#"{"type": "reset"}"#, .reset(after: .zero, afterBytes: nil)),
        (#"{"type": "reset", "after": "2s", "after_bytes": 0}"#, .reset(after: .seconds(2), afterBytes: 0)),
        (#"{"type": "reset", "after_bytes": null}"#, .reset(after: .zero, afterBytes: nil)),
        (#"{"type": "timeout", "timeout": "0s"}"#, .timeout(.zero)),
        (#"{"type": "limit_data", "bytes": 0}"#, .limitData(bytes: 0)),
        (#"{"type": "slow_close", "delay": "3s"}"#, .slowClose(delay: .seconds(3))),
        (#"{"type": "refuse"}"#, .refuse(existing: .keep)),
        (#"{"type": "refuse", "existing": "reset"}"#, .refuse(existing: .reset)),
        (#"{"type": "connect_delay", "delay": "1m"}"#, .connectDelay(.seconds(60))),
        (#"{"type": "corrupt", "bit_flip_rate": 0}"#, .corrupt(bitFlipRate: 0)),
        (#"{"type": "corrupt", "bit_flip_rate": 0.001}"#, .corrupt(bitFlipRate: 0.001)),
    ])
    func decodesEveryType(json: String, kind: FaultKind) throws {
        let fault = try decode(json)
        #expect(fault == FaultSpec(id: "gen-\(kind.typeName)", routes: .all, direction: .both, probability: 1, kind: kind))
    }

    @Test func everyCoreTypeIsCovered() {
        // A Core fault type added without decoder support must fail here, not in production.
        for type in FaultKind.typeNames {
            let result = FaultDecoder.decodeFault(["type": .string(type)], path: "", knownRoutes: nil)
            if case .failure(let errors) = result {
                #expect(!errors.description.contains("not supported by the config decoder"), "\(type)")
                #expect(!errors.description.contains("unknown fault type"), "\(type)")
            }
        }
    }

    @Test func commonFields() throws {
        let fault = try decode(#"{"id": "x.1", "type": "stall", "route": ["b", "a"], "direction": "upstream", "probability": 0}"#)
        #expect(fault == FaultSpec(id: "x.1", routes: .names(["b", "a"]), direction: .upstream, probability: 0, kind: .stall))
        #expect(try decode(#"{"type": "stall", "route": "a", "probability": 1}"#).routes == .names(["a"]))
        #expect(try decode(#"{"type": "stall", "route": "*", "probability": 0.25}"#).probability == 0.25)
        #expect(try decode(#"{"type": "stall", "route": "anything"}"#, knownRoutes: nil).routes == .names(["anything"]))
    }

    @Test(arguments: [
        ("[]", ["$: expected an object, got array"]),
        ("{}", ["type: missing required key"]),
        (#"{"type": "partition", "groups": [["n1"]]}"#, ["groups: must list at least two groups, got 1"]),
        (#"{"type": "partition", "groups": [["n1"], ["n1", "n2"]], "direction": "upstream"}"#, [
            "direction: not allowed for type partition",
            #"groups[1][0]: node "n1" is already in groups[0][0]"#,
        ]),
        (#"{"type": "partition", "kind": "isolate"}"#, ["node: missing required key"]),
        (#"{"type": "partition", "kind": "star"}"#, [#"kind: unknown partition kind "star" (expected isolate, random_halves, bridge, ring or random_node)"#]),
        (#"{"type": "partition"}"#, ["groups: missing required key (give groups or kind)"]),
        (#"{"type": "partition", "groups": [["a"], ["b"]], "mode": "drop"}"#, [#"mode: unknown mode "drop" (expected blackhole or reset)"#]),
        (#"{"type": 3, "colour": 1}"#, ["type: expected a string, got integer"]),
        (#"{"type": "latency"}"#, ["delay: missing required key"]),
        (#"{"type": "latency", "delay": "20x"}"#, [#"delay: "20x" is not a duration"#]),
        (#"{"type": "latency", "delay": 100}"#, ["delay: expected a duration string, got integer"]),
        (#"{"type": "latency", "delay": "1s", "distribution": "pareto", "bytes": 1, "colour": "red"}"#, [
            #"distribution: unknown distribution "pareto" (expected uniform or normal)"#,
            "bytes: unknown key for type latency",
            "colour: unknown key for type latency",
        ]),
        (#"{"type": "stall", "id": "a b", "route": "c", "direction": "up", "probability": 1.5}"#, [
            #"id: "a b" is not a valid name (use letters, digits, '.', '_' and '-')"#,
            #"route: unknown route "c""#,
            #"direction: unknown direction "up" (expected upstream, downstream or both)"#,
            "probability: must be between 0 and 1, got 1.5",
        ]),
        (#"{"type": "stall", "id": "", "route": [], "probability": "1"}"#, [
            "id: must not be empty",
            "route: must name at least one route",
            "probability: expected a number, got string",
        ]),
        (#"{"type": "stall", "route": ["a", "*", "a", "z", 1]}"#, [
            #"route[1]: "*" cannot be combined with route names"#,
            #"route[2]: duplicate route "a""#,
            #"route[3]: unknown route "z""#,
            "route[4]: expected a string, got integer",
        ]),
        (#"{"type": "stall", "route": {"name": "a"}, "probability": -1}"#, [
            #"route: expected a route name, a list of route names or "*", got object"#,
            "probability: must be between 0 and 1, got -1",
        ]),
        (#"{"type": "bandwidth", "bytes_per_second": 0}"#, ["bytes_per_second: must be at least 1, got 0"]),
        (#"{"type": "bandwidth", "bytes_per_second": 1.5}"#, ["bytes_per_second: expected an integer, got number"]),
        (#"{"type": "bandwidth"}"#, ["bytes_per_second: missing required key"]),
        (#"{"type": "slicer", "average_size": 10, "size_variation": 10}"#, ["size_variation: must be less than average_size (10), got 10"]),
        (#"{"type": "slicer", "average_size": 0, "size_variation": -1}"#, [
            "average_size: must be at least 1, got 0", "size_variation: must be at least 0, got -1",
        ]),
        (#"{"type": "blackhole", "delay": "1s"}"#, ["delay: unknown key for type blackhole"]),
        (#"{"type": "reset", "after": "1", "after_bytes": -5}"#, [
            #"after: "1" is not a duration (missing unit)"#, "after_bytes: must be at least 0, got -5",
        ]),
        (#"{"type": "timeout"}"#, ["timeout: missing required key"]),
        (#"{"type": "limit_data", "bytes": -1}"#, ["bytes: must be at least 0, got -1"]),
        (#"{"type": "slow_close", "delay": "-1s"}"#, [#"delay: "-1s" is not a duration (negative)"#]),
        (#"{"type": "refuse", "existing": "drop"}"#, [#"existing: unknown value "drop" (expected keep or reset)"#]),
        (#"{"type": "connect_delay", "delay": ""}"#, [#"delay: "" is not a duration"#]),
        (#"{"type": "corrupt", "bit_flip_rate": 2}"#, ["bit_flip_rate: must be between 0 and 1, got 2"]),
        (#"{"type": "corrupt"}"#, ["bit_flip_rate: missing required key"]),
    ])
    func errors(json: String, expected: [String]) {
        #expect(faultErrorLines(json) == expected)
    }

    @Test func pathIsPrefixed() throws {
        let value = try JSONParser.parse(#"{"type": "latency", "delay": "20x"}"#).get()
        guard case .failure(let errors) = FaultDecoder.decodeFault(value, path: "body.fault", knownRoutes: nil) else {
            Issue.record("decoded")
            return
        }
        #expect(errors.lines == [#"body.fault.delay: "20x" is not a duration"#])
    }

    @Test func faultsInTheConfig() {
        let json = configWithFaults(#"""
        [
          {"type": "latency", "route": "a", "delay": "1s"},
          {"id": "latency-0", "type": "stall"},
          {"id": "x", "type": "blackhole", "route": ["a", "nope"]},
          {"id": "x", "type": "stall"},
          {"type": "stall", "delay": "2s"},
          {"id": "latency-0", "type": "stall"}
        ]
        """#)
        #expect(errorLines(json) == [
            #"faults[2].route[1]: unknown route "nope""#,
            "faults[4].delay: unknown key for type stall",
            #"faults[5].id: duplicate fault id "latency-0" (also faults[1].id)"#,
            #"faults[0]: generated id "latency-0" is already used by faults[1].id; give this fault an id"#,
        ])
    }

    @Test func generatedIDsUseTypeAndIndex() throws {
        let config = try #require(decodedConfig(configWithFaults(
            #"[{"type": "stall"}, {"id": "mine", "type": "stall"}, {"type": "corrupt", "bit_flip_rate": 0.5, "route": "b"}]"#
        )))
        #expect(config.faults.map(\.id) == ["stall-0", "mine", "corrupt-2"])
        #expect(config.faults[2] == FaultSpec(id: "corrupt-2", routes: .names(["b"]), kind: .corrupt(bitFlipRate: 0.5)))
    }

    @Test func faultsNamingARouteWithOtherErrorsAreNotAlsoReported() {
        let json = config(#"""
        "routes": [{"name": "a", "listen": "nowhere", "upstream": "127.0.0.1:1"}],
        "faults": [{"type": "stall", "route": "a"}]
        """#)
        #expect(errorLines(json) == [#"routes[0].listen: "nowhere" is not a valid address"#])
    }
}
