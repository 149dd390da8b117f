import FaultlineConfig

/// An error of the Toxiproxy-compatible API, answered in Toxiproxy's shape
/// `{"error": "...", "status": N}` with Toxiproxy's messages (`api.go`).
struct ToxiproxyError: Error, Sendable, Hashable {
    var status: Int
    var message: String

    static let proxyNotFound = ToxiproxyError(status: 404, message: "proxy not found")
    static let proxyExists = ToxiproxyError(status: 409, message: "proxy already exists")
    static let toxicNotFound = ToxiproxyError(status: 404, message: "toxic not found")
    static let toxicExists = ToxiproxyError(status: 409, message: "toxic already exists")
    static let invalidStream = ToxiproxyError(status: 400, message: "stream was invalid, can be either upstream or downstream")
    static let invalidToxicType = ToxiproxyError(status: 400, message: "invalid toxic type")

    /// 400 `bad request body: <detail>`.
    static func badBody(_ detail: String) -> ToxiproxyError {
        ToxiproxyError(status: 400, message: "bad request body: \(detail)")
    }

    /// 400 `missing required field: <field>`.
    static func missingField(_ field: String) -> ToxiproxyError {
        ToxiproxyError(status: 400, message: "missing required field: \(field)")
    }

    /// The answer.
    var response: ControlResponse {
        .json(status, body)
    }

    /// `{"error": message, "status": status}`.
    var body: JSONValue {
        ["error": .string(message), "status": .integer(Int64(status))]
    }
}
