import FaultlineConfig
import Testing

/// The `PATH: message` lines a config yields, or [] when it decodes.
func errorLines(_ json: String) -> [String] {
    switch ConfigDecoder.decode(jsonText: json) {
    case .success: return []
    case .failure(let errors): return errors.lines
    }
}

/// The decoded config; records an issue with every error when it does not decode.
func decodedConfig(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> DaemonConfig? {
    switch ConfigDecoder.decode(jsonText: json) {
    case .success(let config): return config
    case .failure(let errors):
        Issue.record("unexpected errors:\n\(errors)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A version-1 config with the given extra top-level members (raw JSON, without braces).
func config(_ members: String) -> String {
    members.isEmpty ? #"{"version": 1}"# : #"{"version": 1, "# + members + "}"
}

/// A config with routes `a` (127.0.0.1:9000) and `b` (127.0.0.1:9001) and the given faults array.
func configWithFaults(_ faults: String) -> String {
    config(#"""
    "routes": [
      {"name": "a", "listen": "127.0.0.1:9000", "upstream": "127.0.0.1:19000"},
      {"name": "b", "listen": "127.0.0.1:9001", "upstream": "127.0.0.1:19001"}
    ],
    "faults": \#(faults)
    """#)
}

/// Errors from decoding one fault object on its own (path "faults[0]" prefix style via root "").
func faultErrorLines(_ json: String, knownRoutes: Set<String>? = ["a", "b"]) -> [String] {
    guard case .success(let value) = JSONParser.parse(json) else {
        Issue.record("test JSON does not parse: \(json)")
        return []
    }
    switch FaultDecoder.decodeFault(value, path: "", knownRoutes: knownRoutes) {
    case .success: return []
    case .failure(let errors): return errors.lines
    }
}
