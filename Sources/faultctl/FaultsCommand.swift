import ArgumentParser
import FaultlineClient

/// `faultctl faults [ID]`: the active faults, or one.
struct FaultsCommand: FleetCommand {
    static let configuration = CommandConfiguration(commandName: "faults", abstract: "List the active faults, or show one.")

    @Argument(help: "Show only this fault.") var id: String?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = try global.client()
        let path = id.map { "/v1/faults/" + FaultlineClient.pathSegment($0) } ?? "/v1/faults"
        let response = try client.send("GET", path)
        if global.json { return Output.raw(response.text) }
        let answer = try response.json()
        if id != nil { return Output.write(Output.faultsTable([answer])) }
        let faults = answer.objectValue?["faults"]?.arrayValue ?? []
        Output.write(faults.isEmpty ? "no active faults\n" : Output.faultsTable(faults))
    }
}

/// `faultctl clear ID…` or `faultctl clear --all`.
struct ClearCommand: FleetCommand {
    static let configuration = CommandConfiguration(commandName: "clear", abstract: "Clear faults by id, or all of them.")

    @Argument(help: "Ids of the faults to clear.") var ids: [String] = []
    @Flag(help: "Clear every active fault.") var all = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if all && !ids.isEmpty { throw ValidationError("give fault ids or --all, not both") }
        if !all && ids.isEmpty { throw ValidationError("give the ids of the faults to clear, or --all") }
    }

    func run() throws {
        let client = try global.client()
        if all {
            let response = try client.send("DELETE", "/v1/faults")
            if global.json { return Output.raw(response.text) }
            let cleared = (try response.json().objectValue?["cleared"]?.arrayValue ?? []).compactMap(\.stringValue)
            return Output.line(cleared.isEmpty ? "no active faults" : "cleared " + cleared.joined(separator: ", "))
        }
        for id in ids {
            try client.clear(id)
            if !global.json { Output.line("cleared \(id)") }
        }
        // The daemon answers 204 without a body; scripts get the shape of `clear --all`.
        if global.json { Output.line(JSONWriter.render(["cleared": .array(ids.map { .string($0) })])) }
    }
}
