import ArgumentParser
import FaultlineClient
import Foundation

/// `faultctl apply TYPE …` or `faultctl apply --file fault.json`.
struct ApplyCommand: FleetCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a fault, from flags or from a JSON file.",
        discussion: """
            faultctl apply latency --route db --delay 100ms --jitter 10ms --direction downstream
            faultctl apply abort --route pay --status 503 --method POST --path /pay --first 2 --mark
            faultctl apply --file fault.json     (one fault object, or an array of them; - reads stdin)

            Durations are strings as in the config file ("250ms", "1m30s"). The daemon checks \
            every value and answers with the offending parameter's name.
            """,
        subcommands: [
            Latency.self, Bandwidth.self, Slicer.self, Blackhole.self, Stall.self, Reset.self, Timeout.self,
            LimitData.self, SlowClose.self, Refuse.self, ConnectDelay.self, Corrupt.self, Partition.self,
            Abort.self, Delay.self, DropResponse.self, Duplicate.self, RstStream.self, Goaway.self, WindowStall.self,
        ]
    )

    @Option(help: ArgumentHelp("A JSON file with one fault object or an array of them (- for stdin).", valueName: "path"))
    var file: String?

    @OptionGroup var global: GlobalOptions

    static var appliesFaults: Bool { true }

    /// The fault types, as `faultctl apply` spells them.
    static var typeNames: [String] { configuration.subcommands.map { $0._commandName } }

    /// The usage error for `faultctl apply WORD` when WORD names no fault type (ArgumentParser
    /// would only say "Unexpected argument"), nil when it does or the arguments are no such call.
    static func unknownTypeError(_ arguments: [String]) -> ValidationError? {
        guard arguments.first == "apply", arguments.count > 1 else { return nil }
        let word = arguments[1]
        guard !word.hasPrefix("-"), !typeNames.contains(word) else { return nil }
        let spelled = word.replacingOccurrences(of: "_", with: "-")
        let hint = spelled != word && typeNames.contains(spelled) ? " (did you mean \(spelled)?)" : ""
        return ValidationError("unknown fault type \"\(word)\"\(hint); known types: \(typeNames.joined(separator: ", "))")
    }

    func run() throws {
        guard let file else {
            throw ValidationError("give a fault type (e.g. faultctl apply latency --route db --delay 100ms) or --file PATH")
        }
        let bytes: [UInt8]
        if file == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            bytes = try Output.readFile(file, option: "--file")
        }
        let value: JSONValue
        switch JSONParser.parse(bytes: bytes) {
        case .success(let parsed): value = parsed
        case .failure(let error): throw ValidationError("\(file): not JSON: \(error)")
        }
        try ApplyCommand.post(value, global)
    }

    /// Posts a fault object, or an array of them as one change (the daemon applies all or none),
    /// and prints what it stored: its JSON answer unchanged, or a faults table.
    static func post(_ fault: JSONValue, _ global: GlobalOptions) throws {
        let response = try global.client().send("POST", "/v1/faults", body: fault)
        let answer = try response.json()
        let stored = answer.objectValue?["faults"]?.arrayValue ?? [answer]
        Fleet.appliedIDs += stored.compactMap { $0.objectValue?["id"]?.stringValue }
        if global.json { return Output.raw(response.text) }
        Output.write(Output.faultsTable(stored))
    }

    struct Latency: ApplyFaultCommand {
        static let configuration = CommandConfiguration(abstract: "Hold each chunk delay ± jitter.")
        @Option(help: ArgumentHelp("How long each chunk is held.", valueName: "duration")) var delay: String
        @Option(help: ArgumentHelp("Random spread around delay (default 0s).", valueName: "duration")) var jitter: String?
        @Option(help: ArgumentHelp("uniform (default) or normal.", valueName: "name")) var distribution: String?
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue {
            fault.body(type: "latency", [("delay", string(delay)), ("jitter", string(jitter)), ("distribution", string(distribution))])
        }
    }

    struct Bandwidth: ApplyFaultCommand {
        static let configuration = CommandConfiguration(abstract: "Limit throughput with a token bucket.")
        @Option(help: ArgumentHelp("Rate limit.", valueName: "n")) var bytesPerSecond: Int
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue { fault.body(type: "bandwidth", [("bytes_per_second", integer(bytesPerSecond))]) }
    }

    struct Slicer: ApplyFaultCommand {
        static let configuration = CommandConfiguration(abstract: "Split chunks into small writes with gaps.")
        @Option(help: ArgumentHelp("Average write size in bytes.", valueName: "n")) var averageSize: Int
        @Option(help: ArgumentHelp("Spread of the write size in bytes (default 0).", valueName: "n")) var sizeVariation: Int?
        @Option(help: ArgumentHelp("Gap between writes (default 0s).", valueName: "duration")) var delay: String?
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue {
            fault.body(type: "slicer", [
                ("average_size", integer(averageSize)), ("size_variation", integer(sizeVariation)), ("delay", string(delay)),
            ])
        }
    }

    struct Blackhole: ApplyFaultCommand {
        static let configuration = CommandConfiguration(abstract: "Read and discard bytes; connections stay open.")
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue { fault.body(type: "blackhole", []) }
    }

    struct Stall: ApplyFaultCommand {
        static let configuration = CommandConfiguration(abstract: "Stop reading until cleared; nothing is lost.")
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue { fault.body(type: "stall", []) }
    }

    struct Reset: ApplyFaultCommand {
        static let configuration = CommandConfiguration(abstract: "Send TCP RST to both sides.")
        @Option(help: ArgumentHelp("Reset this long after the connection opens (default 0s).", valueName: "duration")) var after: String?
        @Option(help: ArgumentHelp("Reset after this many bytes in the direction.", valueName: "n")) var afterBytes: Int?
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue { fault.body(type: "reset", [("after", string(after)), ("after_bytes", integer(afterBytes))]) }
    }

    struct Timeout: ApplyFaultCommand {
        static let configuration = CommandConfiguration(abstract: "Stop data; close both sides after a while.")
        @Option(help: ArgumentHelp("Close after this long (0s = never).", valueName: "duration")) var timeout: String
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue { fault.body(type: "timeout", [("timeout", string(timeout))]) }
    }

    struct LimitData: ApplyFaultCommand {
        static let configuration = CommandConfiguration(commandName: "limit-data", abstract: "Close after this many bytes in the direction.")
        @Option(help: ArgumentHelp("Bytes let through.", valueName: "n")) var bytes: Int
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue { fault.body(type: "limit_data", [("bytes", integer(bytes))]) }
    }

    struct SlowClose: ApplyFaultCommand {
        static let configuration = CommandConfiguration(commandName: "slow-close", abstract: "Pass the FIN on only after a delay.")
        @Option(help: ArgumentHelp("How long the FIN is held.", valueName: "duration")) var delay: String
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue { fault.body(type: "slow_close", [("delay", string(delay))]) }
    }

    struct Refuse: ApplyFaultCommand {
        static let configuration = CommandConfiguration(abstract: "Reset new connections on accept.")
        @Option(help: ArgumentHelp("What happens to open connections: keep (default) or reset.", valueName: "keep|reset"))
        var existing: String?
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue { fault.body(type: "refuse", [("existing", string(existing))]) }
    }

    struct ConnectDelay: ApplyFaultCommand {
        static let configuration = CommandConfiguration(commandName: "connect-delay", abstract: "Start the upstream connect only after a delay.")
        @Option(help: ArgumentHelp("How long the connect waits.", valueName: "duration")) var delay: String
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue { fault.body(type: "connect_delay", [("delay", string(delay))]) }
    }

    struct Corrupt: ApplyFaultCommand {
        static let configuration = CommandConfiguration(abstract: "Flip random bits.")
        @Option(help: ArgumentHelp("Chance, 0…1, that each bit is flipped.", valueName: "rate")) var bitFlipRate: Double
        @OptionGroup var fault: FaultOptions
        @OptionGroup var global: GlobalOptions

        func body() -> JSONValue { fault.body(type: "corrupt", [("bit_flip_rate", .double(bitFlipRate))]) }
    }

    /// A partition applied as a fault (`POST /v1/faults`), on every daemon; `faultctl partition`
    /// uses the shorthand endpoint.
    struct Partition: FleetCommand {
        static let configuration = CommandConfiguration(
            abstract: "Partition nodes (as a fault): faultctl apply partition n1 / n2,n3"
        )
        @OptionGroup var partition: PartitionOptions
        @OptionGroup var global: GlobalOptions
        static var appliesFaults: Bool { true }

        func run() throws {
            var object = JSONObject()
            if let id = partition.id { object["id"] = .string(id) }
            object["type"] = "partition"
            for member in partition.body().objectValue?.members ?? [] where member.key != "id" {
                object[member.key] = member.value
            }
            try ApplyCommand.post(.object(object), global)
        }
    }
}
