import ArgumentParser
import FaultlineClient

/// Which requests an HTTP fault acts on, how they are counted, whether answers are marked.
struct HTTPMatchOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only requests with this method; repeat for several.", valueName: "method"))
    var method: [String] = []

    @Option(help: ArgumentHelp("Only requests whose path (before ?) is exactly this.", valueName: "path"))
    var path: String?

    @Option(help: ArgumentHelp("Only requests whose path starts with this.", valueName: "prefix"))
    var pathPrefix: String?

    @Option(help: ArgumentHelp("Only requests with this header (VALUE * = present); repeat for several.", valueName: "name=value"))
    var header: [String] = []

    @Option(help: ArgumentHelp("Act on the first N requests of each key value only (then let them pass).", valueName: "n"))
    var first: Int?

    @Option(help: ArgumentHelp("What --first counts by: header:NAME (default header:idempotency-key), path, method+path, connection.", valueName: "key"))
    var key: String?

    @Flag(help: "Add x-faultline-fault: <id> to the answers the fault touched.")
    var mark = false

    /// `match`, `attempts` and `mark` members, nil when not given.
    func members() throws -> [(String, JSONValue?)] {
        var match = JSONObject()
        if method.count == 1 { match["method"] = .string(method[0]) }
        if method.count > 1 { match["method"] = .array(method.map { .string($0) }) }
        if let path { match["path"] = .string(path) }
        if let pathPrefix { match["path_prefix"] = .string(pathPrefix) }
        if !header.isEmpty {
            var headers = JSONObject()
            for item in header {
                guard let equals = item.firstIndex(of: "=") else {
                    throw ValidationError("--header: expected NAME=VALUE, got \(item)")
                }
                headers[String(item[..<equals])] = .string(String(item[item.index(after: equals)...]))
            }
            match["headers"] = .object(headers)
        }
        var attempts: JSONValue?
        if let first {
            var object = JSONObject()
            object["key"] = .string(key ?? "header:idempotency-key")
            object["first"] = .integer(Int64(first))
            attempts = .object(object)
        } else if key != nil {
            throw ValidationError("--key counts attempts: give --first N with it")
        }
        return [
            ("match", match.members.isEmpty ? nil : .object(match)), ("attempts", attempts),
            ("mark", mark ? .bool(true) : nil),
        ]
    }
}

extension ApplyCommand {
    struct Abort: FleetCommand {
        static let configuration = CommandConfiguration(abstract: "HTTP: answer requests from the proxy; the upstream never sees them.")
        @Option(help: ArgumentHelp("The status to answer with (200–599; default 200 with --grpc-status).", valueName: "code"))
        var status: Int?
        @Option(help: ArgumentHelp("The answer's body (default empty).", valueName: "text")) var body: String?
        @Option(help: ArgumentHelp("A header of the answer; repeat for several.", valueName: "name=value")) var headerOut: [String] = []
        @Option(help: ArgumentHelp("grpc routes: answer with this grpc-status, 0–16 or a name (UNAVAILABLE).", valueName: "code"))
        var grpcStatus: String?
        @Option(help: ArgumentHelp("The grpc-message sent with --grpc-status.", valueName: "text")) var grpcMessage: String?
        @OptionGroup var match: HTTPMatchOptions
        @OptionGroup var fault: HTTPFaultOptions
        @OptionGroup var global: GlobalOptions
        static var appliesFaults: Bool { true }

        func validate() throws {
            if status == nil && grpcStatus == nil { throw ValidationError("give --status, or --grpc-status on a grpc route") }
            if grpcMessage != nil && grpcStatus == nil { throw ValidationError("--grpc-message goes with --grpc-status") }
        }

        func run() throws {
            var headers = JSONObject()
            for item in headerOut {
                guard let equals = item.firstIndex(of: "=") else {
                    throw ValidationError("--header-out: expected NAME=VALUE, got \(item)")
                }
                headers[String(item[..<equals])] = .string(String(item[item.index(after: equals)...]))
            }
            let parameters: [(String, JSONValue?)] = [
                ("status", integer(status)), ("body", string(body)),
                ("headers", headerOut.isEmpty ? nil : .object(headers)),
                ("grpc_status", code(grpcStatus)), ("grpc_message", string(grpcMessage)),
            ]
            try ApplyCommand.post(fault.body(type: "abort", parameters + match.members()), global)
        }
    }

    struct Delay: FleetCommand {
        static let configuration = CommandConfiguration(abstract: "HTTP: forward the request, or pass the response on, only after a delay.")
        @Option(help: ArgumentHelp("How long.", valueName: "duration")) var delay: String
        @Option(help: ArgumentHelp("Random spread around delay (default 0s).", valueName: "duration")) var jitter: String?
        @Option(help: ArgumentHelp("request (default) or response.", valueName: "phase")) var phase: String?
        @OptionGroup var match: HTTPMatchOptions
        @OptionGroup var fault: HTTPFaultOptions
        @OptionGroup var global: GlobalOptions
        static var appliesFaults: Bool { true }

        func run() throws {
            let parameters: [(String, JSONValue?)] = [("delay", string(delay)), ("jitter", string(jitter)), ("phase", string(phase))]
            try ApplyCommand.post(fault.body(type: "delay", parameters + match.members()), global)
        }
    }

    struct DropResponse: FleetCommand {
        static let configuration = CommandConfiguration(
            commandName: "drop-response", abstract: "HTTP: the upstream handles the request; its answer never reaches the client.")
        @Option(help: ArgumentHelp("Then: reset (default), close or hang.", valueName: "what")) var then: String?
        @OptionGroup var match: HTTPMatchOptions
        @OptionGroup var fault: HTTPFaultOptions
        @OptionGroup var global: GlobalOptions
        static var appliesFaults: Bool { true }

        func run() throws {
            try ApplyCommand.post(fault.body(type: "drop_response", [("then", string(then))] + match.members()), global)
        }
    }

    struct Duplicate: FleetCommand {
        static let configuration = CommandConfiguration(abstract: "HTTP: send each request to the upstream 1 + copies times.")
        @Option(help: ArgumentHelp("Extra copies, 1–10 (default 1).", valueName: "n")) var copies: Int?
        @Option(help: ArgumentHelp("Time between copies (default 0s).", valueName: "duration")) var spacing: String?
        @OptionGroup var match: HTTPMatchOptions
        @OptionGroup var fault: HTTPFaultOptions
        @OptionGroup var global: GlobalOptions
        static var appliesFaults: Bool { true }

        func run() throws {
            let parameters: [(String, JSONValue?)] = [("copies", integer(copies)), ("spacing", string(spacing))]
            try ApplyCommand.post(fault.body(type: "duplicate", parameters + match.members()), global)
        }
    }
}

extension ApplyCommand {
    struct RstStream: FleetCommand {
        static let configuration = CommandConfiguration(
            commandName: "rst-stream", abstract: "HTTP/2: reset the request's stream (HTTP/1.1 requests pass it over).")
        @Option(help: ArgumentHelp("RST_STREAM error code: a number or a name (default INTERNAL_ERROR).", valueName: "code"))
        var errorCode: String?
        @OptionGroup var match: HTTPMatchOptions
        @OptionGroup var fault: HTTPFaultOptions
        @OptionGroup var global: GlobalOptions
        static var appliesFaults: Bool { true }

        func run() throws {
            try ApplyCommand.post(fault.body(type: "rst_stream", [("error_code", code(errorCode))] + match.members()), global)
        }
    }

    struct Goaway: FleetCommand {
        static let configuration = CommandConfiguration(
            abstract: "HTTP/2: send the request's connection GOAWAY (HTTP/1.1 requests pass it over).")
        @Option(help: ArgumentHelp("GOAWAY error code: a number or a name (default NO_ERROR).", valueName: "code"))
        var errorCode: String?
        @Flag(inversion: .prefixedNo, help: "Let the streams already open finish (default), or cut them at once.")
        var graceful: Bool?
        @OptionGroup var match: HTTPMatchOptions
        @OptionGroup var fault: HTTPFaultOptions
        @OptionGroup var global: GlobalOptions
        static var appliesFaults: Bool { true }

        func run() throws {
            let parameters: [(String, JSONValue?)] = [("error_code", code(errorCode)), ("graceful", graceful.map { .bool($0) })]
            try ApplyCommand.post(fault.body(type: "goaway", parameters + match.members()), global)
        }
    }

    struct WindowStall: FleetCommand {
        static let configuration = CommandConfiguration(
            commandName: "window-stall",
            abstract: "HTTP/2: send no WINDOW_UPDATE for the request's stream (HTTP/1.1 requests pass it over).")
        @OptionGroup var match: HTTPMatchOptions
        @OptionGroup var fault: HTTPFaultOptions
        @OptionGroup var global: GlobalOptions
        static var appliesFaults: Bool { true }

        func run() throws {
            try ApplyCommand.post(fault.body(type: "window_stall", match.members()), global)
        }
    }
}

/// The envelope of an HTTP fault: id, routes, probability (drawn per request); no direction.
struct HTTPFaultOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A route the fault applies to; repeat for several, or '*' for every http route (required).", valueName: "name"))
    var route: [String] = []

    @Option(help: ArgumentHelp("Chance, 0…1, drawn per request, that the fault acts (default 1).", valueName: "p"))
    var probability: Double?

    @Option(help: ArgumentHelp("The fault's id (default: generated as <type>-<n>).", valueName: "id"))
    var id: String?

    @Option(name: .customLong("for"), help: ArgumentHelp("Clear the fault by itself this long after it is applied (\"30s\", \"5m\").", valueName: "duration"))
    var lifetime: String?

    func validate() throws {
        try FaultOptions(route: route, direction: nil, probability: probability, id: id).validate()
    }

    func body(type: String, _ parameters: [(String, JSONValue?)]) -> JSONValue {
        FaultOptions(route: route, direction: nil, probability: probability, id: id, lifetime: lifetime).body(type: type, parameters)
    }
}
