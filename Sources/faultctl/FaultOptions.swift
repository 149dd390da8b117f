import ArgumentParser
import FaultlineClient

/// The envelope every fault shares (SPEC §3): id, routes, direction, probability.
///
/// Values go to the daemon as given: it validates them with the config's decoder and answers
/// 422 naming the parameter (exit 1), so faultctl and the config file accept exactly the same.
struct FaultOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A route the fault applies to; repeat for several, or '*' for every route (required).", valueName: "name"))
    var route: [String] = []

    @Option(help: ArgumentHelp("upstream (client→service), downstream (service→client) or both (default).", valueName: "direction"))
    var direction: String?

    @Option(help: ArgumentHelp("Chance, 0…1, that the fault applies to a connection (default 1).", valueName: "p"))
    var probability: Double?

    @Option(help: ArgumentHelp("The fault's id (default: generated as <type>-<n>).", valueName: "id"))
    var id: String?

    @Option(name: .customLong("for"), help: ArgumentHelp("Clear the fault by itself this long after it is applied (\"30s\", \"5m\").", valueName: "duration"))
    var lifetime: String?

    init() {}

    init(route: [String], direction: String?, probability: Double?, id: String?, lifetime: String? = nil) {
        self.route = route
        self.direction = direction
        self.probability = probability
        self.id = id
        self.lifetime = lifetime
    }

    /// A fault applied to every route by mistake is the worst kind of surprise: `--route` must be
    /// given, `'*'` when every route is meant.
    func validate() throws {
        if route.isEmpty {
            throw ValidationError("give --route NAME (repeat it for several routes), or --route '*' for every route")
        }
    }

    /// The fault object: `id`, `type`, `route`, `direction`, `probability`, then `parameters`
    /// (nil values left out, so the daemon's defaults apply).
    func body(type: String, _ parameters: [(String, JSONValue?)]) -> JSONValue {
        var object = JSONObject()
        if let id { object["id"] = .string(id) }
        object["type"] = .string(type)
        if route.count == 1 {
            object["route"] = .string(route[0])
        } else if route.count > 1 {
            object["route"] = .array(route.map { .string($0) })
        }
        if let direction { object["direction"] = .string(direction) }
        if let probability { object["probability"] = .double(probability) }
        for (key, value) in parameters { object[key] = value }
        if let lifetime { object["for"] = .string(lifetime) }
        return .object(object)
    }
}

/// A fault type's subcommand of `faultctl apply`: builds the fault object and posts it.
protocol ApplyFaultCommand: FleetCommand {
    var fault: FaultOptions { get }
    var global: GlobalOptions { get }
    /// The fault object to post.
    func body() -> JSONValue
}

extension ApplyFaultCommand {
    static var appliesFaults: Bool { true }

    func run() throws {
        try ApplyCommand.post(body(), global)
    }
}

/// `.string(text)` for a given flag, nil for one left out.
func string(_ text: String?) -> JSONValue? { text.map { .string($0) } }

/// `.integer(n)` for a given flag, nil for one left out.
func integer(_ number: Int?) -> JSONValue? { number.map { .integer(Int64($0)) } }

/// A protocol code as given (`7`, `0x7` or a name such as `REFUSED_STREAM`): a number when it
/// reads as one, else the name for the daemon to check; nil for a flag left out.
func code(_ text: String?) -> JSONValue? {
    guard let text else { return nil }
    if let number = Int64(text) { return .integer(number) }
    if text.hasPrefix("0x"), let number = Int64(text.dropFirst(2), radix: 16) { return .integer(number) }
    return .string(text)
}
