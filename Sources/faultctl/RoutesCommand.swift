import ArgumentParser
import FaultlineClient

/// `faultctl routes`: list, add, enable, disable and delete routes.
struct RoutesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes", abstract: "List routes, or add, enable, disable or delete one.",
        subcommands: [List.self, Add.self, Enable.self, Disable.self, Delete.self], defaultSubcommand: List.self
    )

    /// `faultctl routes [list]`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every route (the default).")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let response = try global.client().send("GET", "/v1/routes")
            if global.json { return Output.raw(response.text) }
            var routes: [RouteInfo] = []
            for item in try response.json().objectValue?["routes"]?.arrayValue ?? [] { routes.append(try RouteInfo(json: item)) }
            Output.write(routes.isEmpty ? "no routes\n" : Output.routesTable(routes))
        }
    }

    /// `faultctl routes add NAME --listen --upstream`.
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a route at runtime.")

        @Argument(help: "The route's name.") var name: String
        @Option(help: ArgumentHelp("Listen address host:port (port 0 picks a free one).", valueName: "host:port"))
        var listen = "127.0.0.1:0"
        @Option(help: ArgumentHelp("The service's address.", valueName: "host:port")) var upstream: String
        @Option(name: .customLong("protocol"), help: "tcp, http or grpc.") var protocolName = "tcp"
        @Option(help: ArgumentHelp(
            "grpc routes: h2 (what they speak anyway). The upstream speaks the client's protocol; translating (http1 or h2 on an http route) is not served by this build.",
            valueName: "protocol"))
        var upstreamProtocol: String?
        @Option(help: "The calling node's name, for partitions.") var from: String?
        @Option(help: "The service's node name, for partitions.") var to: String?
        @Flag(help: "Add the route without listening yet.") var disabled = false
        @OptionGroup var global: GlobalOptions

        func run() throws {
            var body = JSONObject()
            body["name"] = .string(name)
            body["listen"] = .string(listen)
            body["upstream"] = .string(upstream)
            body["protocol"] = .string(protocolName)
            if let upstreamProtocol { body["upstream_protocol"] = .string(upstreamProtocol) }
            if let from { body["from"] = .string(from) }
            if let to { body["to"] = .string(to) }
            if disabled { body["enabled"] = false }
            let response = try global.client().send("POST", "/v1/routes", body: .object(body))
            if global.json { return Output.raw(response.text) }
            Output.write(Output.routesTable([try RouteInfo(json: response.json())]))
        }
    }

    /// `faultctl routes enable NAME`.
    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Listen on a disabled route again.")

        @Argument(help: "The route's name.") var name: String
        @OptionGroup var global: GlobalOptions

        func run() throws { try setEnabled(name, true, global) }
    }

    /// `faultctl routes disable NAME`.
    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a route's listener (open connections stay).")

        @Argument(help: "The route's name.") var name: String
        @OptionGroup var global: GlobalOptions

        func run() throws { try setEnabled(name, false, global) }
    }

    /// `faultctl routes delete NAME`.
    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a route (refused while a fault names it).")

        @Argument(help: "The route's name.") var name: String
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.client().removeRoute(name)
            if global.json { return Output.line(JSONWriter.render(["deleted": .string(name)])) }
            Output.line("deleted route \(name)")
        }
    }

    static func setEnabled(_ name: String, _ enabled: Bool, _ global: GlobalOptions) throws {
        let response = try global.client().send(
            "PATCH", "/v1/routes/" + FaultlineClient.pathSegment(name), body: ["enabled": .bool(enabled)]
        )
        if global.json { return Output.raw(response.text) }
        Output.write(Output.routesTable([try RouteInfo(json: response.json())]))
    }
}
