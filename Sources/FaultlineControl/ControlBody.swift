import FaultlineConfig

/// Reads a request body as one strict JSON value.
enum ControlBody {
    /// The parsed body, or the answer for a body that is not JSON: 400 `malformed_json` for
    /// empty or syntactically invalid bodies, 422 with `invalidCode` for a repeated key.
    static func parse(_ body: [UInt8], invalidCode: String) -> Result<JSONValue, ControlOutcomeError> {
        guard !body.isEmpty else {
            return .failure(ControlOutcomeError(.error(400, code: "malformed_json", message: "request body is empty; expected a JSON object")))
        }
        switch JSONParser.parse(bytes: body) {
        case .success(let value):
            return .success(value)
        case .failure(let error) where error.isDuplicateKey:
            return .failure(ControlOutcomeError(.invalid(code: invalidCode, ConfigErrors([ConfigError(path: error.path, message: error.message)]))))
        case .failure(let error):
            return .failure(ControlOutcomeError(.error(400, code: "malformed_json", message: error.message)))
        }
    }
}

/// An answer that ends a transition early.
struct ControlOutcomeError: Error {
    let response: ControlResponse
    init(_ response: ControlResponse) { self.response = response }
}
