public import FaultlineConfig
public import FaultlineHTTP1

/// One control-API answer: status, headers (without Content-Length, which the server adds) and
/// body.
public struct ControlResponse: Sendable, Hashable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON answer (compact, with a final newline).
    public static func json(_ status: Int, _ value: JSONValue) -> ControlResponse {
        ControlResponse(
            status: status, headers: ["Content-Type": "application/json"], body: Array((JSONWriter.render(value) + "\n").utf8)
        )
    }

    /// A plain-text answer.
    public static func text(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8") -> ControlResponse {
        ControlResponse(status: status, headers: ["Content-Type": contentType], body: Array(text.utf8))
    }

    /// 204 with no body.
    public static let noContent = ControlResponse(status: 204)

    /// The error shape of SPEC §4: `{"error": {"code", "message", "path"?}}`, plus `"errors"`
    /// listing every problem when there are several (config and body validation).
    public static func error(
        _ status: Int, code: String, message: String, path: String? = nil, errors: [ConfigError] = []
    ) -> ControlResponse {
        var detail = JSONObject()
        detail["code"] = .string(code)
        detail["message"] = .string(message)
        if let path { detail["path"] = .string(path) }
        var object = JSONObject()
        object["error"] = .object(detail)
        if !errors.isEmpty {
            object["errors"] = .array(errors.map { error in
                var item = JSONObject()
                item["path"] = .string(error.path)
                item["message"] = .string(error.message)
                return .object(item)
            })
        }
        return json(status, .object(object))
    }

    /// A validation failure: 422 whose `error` is the first problem and `errors` all of them.
    public static func invalid(code: String, _ errors: ConfigErrors) -> ControlResponse {
        let first = errors.errors.first ?? ConfigError(path: "$", message: "invalid")
        return error(422, code: code, message: first.message, path: first.path, errors: errors.errors)
    }

    /// A method the path does not support: 405 with `Allow`.
    public static func methodNotAllowed(_ method: String, path: String, allowed: [String]) -> ControlResponse {
        var response = error(405, code: "method_not_allowed", message: "\(method) is not allowed on \(path)")
        response.headers.append(name: "Allow", value: allowed.joined(separator: ", "))
        return response
    }

    /// No such resource.
    public static func notFound(_ message: String) -> ControlResponse {
        error(404, code: "not_found", message: message)
    }

    /// An endpoint of SPEC §4 that this build does not serve yet.
    public static func notImplemented(_ method: String, _ path: String) -> ControlResponse {
        error(501, code: "not_implemented", message: "\(method) \(path) is not implemented yet")
    }

    /// The body parsed as JSON, for tests and clients.
    public var jsonBody: JSONValue? {
        try? JSONParser.parse(bytes: body).get()
    }
}
