import ArgumentParser
import FaultlineClient

/// `faultctl status`: the daemon's summary, routes and faults.
struct StatusCommand: FleetCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show version, uptime, workers, seed, routes and active faults."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let response = try global.client().send("GET", "/v1/status")
        if global.json { return Output.raw(response.text) }
        let json = try response.json()
        let status = try DaemonStatus(json: json)
        let disabled = status.routes.filter { !$0.enabled }.count
        Output.write(Output.pairs([
            ("version", status.version),
            ("uptime", DurationParser.render(status.uptime)),
            ("workers", "\(status.workers)"),
            ("seed", "\(status.seed)"),
            ("plan version", "\(status.planVersion)"),
            ("open connections", "\(status.openConnections)"),
            ("schedule", status.scheduleState),
            ("routes", "\(status.routes.count)" + (disabled > 0 ? " (\(disabled) disabled)" : "")),
            ("faults", "\(status.faults.count)"),
        ]))
        if !status.routes.isEmpty {
            Output.line()
            Output.write(Output.routesTable(status.routes))
        }
        if let faults = json.objectValue?["faults"]?.arrayValue, !faults.isEmpty {
            Output.line()
            Output.write(Output.faultsTable(faults))
        }
    }
}
