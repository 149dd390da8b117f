import ArgumentParser
import FaultlineClient

/// `faultctl ui [--listen HOST:PORT]`: where the daemon's live status page is (SPEC §4 `GET /ui`).
struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Print the URL of the daemon's live status page, or serve it on a local port (--listen).",
        discussion: """
            With --url, prints http://HOST:PORT/ui, with ?token= when a token is given: the daemon \
            exchanges it for a cookie and drops it from the address bar. A daemon reached on its \
            Unix socket has no URL a browser can open; --listen 127.0.0.1:0 runs a small local \
            forwarder that serves the page (GETs only) from the socket, prints its URL and runs \
            until interrupted.
            """
    )

    @Option(help: ArgumentHelp("Serve the page on this local address through a forwarder (port 0 picks one).", valueName: "host:port"))
    var listen: String?

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = try global.client()
        // Fails with the usual exit codes when the daemon cannot be reached or refuses faultctl.
        _ = try client.send("GET", "/v1/ui/snapshot")
        if let listen {
            let forwarder = try UIForwarder(listen: listen, client: client)
            Output.line(global.json ? JSONWriter.render(["url": .string(forwarder.url)]) : forwarder.url)
            forwarder.serve()
        }
        switch client.address {
        case .tcp:
            var url = "\(client.address)/ui"
            if let token = client.token { url += "?token=" + FaultlineClient.pathSegment(token) }
            Output.line(global.json ? JSONWriter.render(["url": .string(url)]) : url)
        case .unixSocket(let path):
            if global.json { return Output.line(JSONWriter.render(["url": .null, "socket": .string(path)])) }
            Output.write("""
                the daemon is reached on its Unix socket \(path), which a browser cannot open:
                  faultctl ui --listen 127.0.0.1:0     serve the page on a local port and print its URL
                  curl --unix-socket \(path) http://localhost/ui

                """)
        }
    }
}
