import ArgumentParser
import FaultlineConfig
import FaultlineProxy
import FaultlineSystem

/// `faultlined`: the chaos proxy daemon.
@main
struct Faultlined: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faultlined",
        abstract: "Faultline chaos-injection proxy daemon.",
        discussion: "Runs the routes and faults of a JSON config (see docs/CONFIG.md).",
        version: FaultlineVersion.current
    )

    @Option(name: .long, help: "Run with this config file.")
    var config: String?

    @Option(name: .long, help: "Validate this config file and exit: 0 valid, 2 invalid.")
    var checkConfig: String?

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: String = "text"

    @Option(name: .long, help: "Lowest level logged: debug, info, warning, error.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Format(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format must be text or json, not \"\(logFormat)\"")
        }
        guard Logger.Level(name: logLevel) != nil else {
            throw ValidationError("--log-level must be debug, info, warning or error, not \"\(logLevel)\"")
        }
        guard (config == nil) != (checkConfig == nil) else {
            throw ValidationError("give exactly one of --config PATH or --check-config PATH")
        }
    }

    func run() throws {
        if let path = checkConfig {
            switch ConfigLoader.load(path: path) {
            case .success(let loaded):
                // The files a config names (TLS certificates and keys) must be usable too.
                do throws(ProxyError) {
                    try Proxy.checkTLS(loaded.routes)
                } catch {
                    Posix.writeAll(toRaw: 2, "\(error)\n")
                    throw ExitCode(2)
                }
                Posix.writeAll(toRaw: 1, "\(path): ok\n")
                throw ExitCode(0)
            case .failure(let errors):
                Posix.writeAll(toRaw: 2, errors.lines.map { $0 + "\n" }.joined())
                throw ExitCode(2)
            }
        }
        let log = Logger(format: Logger.Format(rawValue: logFormat)!, minimumLevel: Logger.Level(name: logLevel)!)
        let status = Daemon(configPath: config!, log: log).run()
        throw ExitCode(status)
    }
}

enum FaultlineVersion {
    static let current = "0.1.0"
}
