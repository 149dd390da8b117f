public import FaultlineCore

/// The HTTP faults of SPEC §3.3: their parameters and the `match` / `attempts` / `mark` envelope.
///
/// | type | parameters |
/// |---|---|
/// | `abort` | `status` (200–599; required unless `grpc_status` is given, then default 200), `body` (default `""`), `headers` (object of names to values), `grpc_status` (0–16 or a name such as `"UNAVAILABLE"`), `grpc_message` (only with `grpc_status`) |
/// | `delay` | `delay` (required), `jitter` (default `"0s"`), `phase` (`request` default, `response`) |
/// | `drop_response` | `then` (`reset` default, `close`, `hang`) |
/// | `duplicate` | `copies` (1–10, default 1), `spacing` (default `"0s"`) |
/// | `rst_stream` | `error_code` (0–0xffffffff or an RFC 9113 name such as `"REFUSED_STREAM"`, default `INTERNAL_ERROR`) |
/// | `goaway` | `error_code` (as `rst_stream`, default `NO_ERROR`), `graceful` (default true) |
/// | `window_stall` | none |
extension FaultDecoder {
    static let httpOnlyKeys = ["match", "attempts", "mark"]

    /// Headers an `abort` may not set: the proxy frames its reply itself.
    static let framingHeaders: Set<String> = ["content-length", "transfer-encoding", "connection"]

    /// Why `fault` cannot act where its `route` says, or nil: an HTTP fault naming a route that
    /// does not speak HTTP. (`"*"` is fine: it acts on the http routes only.)
    public static func routeProblem(_ fault: FaultSpec, protocols: [String: RouteProtocol]) -> String? {
        guard fault.kind.isHTTP, case .names(let names) = fault.routes else { return nil }
        for name in names where protocols[name] == .tcp {
            return "fault type \(fault.kind.typeName) acts on http routes; route \(quoted(name)) is tcp"
        }
        return nil
    }

    static func decodeHTTPKind(
        _ typeName: String, _ reader: inout ObjectReader, _ diagnostics: inout Diagnostics
    ) -> FaultKind? {
        func duration(_ key: String, default fallback: Duration? = nil) -> Duration {
            let value = fallback == nil ? reader.require(key, &diagnostics) : reader.take(key)
            guard let value else { return fallback ?? .zero }
            return diagnostics.duration(value, reader.path(key)) ?? .zero
        }
        func errorCode(default fallback: UInt32) -> UInt32 {
            guard let value = reader.take("error_code") else { return fallback }
            return diagnostics.code(
                value, reader.path("error_code"), in: 0...Int64(UInt32.max), names: HTTP2ErrorCode.names, what: "HTTP/2 error code"
            ).map { UInt32($0) } ?? fallback
        }
        switch typeName {
        case "abort":
            // A gRPC answer is an HTTP 200 carrying grpc-status, so with one the status may go unsaid.
            let grpcStatusValue = reader.take("grpc_status")
            var grpcStatus: Int?
            if let value = grpcStatusValue {
                grpcStatus = diagnostics.code(
                    value, reader.path("grpc_status"), in: Int64(GRPCStatusCode.range.lowerBound)...Int64(GRPCStatusCode.range.upperBound),
                    names: GRPCStatusCode.names, what: "gRPC status"
                ).map { Int($0) }
            }
            var grpcMessage = ""
            if let value = reader.take("grpc_message") {
                if grpcStatusValue == nil {
                    diagnostics.add(reader.path("grpc_message"), "only allowed with grpc_status")
                } else {
                    grpcMessage = diagnostics.string(value, reader.path("grpc_message")) ?? ""
                }
            }
            var status = grpcStatusValue == nil ? 500 : 200
            if let value = grpcStatusValue == nil ? reader.require("status", &diagnostics) : reader.take("status") {
                status = diagnostics.integer(value, reader.path("status"), in: 200...599).map { Int($0) } ?? 500
            }
            var body = ""
            if let value = reader.take("body") { body = diagnostics.string(value, reader.path("body")) ?? "" }
            if status == 204 || status == 304, !body.isEmpty {
                // RFC 9110 §6.4.1: these responses end at the head; a body would desync the client.
                diagnostics.add(reader.path("body"), "must be empty for status \(status) (that response has no body)")
            }
            var headers: [HTTPHeaderPair] = []
            if let value = reader.take("headers") {
                headers = decodeHeaderObject(value, path: reader.path("headers"), forbidden: framingHeaders, &diagnostics)
                    .map { HTTPHeaderPair($0.name, $0.value ?? "") }
            }
            return .abort(HTTPAbort(status: status, body: body, headers: headers, grpcStatus: grpcStatus, grpcMessage: grpcMessage))
        case "delay":
            let delay = duration("delay")
            let jitter = duration("jitter", default: .zero)
            var phase = DelayPhase.request
            if let value = reader.take("phase") {
                phase = diagnostics.choice(value, reader.path("phase"), what: "phase", DelayPhase.allCases) ?? .request
            }
            return .delay(delay: delay, jitter: jitter, phase: phase)
        case "drop_response":
            var then = DropThen.reset
            if let value = reader.take("then") {
                then = diagnostics.choice(value, reader.path("then"), what: "value", DropThen.allCases) ?? .reset
            }
            return .dropResponse(then: then)
        case "duplicate":
            var copies = 1
            if let value = reader.take("copies") {
                copies = diagnostics.integer(value, reader.path("copies"), in: 1...10).map { Int($0) } ?? 1
            }
            return .duplicate(copies: copies, spacing: duration("spacing", default: .zero))
        case "rst_stream":
            return .rstStream(errorCode: errorCode(default: HTTP2ErrorCode.internalError))
        case "goaway":
            let errorCode = errorCode(default: HTTP2ErrorCode.noError)
            var graceful = true
            if let value = reader.take("graceful") { graceful = diagnostics.bool(value, reader.path("graceful")) ?? true }
            return .goaway(errorCode: errorCode, graceful: graceful)
        case "window_stall":
            return .windowStall
        default:
            return nil
        }
    }

    /// `match`, `attempts` and `mark` of an HTTP fault.
    static func decodeHTTPRule(_ reader: inout ObjectReader, _ diagnostics: inout Diagnostics) -> HTTPFaultRule {
        var rule = HTTPFaultRule()
        if let value = reader.take("match") { rule.match = decodeMatch(value, path: reader.path("match"), &diagnostics) }
        if let value = reader.take("attempts") {
            rule.attempts = decodeAttempts(value, path: reader.path("attempts"), &diagnostics)
        }
        if let value = reader.take("mark") { rule.mark = diagnostics.bool(value, reader.path("mark")) ?? false }
        return rule
    }

    private static func decodeMatch(_ value: JSONValue, path: String, _ diagnostics: inout Diagnostics) -> HTTPMatch? {
        guard var reader = ObjectReader(value, path: path, diagnostics: &diagnostics) else { return nil }
        var match = HTTPMatch()
        if let value = reader.take("method") {
            let methodPath = reader.path("method")
            func method(_ value: JSONValue, _ path: String, _ diagnostics: inout Diagnostics) -> String? {
                guard let text = diagnostics.string(value, path) else { return nil }
                guard !text.isEmpty, text.utf8.allSatisfy(HTTPMatch.isTokenByte) else {
                    diagnostics.add(path, "\(quoted(text)) is not an HTTP method")
                    return nil
                }
                return text
            }
            switch value {
            case .array(let items):
                if items.isEmpty { diagnostics.add(methodPath, "must name at least one method") }
                match.methods = items.enumerated().compactMap { method($1, JSONPath.index(methodPath, $0), &diagnostics) }
            default:
                match.methods = method(value, methodPath, &diagnostics).map { [$0] }
            }
        }
        for key in ["path", "path_prefix"] {
            guard let value = reader.take(key), let text = diagnostics.string(value, reader.path(key)) else { continue }
            guard text.hasPrefix("/") else {
                diagnostics.add(reader.path(key), "must start with \"/\", got \(quoted(text))")
                continue
            }
            guard !text.contains("?") else {
                // Matching compares the path before `?`, so a query here could never match.
                diagnostics.add(reader.path(key), "must not contain \"?\" (the query is not part of the path), got \(quoted(text))")
                continue
            }
            if key == "path" { match.path = text } else { match.pathPrefix = text }
        }
        if let value = reader.take("headers") {
            match.headers = decodeHeaderObject(value, path: reader.path("headers"), forbidden: [], &diagnostics)
                .map { HTTPHeaderMatch(name: $0.name, value: $0.value == "*" ? nil : $0.value) }
        }
        reader.reportUnknownKeys(&diagnostics, message: "unknown key for match (expected method, path, path_prefix, headers)")
        return match
    }

    private static func decodeAttempts(_ value: JSONValue, path: String, _ diagnostics: inout Diagnostics) -> Attempts? {
        guard var reader = ObjectReader(value, path: path, diagnostics: &diagnostics) else { return nil }
        var key: AttemptKey?
        if let value = reader.require("key", &diagnostics), let text = diagnostics.string(value, reader.path("key")) {
            key = AttemptKey(text: text)
            if key == nil {
                diagnostics.add(
                    reader.path("key"),
                    "unknown attempts key \(quoted(text)) (expected header:NAME, path, method+path or connection)")
            }
        }
        var first: Int?
        if let value = reader.require("first", &diagnostics) {
            first = diagnostics.integer(value, reader.path("first"), in: 1...Int64.max).map { Int($0) }
        }
        reader.reportUnknownKeys(&diagnostics, message: "unknown key for attempts (expected key, first)")
        guard let key, let first else { return nil }
        return Attempts(key: key, first: first)
    }

    /// An object of header names to string values, in order; names must be HTTP tokens and values
    /// free of control characters.
    private static func decodeHeaderObject(
        _ value: JSONValue, path: String, forbidden: Set<String>, _ diagnostics: inout Diagnostics
    ) -> [(name: String, value: String?)] {
        guard case .object(let object) = value else {
            diagnostics.add(path, "expected an object of header names to values, got \(value.kindName)")
            return []
        }
        var headers: [(name: String, value: String?)] = []
        var seen: [String: String] = [:]
        for name in object.keys {
            let headerPath = JSONPath.child(path, name)
            guard !name.isEmpty, name.utf8.allSatisfy(HTTPMatch.isTokenByte) else {
                diagnostics.add(headerPath, "\(quoted(name)) is not a valid header name")
                continue
            }
            if let earlier = seen[name.lowercased()] {
                diagnostics.add(headerPath, "header \(quoted(name)) is also given as \(quoted(earlier)) (names are case-insensitive)")
                continue
            }
            seen[name.lowercased()] = name
            if forbidden.contains(name.lowercased()) {
                diagnostics.add(headerPath, "\(name) is set by the proxy and cannot be given")
                continue
            }
            guard let text = diagnostics.string(object[name]!, headerPath) else { continue }
            guard text.unicodeScalars.allSatisfy({ $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }) else {
                diagnostics.add(headerPath, "header value must not contain control characters")
                continue
            }
            headers.append((name, text))
        }
        return headers
    }
}
