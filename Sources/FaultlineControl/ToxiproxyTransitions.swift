import FaultlineConfig
import FaultlineCore

/// Toxiproxy's API as pure transitions of `ControlState` (SPEC §4): a proxy is a route, a toxic is
/// a fault `toxiproxy.<proxy>.<toxic>` on that route. Each transition proposes one new state
/// (one plan, one answer) or refuses with a Toxiproxy error; `ToxiproxyCompatibility` puts it in
/// force through `ControlState.perform`, so the journal and metrics see ordinary route and fault
/// changes.
///
/// (Named `Toxiproxy…` rather than `ControlState+Toxiproxy` to keep the Toxiproxy seam in files of
/// its own.)
extension ControlState {
    // MARK: Views

    /// The address a proxy shows as `listen`: the bound one (port 0 resolved) while it listens,
    /// else the configured one — as Toxiproxy shows the address it bound.
    func toxiproxyListen(_ route: ManagedRoute) -> Endpoint {
        boundAddresses[route.spec.name] ?? route.spec.listen
    }

    /// The toxics of `proxy`: upstream ones first, then downstream, each in apply order (Toxiproxy's
    /// chain order).
    func toxics(of proxy: String) -> [ToxiproxyToxic] {
        let all = faults.compactMap { ToxiproxyToxic(fault: $0.spec, proxy: proxy) }
        return all.filter { $0.stream == .upstream } + all.filter { $0.stream == .downstream }
    }

    /// A proxy in Toxiproxy's shape: `{"name", "listen", "upstream", "enabled", "toxics"}`.
    func toxiproxyJSON(_ route: ManagedRoute) -> JSONValue {
        [
            "name": .string(route.spec.name), "listen": .string(toxiproxyListen(route).description),
            "upstream": .string(route.spec.upstream.description), "enabled": .bool(route.spec.enabled),
            "toxics": .array(toxics(of: route.spec.name).map(\.json)),
        ]
    }

    /// `GET /proxies`: an object of every route by name, keys sorted (as Go marshals a map).
    var toxiproxyProxiesJSON: JSONValue {
        var object = JSONObject()
        for route in routes.sorted(by: { $0.spec.name < $1.spec.name }) { object[route.spec.name] = toxiproxyJSON(route) }
        return .object(object)
    }

    // MARK: Proxies

    /// `POST /proxies`: a new route (TCP, origin runtime). `listen` defaults to `127.0.0.1:0`.
    func toxiproxyCreateProxy(body: [UInt8]) -> Result<ControlChange, ToxiproxyError> {
        let input: ToxiproxyProxyInput
        switch Self.toxiproxyObject(body).flatMap(ToxiproxyProxyInput.parse) {
        case .success(let value): input = value
        case .failure(let error): return .failure(error)
        }
        guard let name = input.name, !name.isEmpty else { return .failure(.missingField("name")) }
        guard let upstream = input.upstream, !upstream.isEmpty else { return .failure(.missingField("upstream")) }
        if route(named: name) != nil { return .failure(.proxyExists) }
        let spec: RouteSpec
        switch Self.toxiproxyRoute(name: name, listen: input.listen, upstream: upstream, enabled: input.enabled ?? true) {
        case .success(let value): spec = value
        case .failure(let error): return .failure(error)
        }
        var proposed = self
        proposed.routes.append(ManagedRoute(spec: spec, origin: .runtime))
        if let error = proposed.toxiproxyListenConflict(spec.name) { return .failure(error) }
        return .success(ControlChange(proposed: proposed, reply: .noContent, events: [ControlEvents.routeAdded(spec)]))
    }

    /// `POST`/`PATCH /proxies/{name}`: `listen`, `upstream` and `enabled`, each defaulting to the
    /// proxy's current value (a client that sends the proxy back unchanged changes nothing).
    ///
    /// Disabling closes the listener and the proxy's connections. A proxy listening on a port it
    /// was given as 0 keeps that port across disable and enable, as in Toxiproxy (its listen
    /// address is pinned to the bound one when it is disabled).
    /// - Returns: nil when nothing changes.
    func toxiproxyUpdateProxy(named name: String, body: [UInt8]) -> Result<ControlChange?, ToxiproxyError> {
        guard let index = routes.firstIndex(where: { $0.spec.name == name }) else { return .failure(.proxyNotFound) }
        let input: ToxiproxyProxyInput
        switch Self.toxiproxyObject(body).flatMap(ToxiproxyProxyInput.parse) {
        case .success(let value): input = value
        case .failure(let error): return .failure(error)
        }
        if let given = input.name, given != name {
            return .failure(.badBody("a proxy cannot be renamed (name \"\(given)\" in the body of proxy \"\(name)\")"))
        }
        let old = routes[index].spec
        var spec = old
        if let listen = input.listen, !listen.isEmpty {
            guard let endpoint = Self.toxiproxyEndpoint(listen) else { return .failure(.badBody("listen: \"\(listen)\" is not a valid address")) }
            if endpoint != toxiproxyListen(routes[index]) { spec.listen = endpoint }
        }
        if let upstream = input.upstream, !upstream.isEmpty {
            guard let address = UpstreamAddress(parsing: Self.toxiproxyAddressText(upstream)) else {
                return .failure(.badBody("upstream: \"\(upstream)\" is not a valid address"))
            }
            spec.upstream = address
        }
        if let enabled = input.enabled { spec.enabled = enabled }
        if old.enabled, !spec.enabled, spec.listen == old.listen, spec.listen.port == 0, let bound = boundAddresses[name] {
            spec.listen = bound
        }
        if spec == old { return .success(nil) }
        var events: [JournalEvent] = []
        if spec.listen != old.listen || spec.upstream != old.upstream { events.append(ControlEvents.routeUpdated(spec)) }
        if spec.enabled != old.enabled { events.append(ControlEvents.routeEnabled(name, spec.enabled)) }
        var proposed = self
        proposed.routes[index].spec = spec
        if spec.listen != old.listen, let error = proposed.toxiproxyListenConflict(name) { return .failure(error) }
        return .success(ControlChange(proposed: proposed, reply: .noContent, events: events))
    }

    /// `DELETE /proxies/{name}`: the route and its toxics go together. 409 while a fault that is
    /// not one of its toxics names the route.
    func toxiproxyDeleteProxy(named name: String) -> Result<ControlChange, ToxiproxyError> {
        guard let index = routes.firstIndex(where: { $0.spec.name == name }) else { return .failure(.proxyNotFound) }
        var proposed = self
        var events: [JournalEvent] = []
        proposed.faults.removeAll { fault in
            guard ToxiproxyToxic(fault: fault.spec, proxy: name) != nil else { return false }
            events.append(ControlEvents.faultCleared(fault.spec.id, reason: "api"))
            return true
        }
        let users = proposed.faults.filter { fault in
            if case .names(let names) = fault.spec.routes { return names.contains(name) }
            return false
        }.map(\.spec.id)
        if !users.isEmpty {
            let list = users.map { "\"\($0)\"" }.joined(separator: ", ")
            return .failure(ToxiproxyError(status: 409, message: "proxy \"\(name)\" is named by fault \(list); clear it first"))
        }
        proposed.routes.remove(at: index)
        events.append(ControlEvents.routeRemoved(name))
        return .success(ControlChange(proposed: proposed, reply: .noContent, events: events))
    }

    /// `POST /populate` with a list of proxies: each is created, kept (same listen and upstream
    /// as now: its toxics stay) or replaced (its toxics go), all in one plan. Every entry is
    /// checked before anything changes.
    /// - Returns: the change (nil when nothing changes) and the proxy names in request order.
    func toxiproxyPopulate(body: [UInt8]) -> Result<(ControlChange?, [String]), ToxiproxyError> {
        guard !body.isEmpty else { return .failure(.badBody("request body is empty; expected a list of proxies")) }
        let items: [JSONValue]
        switch JSONParser.parse(bytes: body) {
        case .success(.array(let values)): items = values
        case .success(let other): return .failure(.badBody("expected a list of proxies, got \(other.kindName)"))
        case .failure(let error): return .failure(.badBody(error.message))
        }
        var proposed = self
        var events: [JournalEvent] = []
        var names: [String] = []
        for (offset, item) in items.enumerated() {
            let number = offset + 1
            guard case .object(let object) = item else { return .failure(.badBody("proxy \(number): expected an object, got \(item.kindName)")) }
            let input: ToxiproxyProxyInput
            switch ToxiproxyProxyInput.parse(object) {
            case .success(let value): input = value
            case .failure(let error): return .failure(error)
            }
            guard let name = input.name, !name.isEmpty else { return .failure(.missingField("name at proxy \(number)")) }
            guard let upstream = input.upstream, !upstream.isEmpty else { return .failure(.missingField("upstream at proxy \(number)")) }
            if names.contains(name) { return .failure(.badBody("duplicate proxy name \"\(name)\"")) }
            names.append(name)
            let spec: RouteSpec
            switch Self.toxiproxyRoute(name: name, listen: input.listen, upstream: upstream, enabled: input.enabled ?? true) {
            case .success(let value): spec = value
            case .failure(let error): return .failure(error)
            }
            guard let index = proposed.routes.firstIndex(where: { $0.spec.name == name }) else {
                proposed.routes.append(ManagedRoute(spec: spec, origin: .runtime))
                events.append(ControlEvents.routeAdded(spec))
                continue
            }
            let current = proposed.routes[index]
            if proposed.toxiproxyListen(current) == spec.listen && current.spec.upstream == spec.upstream { continue }
            proposed.faults.removeAll { fault in
                guard ToxiproxyToxic(fault: fault.spec, proxy: name) != nil else { return false }
                events.append(ControlEvents.faultCleared(fault.spec.id, reason: "api"))
                return true
            }
            proposed.routes[index].spec = spec
            events.append(ControlEvents.routeRemoved(name))
            events.append(ControlEvents.routeAdded(spec))
        }
        for name in names {
            if let error = proposed.toxiproxyListenConflict(name) { return .failure(error) }
        }
        return .success((events.isEmpty ? nil : ControlChange(proposed: proposed, reply: .noContent, events: events), names))
    }

    /// `POST /reset`: every route enabled, every toxic removed (faults made through `/v1` stay).
    /// - Returns: nil when nothing changes.
    func toxiproxyReset() -> ControlChange? {
        var proposed = self
        var events: [JournalEvent] = []
        for index in proposed.routes.indices where !proposed.routes[index].spec.enabled {
            proposed.routes[index].spec.enabled = true
            events.append(ControlEvents.routeEnabled(proposed.routes[index].spec.name, true))
        }
        let names = routes.map(\.spec.name)
        proposed.faults.removeAll { fault in
            guard names.contains(where: { ToxiproxyToxic(fault: fault.spec, proxy: $0) != nil }) else { return false }
            events.append(ControlEvents.faultCleared(fault.spec.id, reason: "api"))
            return true
        }
        return events.isEmpty ? nil : ControlChange(proposed: proposed, reply: .noContent, events: events)
    }

    // MARK: Toxics

    /// `POST /proxies/{proxy}/toxics`: `type` (required), `name` (default `<type>_<stream>`),
    /// `stream` (default `downstream`), `toxicity` (default 1), `attributes` (missing ones 0).
    /// Checks run in Toxiproxy's order (stream, type, name taken), except that the attributes are
    /// read before the name is looked up.
    func toxiproxyAddToxic(proxy: String, body: [UInt8]) -> Result<(ControlChange, ToxiproxyToxic), ToxiproxyError> {
        guard route(named: proxy) != nil else { return .failure(.proxyNotFound) }
        let object: JSONObject
        switch Self.toxiproxyObject(body) {
        case .success(let value): object = value
        case .failure(let error): return .failure(error)
        }
        for key in object.keys where !["name", "type", "stream", "toxicity", "attributes"].contains(key) {
            return .failure(.badBody("unknown field \"\(key)\" (expected name, type, stream, toxicity or attributes)"))
        }
        var stream = Flow.downstream
        if let value = object["stream"], !value.isNull {
            guard case .string(let text) = value else { return .failure(.badBody("stream: expected a string, got \(value.kindName)")) }
            switch text.lowercased() {
            case "upstream": stream = .upstream
            case "downstream": stream = .downstream
            default: return .failure(.invalidStream)
            }
        }
        var typeText = ""
        if let value = object["type"], !value.isNull {
            guard case .string(let text) = value else { return .failure(.badBody("type: expected a string, got \(value.kindName)")) }
            typeText = text
        }
        var name = "\(typeText)_\(stream.label)"
        if let value = object["name"], !value.isNull {
            guard case .string(let text) = value else { return .failure(.badBody("name: expected a string, got \(value.kindName)")) }
            if !text.isEmpty { name = text }
        }
        guard let type = ToxiproxyToxicType(rawValue: typeText) else { return .failure(.invalidToxicType) }
        // The body is read in full before the name is looked up: a misspelt attribute is 400
        // even when the name is taken (409 would send the user after the wrong problem).
        var toxicity = 1.0
        if let value = object["toxicity"], !value.isNull {
            guard let number = value.doubleValue else { return .failure(.badBody("toxicity: expected a number, got \(value.kindName)")) }
            toxicity = number
        }
        let attributes: [Int64]
        switch Self.toxiproxyAttributes(object["attributes"]).flatMap({ ToxiproxyToxic.attributes(of: type, from: $0) }) {
        case .success(let values): attributes = values
        case .failure(let error): return .failure(error)
        }
        if toxics(of: proxy).contains(where: { $0.name == name }) { return .failure(.toxicExists) }
        let toxic = ToxiproxyToxic(name: name, type: type, stream: stream, toxicity: toxicity, attributes: attributes)
        let spec: FaultSpec
        switch toxiproxyFault(toxic, proxy: proxy) {
        case .success(let value): spec = value
        case .failure(let error): return .failure(error)
        }
        if fault(id: spec.id) != nil {
            return .failure(ToxiproxyError(status: 409, message: "toxic already exists: fault id \"\(spec.id)\" is taken"))
        }
        var proposed = self
        proposed.faults.append(ManagedFault(spec: spec, origin: .runtime))
        return .success((ControlChange(proposed: proposed, reply: .noContent, events: [ControlEvents.faultApplied(spec)]), toxic))
    }

    /// `PATCH`/`POST /proxies/{proxy}/toxics/{toxic}`: `attributes` merged into the toxic's,
    /// `toxicity` replaced when given. `name`, `type` and `stream` may be sent back but not changed.
    /// - Returns: the change (nil when nothing changes) and the toxic as it will be.
    func toxiproxyUpdateToxic(proxy: String, toxic name: String, body: [UInt8]) -> Result<(ControlChange?, ToxiproxyToxic), ToxiproxyError> {
        guard route(named: proxy) != nil else { return .failure(.proxyNotFound) }
        guard let old = toxics(of: proxy).first(where: { $0.name == name }) else { return .failure(.toxicNotFound) }
        let object: JSONObject
        switch Self.toxiproxyObject(body) {
        case .success(let value): object = value
        case .failure(let error): return .failure(error)
        }
        var toxic = old
        for member in object.members {
            switch member.key {
            case "attributes":
                switch Self.toxiproxyAttributes(member.value).flatMap({ ToxiproxyToxic.attributes(of: old.type, from: $0, base: old.attributes) }) {
                case .success(let values): toxic.attributes = values
                case .failure(let error): return .failure(error)
                }
            case "toxicity":
                guard !member.value.isNull else { continue }
                guard let number = member.value.doubleValue else { return .failure(.badBody("toxicity: expected a number, got \(member.value.kindName)")) }
                toxic.toxicity = number
            case "name", "type", "stream":
                let current = member.key == "name" ? old.name : member.key == "type" ? old.type.rawValue : old.stream.label
                guard member.value.isNull || member.value.stringValue == current else {
                    return .failure(.badBody("\(member.key) of a toxic cannot be changed (remove it and add a new one)"))
                }
            default:
                return .failure(.badBody("unknown field \"\(member.key)\" (expected attributes or toxicity)"))
            }
        }
        if toxic == old { return .success((nil, old)) }
        let spec: FaultSpec
        switch toxiproxyFault(toxic, proxy: proxy) {
        case .success(let value): spec = value
        case .failure(let error): return .failure(error)
        }
        var proposed = self
        guard let index = faults.firstIndex(where: { $0.spec.id == spec.id }) else { return .failure(.toxicNotFound) }
        proposed.faults[index].spec = spec
        let events = [ControlEvents.faultCleared(spec.id, reason: "api"), ControlEvents.faultApplied(spec)]
        return .success((ControlChange(proposed: proposed, reply: .noContent, events: events), toxic))
    }

    /// `DELETE /proxies/{proxy}/toxics/{toxic}`.
    func toxiproxyRemoveToxic(proxy: String, toxic name: String) -> Result<ControlChange, ToxiproxyError> {
        guard route(named: proxy) != nil else { return .failure(.proxyNotFound) }
        guard toxics(of: proxy).contains(where: { $0.name == name }) else { return .failure(.toxicNotFound) }
        let id = ToxiproxyToxic.faultID(proxy: proxy, toxic: name)
        var proposed = self
        proposed.faults.removeAll { $0.spec.id == id }
        return .success(ControlChange(proposed: proposed, reply: .noContent, events: [ControlEvents.faultCleared(id, reason: "api")]))
    }

    // MARK: Helpers

    /// The fault a toxic maps to, checked again by the fault decoder (the one set of rules every
    /// fault passes), so a toxic can never put in force what `/v1/faults` would refuse.
    private func toxiproxyFault(_ toxic: ToxiproxyToxic, proxy: String) -> Result<FaultSpec, ToxiproxyError> {
        let spec: FaultSpec
        switch toxic.fault(proxy: proxy) {
        case .success(let value): spec = value
        case .failure(let error): return .failure(error)
        }
        switch FaultDecoder.decodeFault(FaultEncoder.encode(spec), path: "", knownRoutes: Set(routes.map(\.spec.name))) {
        case .success: return .success(spec)
        case .failure(let errors):
            let first = errors.errors.first
            return .failure(.badBody("\(first?.path ?? "$"): \(first?.message ?? "invalid toxic")"))
        }
    }

    /// The 409 for route `name` when another route is configured or bound on its listen address,
    /// or on one it overlaps (a wildcard and an address of its family); port 0 never collides.
    private func toxiproxyListenConflict(_ name: String) -> ToxiproxyError? {
        guard let route = route(named: name), route.spec.listen.port != 0 else { return nil }
        let owner = routes.first { other in
            guard other.spec.name != name else { return false }
            return [other.spec.listen, boundAddresses[other.spec.name]].contains { address in
                address.map { ListenConflict.between(route.spec.listen, $0) != nil } ?? false
            }
        }
        guard let owner else { return nil }
        return ToxiproxyError(status: 409, message: "listen address \(route.spec.listen) is used by proxy \"\(owner.spec.name)\"")
    }

    /// A TCP route from Toxiproxy's fields, checked by the config decoder's route rules.
    private static func toxiproxyRoute(name: String, listen: String?, upstream: String, enabled: Bool) -> Result<RouteSpec, ToxiproxyError> {
        var listenText = listen ?? ""
        // Toxiproxy binds "" on every interface; Faultline stays on loopback unless told otherwise.
        if listenText.isEmpty { listenText = "127.0.0.1:0" }
        let value: JSONValue = [
            "name": .string(name), "listen": .string(toxiproxyAddressText(listenText)),
            "upstream": .string(toxiproxyAddressText(upstream)), "protocol": "tcp", "enabled": .bool(enabled),
        ]
        switch decodeRoute(value) {
        case .success(let spec): return .success(spec)
        case .failure(let errors):
            let first = errors.errors.first
            return .failure(.badBody("\(first?.path ?? "$"): \(first?.message ?? "invalid proxy")"))
        }
    }

    /// An address as Toxiproxy clients write it: `:8080` (Go's any-host form) means loopback here.
    private static func toxiproxyAddressText(_ text: String) -> String {
        text.hasPrefix(":") ? "127.0.0.1" + text : text
    }

    private static func toxiproxyEndpoint(_ text: String) -> Endpoint? {
        Endpoint(parsing: toxiproxyAddressText(text))
    }

    /// The body as one JSON object, or 400.
    static func toxiproxyObject(_ body: [UInt8]) -> Result<JSONObject, ToxiproxyError> {
        guard !body.isEmpty else { return .failure(.badBody("request body is empty; expected a JSON object")) }
        switch JSONParser.parse(bytes: body) {
        case .success(.object(let object)): return .success(object)
        case .success(let other): return .failure(.badBody("expected a JSON object, got \(other.kindName)"))
        case .failure(let error): return .failure(.badBody(error.message))
        }
    }

    /// `attributes`: an object, or absent/null for none.
    private static func toxiproxyAttributes(_ value: JSONValue?) -> Result<JSONObject, ToxiproxyError> {
        switch value {
        case nil, .null?: return .success(JSONObject())
        case .object(let object)?: return .success(object)
        case let other?: return .failure(.badBody("attributes: expected an object, got \(other.kindName)"))
        }
    }
}

/// The fields of a proxy body. `toxics` is accepted and ignored: the official Go client sends
/// the whole proxy back when it saves one.
struct ToxiproxyProxyInput {
    var name: String?
    var listen: String?
    var upstream: String?
    var enabled: Bool?

    /// The fields of `object`, or 400 for a wrong type or an unknown field.
    static func parse(_ object: JSONObject) -> Result<ToxiproxyProxyInput, ToxiproxyError> {
        do throws(ToxiproxyError) {
            return .success(try ToxiproxyProxyInput(object: object))
        } catch {
            return .failure(error)
        }
    }

    private init(object: JSONObject) throws(ToxiproxyError) {
        for member in object.members {
            let value = member.value
            switch member.key {
            case "name", "listen", "upstream":
                guard !value.isNull else { continue }
                guard case .string(let text) = value else {
                    throw .badBody("\(member.key): expected a string, got \(value.kindName)")
                }
                switch member.key {
                case "name": name = text
                case "listen": listen = text
                default: upstream = text
                }
            case "enabled":
                guard !value.isNull else { continue }
                guard case .bool(let flag) = value else { throw .badBody("enabled: expected a boolean, got \(value.kindName)") }
                enabled = flag
            case "toxics":
                continue
            default:
                throw .badBody("unknown field \"\(member.key)\" (expected name, listen, upstream or enabled)")
            }
        }
    }
}
