/// Why a control-API call failed: the daemon refused it, it could not be reached, or its answer
/// was not understood.
///
/// For a refusal, `status`, `code`, `message` and `path` are the daemon's error body
/// (`{"error": {"code": "invalid_fault", "message": "…", "path": "delay"}}`), and `problems` its
/// `errors` list when it sent one (422 answers list every problem found).
public struct FaultlineClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which side the failure came from.
    public enum Kind: Sendable, Hashable {
        /// The daemon answered with an error status (4xx, 5xx); nothing was changed.
        case rejected
        /// No answer: the socket is missing, the connection was refused or reset, or the call
        /// timed out.
        case unreachable
        /// An answer came that is not the HTTP/JSON the control API sends.
        case invalidResponse
        /// The call could not be made as asked (a malformed URL, an unsupported scheme).
        case invalidRequest
    }

    /// One problem of a validation failure: the JSON path inside the request body and what is
    /// wrong there.
    public struct Problem: Sendable, Hashable {
        /// JSON path of the offending value (`delay`, `groups[1][0]`, `$`).
        public var path: String
        /// What is wrong with it.
        public var message: String

        /// A problem at `path`.
        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }

    /// Which side the failure came from.
    public var kind: Kind
    /// The HTTP status of a refusal; nil when no answer arrived.
    public var status: Int?
    /// The daemon's error code (`fault_exists`, `not_found`, `invalid_fault`, …), or for failures
    /// without an answer `unreachable`, `invalid_response` or `invalid_request`.
    public var code: String
    /// A sentence saying what went wrong.
    public var message: String
    /// The JSON path of the offending value, when the daemon named one.
    public var path: String?
    /// Every problem of a validation failure (the first is `path`/`message`); empty otherwise.
    public var problems: [Problem]

    /// An error with every field given.
    public init(kind: Kind, status: Int? = nil, code: String, message: String, path: String? = nil, problems: [Problem] = []) {
        self.kind = kind
        self.status = status
        self.code = code
        self.message = message
        self.path = path
        self.problems = problems
    }

    /// `code: message (at path)`, the path part only when there is one.
    public var description: String {
        var text = "\(code): \(message)"
        if let path { text += " (at \(path))" }
        return text
    }

    static func unreachable(_ message: String) -> FaultlineClientError {
        FaultlineClientError(kind: .unreachable, code: "unreachable", message: message)
    }

    static func invalidResponse(_ message: String) -> FaultlineClientError {
        FaultlineClientError(kind: .invalidResponse, code: "invalid_response", message: message)
    }

    static func invalidRequest(_ message: String) -> FaultlineClientError {
        FaultlineClientError(kind: .invalidRequest, code: "invalid_request", message: message)
    }
}
