import ArgumentParser
import FaultlineClient

/// How a partition is described on the command line: groups (`n1 / n2,n3`) or a generator.
struct PartitionOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "Groups of node names: groups separated by /, names by commas (n1 / n2,n3).", valueName: "groups"
    ))
    var groups: [String] = []

    @Option(help: ArgumentHelp("Cut one node off from all others.", valueName: "node"))
    var isolate: String?

    @Flag(help: "Shuffle the nodes (from the seed) and cut them into two halves.")
    var randomHalves = false

    @Flag(help: "One node, chosen from the seed, against all others.")
    var randomNode = false

    @Flag(help: "Two halves joined by one node that sees both.")
    var bridge = false

    @Flag(help: "Each node sees only its ring neighbours.")
    var ring = false

    @Option(help: ArgumentHelp("blackhole (default: bytes dropped, peers time out) or reset (RST, refuse new).", valueName: "mode"))
    var mode: String?

    @Flag(help: "Block only traffic leaving the first group.")
    var oneWay = false

    @Option(help: ArgumentHelp("The partition's id (default: generated).", valueName: "id"))
    var id: String?

    @Option(name: .customLong("for"), help: ArgumentHelp("Heal it by itself this long after it is applied (\"30s\").", valueName: "duration"))
    var lifetime: String?

    /// The groups parsed from the arguments: the words joined, cut at `/`, names at commas and
    /// spaces (`n1/n2,n3` and `n1 / n2 n3` mean the same).
    var parsedGroups: [[String]] {
        guard !groups.isEmpty else { return [] }
        return groups.joined(separator: " ").split(separator: "/", omittingEmptySubsequences: false).map { group in
            group.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        }
    }

    private var generators: [String] {
        var names: [String] = []
        if isolate != nil { names.append("--isolate") }
        if randomHalves { names.append("--random-halves") }
        if randomNode { names.append("--random-node") }
        if bridge { names.append("--bridge") }
        if ring { names.append("--ring") }
        return names
    }

    func validate() throws {
        let generators = generators
        if generators.count > 1 { throw ValidationError("give one of \(generators.joined(separator: ", ")), not several") }
        if !groups.isEmpty && !generators.isEmpty {
            throw ValidationError("give groups (n1 / n2,n3) or \(generators[0]), not both")
        }
        if groups.isEmpty && generators.isEmpty {
            throw ValidationError("give groups (n1 / n2,n3) or one of --isolate NODE, --random-halves, --random-node, --bridge, --ring")
        }
    }

    /// The partition object (without `type`): id, groups or kind (+ node), mode, one_way.
    func body() -> JSONValue {
        var object = JSONObject()
        if let id { object["id"] = .string(id) }
        if let isolate {
            object["kind"] = "isolate"
            object["node"] = .string(isolate)
        } else if randomHalves {
            object["kind"] = "random_halves"
        } else if randomNode {
            object["kind"] = "random_node"
        } else if bridge {
            object["kind"] = "bridge"
        } else if ring {
            object["kind"] = "ring"
        } else {
            object["groups"] = .array(parsedGroups.map { .array($0.map { .string($0) }) })
        }
        if let mode { object["mode"] = .string(mode) }
        if oneWay { object["one_way"] = true }
        if let lifetime { object["for"] = .string(lifetime) }
        return .object(object)
    }
}

/// `faultctl partition n1 / n2,n3`: `POST /v1/partitions`.
struct PartitionCommand: FleetCommand {
    static let configuration = CommandConfiguration(
        commandName: "partition",
        abstract: "Partition nodes: block every route between different groups.",
        discussion: """
            faultctl partition n1 / n2,n3              n1 cannot reach n2 or n3, nor they n1
            faultctl partition n1 / n2,n3 --one-way    only traffic leaving n1 is blocked
            faultctl partition --isolate n1 --mode reset
            faultctl partition --random-halves --id split

            Uses POST /v1/partitions. `faultctl apply partition …` takes the same arguments and \
            goes through POST /v1/faults.
            """
    )

    @OptionGroup var partition: PartitionOptions
    @OptionGroup var global: GlobalOptions
    static var appliesFaults: Bool { true }

    func run() throws {
        let response = try global.client().send("POST", "/v1/partitions", body: partition.body())
        let answer = try response.json()
        if let id = answer.objectValue?["id"]?.stringValue { Fleet.appliedIDs.append(id) }
        if global.json { return Output.raw(response.text) }
        Output.write(answer.objectValue?["type"] != nil ? Output.faultsTable([answer]) : Output.keyValues(answer))
    }
}

/// `faultctl heal`: `DELETE /v1/partitions`.
struct HealCommand: FleetCommand {
    static let configuration = CommandConfiguration(commandName: "heal", abstract: "Heal every partition.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let response = try global.client().send("DELETE", "/v1/partitions")
        if global.json { return Output.raw(response.text) }
        if response.body.isEmpty { return Output.line("healed") }
        let answer = try response.json()
        guard let healed = answer.objectValue?["healed"]?.arrayValue else { return Output.write(Output.keyValues(answer)) }
        let ids = healed.compactMap(\.stringValue)
        Output.line(ids.isEmpty ? "no partitions" : "healed " + ids.joined(separator: ", "))
    }
}
