import ArgumentParser
import FaultlineClient
import Glibc

/// `faultctl`: the command-line client of the `faultlined` control API (SPEC §1, §4).
@main
struct Faultctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faultctl",
        abstract: "Control a running faultlined: routes, faults, partitions, journal, metrics, reports, the status page.",
        discussion: """
            The daemon is reached on its Unix socket (--socket, else $FAULTLINE_SOCKET, else \
            /run/faultline/control.sock as root, $XDG_RUNTIME_DIR/faultline/control.sock \
            otherwise) or on its TCP listener (--url http://HOST:PORT, with --token or \
            --token-file when the listener requires a bearer token).

            --fleet FILE runs apply, clear, partition, heal, status, faults or journal on every \
            daemon of a JSON list ([{"name": "n1", "socket": PATH}, {"name": "n2", "url": URL, \
            "token_file": PATH}]), each output line prefixed with the daemon's name; a refused \
            apply is rolled back (cleared) on the daemons that took it. journal --merge merges \
            the journals by time.

            Options of every command, before or after its name: --socket PATH, --url URL, --fleet FILE, \
            --token TOKEN, --token-file PATH, --request-timeout DURATION (default 10s), and \
            --json to print the daemon's JSON answer unchanged instead of a table.

            Exit codes:
              0  ok
              1  the daemon rejected the request; stderr gets one line per problem:
                 faultctl: <code>: <message> (at <path>)
              2  usage error: unknown option, bad or missing argument, unreadable file
              3  cannot reach the daemon: no socket, connection refused or reset, timeout,
                 or an answer that is not the control API's

            Shell completions: faultctl --generate-completion-script bash|zsh|fish
            """,
        version: "0.1.0",
        subcommands: [
            StatusCommand.self, RoutesCommand.self, FaultsCommand.self, ApplyCommand.self, ClearCommand.self,
            JournalCommand.self, MetricsCommand.self, ReloadCommand.self, PartitionCommand.self, HealCommand.self,
            ScheduleCommand.self, ReportCommand.self, UICommand.self, ExploreCommand.self,
        ]
    )

    /// Exit codes scripts can rely on (see the discussion above).
    enum Exit {
        static let ok: Int32 = 0
        static let rejected: Int32 = 1
        static let usage: Int32 = 2
        static let unreachable: Int32 = 3
    }

    /// Parses, runs, and maps every failure to one of the documented exit codes.
    ///
    /// ArgumentParser's own `main` exits 64 (EX_USAGE) on usage errors; scripts get 2 here.
    static func main() {
        var command: any ParsableCommand
        do {
            let arguments = hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst()))
            if let unknownType = ApplyCommand.unknownTypeError(arguments) { throw unknownType }
            command = try parseAsRoot(arguments)
        } catch {
            exitForParseError(error)
        }
        do {
            if let fleetCommand = command as? any FleetCommand, let path = fleetCommand.global.fleet,
               !((command as? JournalCommand)?.merge ?? false) {
                Glibc.exit(try Fleet.load(path, timeout: fleetCommand.global.timeout).run(fleetCommand))
            }
            try command.run()
        } catch let error as FaultlineClientError {
            Glibc.exit(report(error))
        } catch let error as ExitCode {
            Glibc.exit(error.rawValue)
        } catch {
            if exitCode(for: error) == .success { Self.exit(withError: error) }
            Output.error(fullMessage(for: error))
            Glibc.exit(Exit.usage)
        }
    }

    /// Global options given before the subcommand (`faultctl --json status`), moved after it,
    /// where ArgumentParser looks for them (`faultctl status --json`).
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        let flags: Set<String> = ["--json"]
        let options: Set<String> = ["--socket", "--url", "--token", "--token-file", "--request-timeout", "--fleet"]
        var hoisted: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if flags.contains(argument) || (options.contains(name) && argument.contains("=")) {
                hoisted.append(argument)
                index += 1
            } else if options.contains(argument), index + 1 < arguments.count {
                hoisted += [argument, arguments[index + 1]]
                index += 2
            } else {
                break
            }
        }
        guard !hoisted.isEmpty else { return arguments }
        var rest = Array(arguments[index...])
        // Options stay in front of a `--` that ends option parsing.
        let end = rest.firstIndex(of: "--") ?? rest.count
        rest.insert(contentsOf: hoisted, at: end)
        return rest
    }

    private static func exitForParseError(_ error: any Error) -> Never {
        // Help, --version and --generate-completion-script arrive as "errors" that exit 0.
        if exitCode(for: error) == .success { Self.exit(withError: error) }
        Output.error(fullMessage(for: error))
        Glibc.exit(Exit.usage)
    }

    /// Prints `faultctl: <code>: <message> (at <path>)` (one line per problem of a validation
    /// failure) and returns the exit code.
    static func report(_ error: FaultlineClientError) -> Int32 {
        if error.problems.count > 1 {
            for problem in error.problems {
                Output.error("faultctl: \(error.code): \(problem.message) (at \(problem.path))")
            }
        } else {
            Output.error("faultctl: \(error)")
        }
        switch error.kind {
        case .rejected: return Exit.rejected
        case .invalidRequest: return Exit.usage
        case .unreachable, .invalidResponse: return Exit.unreachable
        }
    }
}
