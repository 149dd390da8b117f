// Hand-rolled `--name value` parsing: the tool has no dependencies.

/// The options of one subcommand: `--name value` pairs and bare `--flag`s.
struct Arguments {
    private var values: [String: String] = [:]
    private var used: Set<String> = []
    let command: String

    /// Parses `arguments` (after the subcommand); `flags` take no value.
    init(command: String, _ arguments: ArraySlice<String>, flags: Set<String> = []) throws {
        self.command = command
        var rest = arguments[...]
        while let first = rest.popFirst() {
            guard first.hasPrefix("--") else { throw BenchError("unexpected argument \(first)") }
            var name = String(first.dropFirst(2))
            if let equals = name.firstIndex(of: "=") {
                values[String(name[..<equals])] = String(name[name.index(after: equals)...])
                continue
            }
            if flags.contains(name) {
                values[name] = "true"
                continue
            }
            guard let value = rest.popFirst() else { throw BenchError("--\(name) needs a value") }
            name = name.lowercased()
            values[name] = value
        }
    }

    mutating func string(_ name: String, default fallback: String? = nil) throws -> String {
        used.insert(name)
        if let value = values[name] { return value }
        if let fallback { return fallback }
        throw BenchError("--\(name) is required")
    }

    mutating func int(_ name: String, default fallback: Int? = nil) throws -> Int {
        let text = try string(name, default: fallback.map(String.init))
        guard let value = Int(text), value >= 0 else { throw BenchError("--\(name) \(text): expected a non-negative integer") }
        return value
    }

    mutating func double(_ name: String, default fallback: Double? = nil) throws -> Double {
        let text = try string(name, default: fallback.map { String($0) })
        guard let value = Double(text), value >= 0 else { throw BenchError("--\(name) \(text): expected a non-negative number") }
        return value
    }

    mutating func flag(_ name: String) -> Bool {
        used.insert(name)
        return values[name] == "true"
    }

    mutating func endpoint(_ name: String) throws -> Endpoint {
        try Endpoint(parsing: string(name))
    }

    /// Rejects options the subcommand did not ask for (typos must not pass silently).
    func finish() throws {
        let unknown = Set(values.keys).subtracting(used).sorted()
        guard unknown.isEmpty else {
            throw BenchError("unknown option(s): " + unknown.map { "--" + $0 }.joined(separator: ", "))
        }
    }
}
