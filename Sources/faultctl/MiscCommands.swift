import ArgumentParser
import FaultlineClient

/// `faultctl metrics`: the Prometheus text, unchanged.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metrics", abstract: "Print the Prometheus metrics.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        Output.raw(try global.client().metrics())
    }
}

/// `faultctl reload`: `POST /v1/reload`.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Re-read the daemon's config file (routes and faults added at runtime stay)."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let response = try global.client().send("POST", "/v1/reload")
        if global.json { return Output.raw(response.text) }
        let result = try ReloadResult(json: response.json())
        Output.line("reloaded: plan version \(result.planVersion), \(result.routes) routes, \(result.faults) faults")
    }
}

/// `faultctl schedule status|start|stop|pause|resume`.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Show the schedule, or start, stop, pause or resume it.",
        subcommands: [Status.self, Action.Start.self, Action.Stop.self, Action.Pause.self, Action.Resume.self],
        defaultSubcommand: Status.self
    )

    /// `faultctl schedule [status]`: `GET /v1/schedule`.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the schedule and its state (the default).")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let response = try global.client().send("GET", "/v1/schedule")
            if global.json { return Output.raw(response.text) }
            Output.write(Output.keyValues(try response.json()))
        }
    }

    /// `POST /v1/schedule/{action}`.
    enum Action {
        static func run(_ action: FaultlineClient.ScheduleAction, _ global: GlobalOptions) throws {
            let response = try global.client().send("POST", "/v1/schedule/" + action.rawValue)
            if global.json { return Output.raw(response.text) }
            Output.write(response.body.isEmpty ? "schedule: \(action.rawValue)\n" : Output.keyValues(try response.json()))
        }

        struct Start: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a manual schedule.")
            @OptionGroup var global: GlobalOptions
            func run() throws { try Action.run(.start, global) }
        }

        struct Stop: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop the schedule.")
            @OptionGroup var global: GlobalOptions
            func run() throws { try Action.run(.stop, global) }
        }

        struct Pause: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "pause", abstract: "Hold the schedule's clock.")
            @OptionGroup var global: GlobalOptions
            func run() throws { try Action.run(.pause, global) }
        }

        struct Resume: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "resume", abstract: "Let a paused schedule run again.")
            @OptionGroup var global: GlobalOptions
            func run() throws { try Action.run(.resume, global) }
        }
    }
}
