import ArgumentParser
import FaultlineClient
import FaultlineConfig
import Foundation

/// Where the daemon is and how to print: accepted by every command.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Path of the daemon's control socket (default: $FAULTLINE_SOCKET, else /run/faultline/control.sock as root, $XDG_RUNTIME_DIR/faultline/control.sock otherwise).",
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

    @Option(help: ArgumentHelp(
        "A JSON list of daemons ([{\"name\", \"socket\"} or {\"name\", \"url\", \"token_file\"}]): run apply, clear, partition, heal, status, faults or journal on every one.",
        valueName: "path"
    ))
    var fleet: String?

    /// `--request-timeout` as a duration.
    var timeout: Duration { (try? DurationParser.parse(requestTimeout).get()) ?? .seconds(10) }

    func validate() throws {
        if socket != nil && url != nil { throw ValidationError("give --socket or --url, not both") }
        if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
        if fleet != nil && (socket != nil || url != nil || token != nil || tokenFile != nil) {
            throw ValidationError("--fleet names every daemon's address and token; give it without --socket, --url, --token or --token-file")
        }
        if case .failure = DurationParser.parse(requestTimeout) {
            throw ValidationError("--request-timeout: \"\(requestTimeout)\" is not a duration (e.g. 10s, 500ms)")
        }
    }

    /// The client these options describe.
    /// - Throws: `ValidationError` for an unreadable token file; `FaultlineClientError` for a bad URL.
    func client() throws -> FaultlineClient {
        if let member = Fleet.current { return member.client }
        if fleet != nil {
            throw ValidationError("--fleet works with apply, clear, partition, heal, status, faults and journal")
        }
        let limit = timeout
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

    /// Where the daemon listens when its config has no `control` section: the same place
    /// (`/run/faultline/control.sock` for root, `$XDG_RUNTIME_DIR/faultline/control.sock`
    /// otherwise; the root path when neither applies, so the error names a path).
    static var defaultSocket: String {
        let environment = ProcessInfo.processInfo.environment
        return ControlConfig.defaultUnixSocket(
            effectiveUID: geteuid(), runtimeDirectory: environment["XDG_RUNTIME_DIR"],
            serviceRuntimeDirectory: environment["RUNTIME_DIRECTORY"]
        ) ?? "/run/faultline/control.sock"
    }
}
