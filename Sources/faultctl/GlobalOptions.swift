import ArgumentParser
import FaultlineClient
import Foundation

/// Where the daemon is and how to print: accepted by every command.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Path of the daemon's control socket (default: $FAULTLINE_SOCKET, else /run/faultline/control.sock).",
        valueName: "path"
    ))
    var socket: String?

    @Option(help: ArgumentHelp("The daemon's TCP control listener, http://HOST:PORT (instead of the socket).", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("Bearer token for the TCP listener.", valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("File holding the bearer token (surrounding whitespace ignored).", valueName: "path"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("Longest a request may take, as a duration (\"10s\", \"500ms\").", valueName: "duration"))
    var requestTimeout: String = "10s"

    @Flag(help: "Print the daemon's JSON answer unchanged instead of a table.")
    var json = false

    static let defaultSocket = "/run/faultline/control.sock"

    func validate() throws {
        if socket != nil && url != nil { throw ValidationError("give --socket or --url, not both") }
        if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
        if case .failure = DurationParser.parse(requestTimeout) {
            throw ValidationError("--request-timeout: \"\(requestTimeout)\" is not a duration (e.g. 10s, 500ms)")
        }
    }

    /// The client these options describe.
    /// - Throws: `ValidationError` for an unreadable token file; `FaultlineClientError` for a bad URL.
    func client() throws -> FaultlineClient {
        let limit = (try? DurationParser.parse(requestTimeout).get()) ?? .seconds(10)
        var bearer = token
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("--token-file: cannot read \(tokenFile)")
            }
            bearer = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let url { return try FaultlineClient(url: url, token: bearer, timeout: limit) }
        let path = socket ?? ProcessInfo.processInfo.environment["FAULTLINE_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
            ?? GlobalOptions.defaultSocket
        return FaultlineClient(address: .unixSocket(path: path), token: bearer, timeout: limit)
    }
}
