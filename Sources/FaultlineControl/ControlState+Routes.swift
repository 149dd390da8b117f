import FaultlineConfig
import FaultlineCore

/// Route transitions: `POST /v1/routes`, `PATCH` and `DELETE /v1/routes/{name}`.
extension ControlState {
    /// Adds a route from a body shaped like a config file's `routes[]` entry.
    ///
    /// 400 for a body that is not JSON, 422 `invalid_route` for a bad route (every problem, paths
    /// relative to the body), 409 `route_exists` for a taken name, 409 `address_in_use` for a
    /// listen address another route has.
    public func addRoute(body: [UInt8]) -> ControlOutcome {
        let value: JSONValue
        switch ControlBody.parse(body, invalidCode: "invalid_route") {
        case .success(let parsed): value = parsed
        case .failure(let failure): return .reply(failure.response)
        }
        let spec: RouteSpec
        switch Self.decodeRoute(value) {
        case .success(let decoded): spec = decoded
        case .failure(let errors): return .reply(.invalid(code: "invalid_route", errors))
        }
        if route(named: spec.name) != nil {
            return .reply(.error(409, code: "route_exists", message: "a route named \"\(spec.name)\" already exists", path: "name"))
        }
        if let conflict = listenConflict(spec.listen, except: nil) {
            return .reply(.error(409, code: "address_in_use", message: conflict, path: "listen"))
        }
        var proposed = self
        proposed.routes.append(ManagedRoute(spec: spec, origin: .runtime))
        return .change(ControlChange(proposed: proposed, reply: .route(name: spec.name, status: 201), events: [ControlEvents.routeAdded(spec)]))
    }

    /// Changes a route: body keys `enabled` (boolean), `listen` and `upstream` (addresses); any
    /// other key is 422 `invalid_route`. An unchanged route answers 200 without a new plan.
    public func updateRoute(named name: String, body: [UInt8]) -> ControlOutcome {
        guard let index = routes.firstIndex(where: { $0.spec.name == name }) else {
            return .reply(.notFound("no route named \"\(name)\""))
        }
        let value: JSONValue
        switch ControlBody.parse(body, invalidCode: "invalid_route") {
        case .success(let parsed): value = parsed
        case .failure(let failure): return .reply(failure.response)
        }
        guard case .object(let object) = value else {
            return .reply(.invalid(code: "invalid_route", ConfigErrors([ConfigError(path: "$", message: "expected an object, got \(value.kindName)")])))
        }
        var spec = routes[index].spec
        var errors: [ConfigError] = []
        for member in object.members {
            switch member.key {
            case "enabled":
                if case .bool(let flag) = member.value { spec.enabled = flag } else {
                    errors.append(ConfigError(path: "enabled", message: "expected a boolean, got \(member.value.kindName)"))
                }
            case "listen", "upstream":
                guard case .string(let text) = member.value else {
                    errors.append(ConfigError(path: member.key, message: "expected a string, got \(member.value.kindName)"))
                    continue
                }
                let invalid = ConfigError(path: member.key, message: "\(JSONWriter.render(.string(text))) is not a valid address")
                if member.key == "listen" {
                    guard let endpoint = Endpoint(parsing: text) else { errors.append(invalid); continue }
                    spec.listen = endpoint
                } else {
                    guard let upstream = UpstreamAddress(parsing: text) else { errors.append(invalid); continue }
                    spec.upstream = upstream
                }
            default:
                errors.append(ConfigError(path: member.key, message: "unknown key (expected enabled, listen or upstream)"))
            }
        }
        if !errors.isEmpty { return .reply(.invalid(code: "invalid_route", ConfigErrors(errors))) }
        let old = routes[index].spec
        if spec == old { return .reply(.json(200, json(routes[index]))) }
        if spec.listen != old.listen, let conflict = listenConflict(spec.listen, except: name) {
            return .reply(.error(409, code: "address_in_use", message: conflict, path: "listen"))
        }
        var events: [JournalEvent] = []
        if spec.listen != old.listen || spec.upstream != old.upstream { events.append(ControlEvents.routeUpdated(spec)) }
        if spec.enabled != old.enabled { events.append(ControlEvents.routeEnabled(name, spec.enabled)) }
        var proposed = self
        proposed.routes[index].spec = spec
        return .change(ControlChange(proposed: proposed, reply: .route(name: name, status: 200), events: events))
    }

    /// Removes a route. 409 `route_in_use` while a fault names it (clear the fault first).
    public func removeRoute(named name: String) -> ControlOutcome {
        guard let index = routes.firstIndex(where: { $0.spec.name == name }) else {
            return .reply(.notFound("no route named \"\(name)\""))
        }
        let users = faults.filter { fault in
            if case .names(let names) = fault.spec.routes { return names.contains(name) }
            return false
        }.map(\.spec.id)
        if !users.isEmpty {
            return .reply(.error(409, code: "route_in_use", message: "route \"\(name)\" is named by fault \(users.map { "\"\($0)\"" }.joined(separator: ", ")); clear it first"))
        }
        var proposed = self
        proposed.routes.remove(at: index)
        return .change(ControlChange(proposed: proposed, reply: .noContent, events: [ControlEvents.routeRemoved(name)]))
    }

    /// Why `endpoint` cannot be bound next to the routes other than `except` (configured or bound
    /// addresses, the same one or a wildcard and an address of its family on the same port), or
    /// nil; port 0 never collides.
    private func listenConflict(_ endpoint: Endpoint, except: String?) -> String? {
        guard endpoint.port != 0 else { return nil }
        for route in routes where route.spec.name != except {
            for other in [route.spec.listen, boundAddresses[route.spec.name]].compactMap({ $0 }) {
                switch ListenConflict.between(endpoint, other) {
                case .duplicate: return "listen address \(endpoint) is used by route \"\(route.spec.name)\""
                case .overlaps: return "listen address \(endpoint) overlaps \(other) of route \"\(route.spec.name)\""
                case nil: continue
                }
            }
        }
        return nil
    }

    /// Decodes one route object with the config decoder's rules, by decoding a one-route config:
    /// errors come back with paths relative to the object (`listen`, not `routes[0].listen`).
    static func decodeRoute(_ value: JSONValue) -> Result<RouteSpec, ConfigErrors> {
        let document: JSONValue = ["version": 1, "routes": [value]]
        switch ConfigDecoder.decode(document) {
        case .success(let config):
            guard let route = config.routes.first else {
                return .failure(ConfigErrors([ConfigError(path: "$", message: "expected a route object")]))
            }
            return .success(route)
        case .failure(let errors):
            return .failure(ConfigErrors(errors.errors.map { error in
                let prefix = "routes[0]"
                var path = error.path
                if path == prefix {
                    path = "$"
                } else if path.hasPrefix(prefix + ".") {
                    path = String(path.dropFirst(prefix.count + 1))
                } else if path.hasPrefix(prefix + "[") {
                    path = "$" + path.dropFirst(prefix.count)
                }
                return ConfigError(path: path, message: error.message)
            }))
        }
    }
}
