import FaultlineConfig
import FaultlineCore

/// Toxiproxy 2.12's HTTP API on the TCP control listener (SPEC §4): `GET /version`,
/// `/proxies…`, `POST /reset`, `POST /populate`, with Toxiproxy's JSON shapes, status codes and
/// error bodies (`{"error": "...", "status": N}`), so existing Toxiproxy clients work unchanged.
///
/// A proxy is a Faultline route and a toxic a fault `toxiproxy.<proxy>.<toxic>` on it (see
/// `ToxiproxyToxic`); every change is a `ControlState` transition put in force through the
/// service's `perform`, so it reaches open connections before the answer, and the journal and
/// metrics record it like any other. Query strings are ignored, as Toxiproxy does.
struct ToxiproxyCompatibility {
    /// The Toxiproxy release whose API this serves, answered by `GET /version`.
    static let apiVersion = "2.12.0"

    /// Whether a first path segment belongs to Toxiproxy's API.
    static func ownsPath(_ firstSegment: String) -> Bool {
        ["version", "proxies", "reset", "populate"].contains(firstSegment)
    }

    /// Answers one Toxiproxy request.
    /// - Parameters:
    ///   - state: the state in force (read again after `perform`, to render what was committed).
    ///   - perform: puts an outcome in force (`ControlService.perform`).
    func handle(
        _ request: ControlRequest, state: () -> ControlState, perform: (ControlOutcome) -> ControlResponse
    ) -> ControlResponse {
        let segments = request.segments
        let method = request.method
        /// Puts `change` in force (nil: nothing to change), then answers with `render` of the
        /// committed state.
        func commit(_ change: ControlChange?, _ render: (ControlState) -> ControlResponse) -> ControlResponse {
            if let change {
                let response = perform(.change(change))
                guard response.status == 204 else { return Self.translate(response) }
            }
            return render(state())
        }
        func proxyResponse(_ name: String, status: Int) -> (ControlState) -> ControlResponse {
            { committed in
                guard let route = committed.route(named: name) else { return ToxiproxyError.proxyNotFound.response }
                return .json(status, committed.toxiproxyJSON(route))
            }
        }

        switch segments {
        case ["version"]:
            guard method == "GET" else { return Self.methodNotAllowed(method, request.path, ["GET"]) }
            return .json(200, ["version": .string(Self.apiVersion)])
        case ["reset"]:
            guard method == "POST" else { return Self.methodNotAllowed(method, request.path, ["POST"]) }
            return commit(state().toxiproxyReset()) { _ in .noContent }
        case ["populate"]:
            guard method == "POST" else { return Self.methodNotAllowed(method, request.path, ["POST"]) }
            switch state().toxiproxyPopulate(body: request.body) {
            case .failure(let error):
                var body = error.body.objectValue ?? JSONObject()
                body["proxies"] = .null
                return .json(error.status, .object(body))
            case .success(let (change, names)):
                return commit(change) { committed in
                    .json(201, ["proxies": .array(names.compactMap { committed.route(named: $0).map(committed.toxiproxyJSON) })])
                }
            }
        case ["proxies"]:
            switch method {
            case "GET":
                return .json(200, state().toxiproxyProxiesJSON)
            case "POST":
                switch state().toxiproxyCreateProxy(body: request.body) {
                case .failure(let error): return error.response
                case .success(let change):
                    let name = change.proposed.routes.last?.spec.name ?? ""
                    return commit(change, proxyResponse(name, status: 201))
                }
            default:
                return Self.methodNotAllowed(method, request.path, ["GET", "POST"])
            }
        case _ where segments.count == 2 && segments[0] == "proxies":
            let name = segments[1]
            switch method {
            case "GET":
                guard let route = state().route(named: name) else { return ToxiproxyError.proxyNotFound.response }
                return .json(200, state().toxiproxyJSON(route))
            case "POST", "PATCH":
                switch state().toxiproxyUpdateProxy(named: name, body: request.body) {
                case .failure(let error): return error.response
                case .success(let change): return commit(change, proxyResponse(name, status: 200))
                }
            case "DELETE":
                switch state().toxiproxyDeleteProxy(named: name) {
                case .failure(let error): return error.response
                case .success(let change): return commit(change) { _ in .noContent }
                }
            default:
                return Self.methodNotAllowed(method, request.path, ["GET", "POST", "PATCH", "DELETE"])
            }
        case _ where segments.count == 3 && segments[0] == "proxies" && segments[2] == "toxics":
            let proxy = segments[1]
            switch method {
            case "GET":
                guard state().route(named: proxy) != nil else { return ToxiproxyError.proxyNotFound.response }
                return .json(200, .array(state().toxics(of: proxy).map(\.json)))
            case "POST":
                switch state().toxiproxyAddToxic(proxy: proxy, body: request.body) {
                case .failure(let error): return error.response
                // Toxiproxy answers 200, not 201, for a new toxic.
                case .success(let (change, toxic)): return commit(change) { _ in .json(200, toxic.json) }
                }
            default:
                return Self.methodNotAllowed(method, request.path, ["GET", "POST"])
            }
        case _ where segments.count == 4 && segments[0] == "proxies" && segments[2] == "toxics":
            let (proxy, name) = (segments[1], segments[3])
            switch method {
            case "GET":
                guard state().route(named: proxy) != nil else { return ToxiproxyError.proxyNotFound.response }
                guard let toxic = state().toxics(of: proxy).first(where: { $0.name == name }) else {
                    return ToxiproxyError.toxicNotFound.response
                }
                return .json(200, toxic.json)
            case "POST", "PATCH":
                switch state().toxiproxyUpdateToxic(proxy: proxy, toxic: name, body: request.body) {
                case .failure(let error): return error.response
                case .success(let (change, toxic)): return commit(change) { _ in .json(200, toxic.json) }
                }
            case "DELETE":
                switch state().toxiproxyRemoveToxic(proxy: proxy, toxic: name) {
                case .failure(let error): return error.response
                case .success(let change): return commit(change) { _ in .noContent }
                }
            default:
                return Self.methodNotAllowed(method, request.path, ["GET", "POST", "PATCH", "DELETE"])
            }
        default:
            return ToxiproxyError(status: 404, message: "no Toxiproxy endpoint \(request.path)").response
        }
    }

    /// 405 in Toxiproxy's error shape, with `Allow`.
    private static func methodNotAllowed(_ method: String, _ path: String, _ allowed: [String]) -> ControlResponse {
        var response = ToxiproxyError(status: 405, message: "\(method) is not allowed on \(path)").response
        response.headers.append(name: "Allow", value: allowed.joined(separator: ", "))
        return response
    }

    /// A Faultline answer to a refused change (409 `apply_failed`: a listener could not be bound)
    /// in Toxiproxy's error shape, same status.
    private static func translate(_ response: ControlResponse) -> ControlResponse {
        let message = response.jsonBody?.objectValue?["error"]?.objectValue?["message"]?.stringValue ?? "the change was refused"
        return ToxiproxyError(status: response.status, message: message).response
    }
}
