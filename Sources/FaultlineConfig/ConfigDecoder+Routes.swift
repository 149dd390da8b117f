internal import FaultlineCore

/// `routes[]` and `faults[]`: each entry on its own, then names, ids and listen addresses against
/// each other.
extension ConfigDecoder {
    /// The routes that decoded cleanly, and the name of every route that has one (even a route with
    /// other errors), so faults naming it are not also reported.
    static func decodeRoutes(
        _ value: JSONValue, _ diagnostics: inout Diagnostics
    ) -> (routes: [RouteSpec], names: Set<String>) {
        guard let items = diagnostics.array(value, "routes") else { return ([], []) }
        var routes: [RouteSpec] = []
        var names: [String: Int] = [:]
        var listens = ListenAddressIndex<ListenOwner>()
        for (index, item) in items.enumerated() {
            let path = JSONPath.index("routes", index)
            let errorsBefore = diagnostics.errors.count
            guard var reader = ObjectReader(item, path: path, diagnostics: &diagnostics) else { continue }

            var name: String?
            if let value = reader.require("name", &diagnostics), let text = diagnostics.name(value, reader.path("name")) {
                if names[text] != nil {
                    diagnostics.add(reader.path("name"), "duplicate route name \(quoted(text))")
                } else {
                    names[text] = index
                    name = text
                }
            }
            var listen: Endpoint?
            if let value = reader.require("listen", &diagnostics),
               let endpoint = diagnostics.endpoint(value, reader.path("listen")) {
                if let (other, kind) = listens.conflict(with: endpoint) {
                    diagnostics.add(reader.path("listen"), kind == .duplicate
                        ? "duplicate listen address \(endpoint) (also \(other.path))"
                        : "listen address \(endpoint) overlaps \(other.endpoint) (\(other.path))")
                }
                listens.insert(endpoint, owner: ListenOwner(endpoint: endpoint, path: reader.path("listen")))
                listen = endpoint
            }
            let upstream = reader.require("upstream", &diagnostics).flatMap {
                diagnostics.upstream($0, reader.path("upstream"))
            }
            var protocolKind = RouteProtocol.tcp
            if let value = reader.take("protocol") {
                protocolKind = diagnostics.choice(
                    value, reader.path("protocol"), what: "protocol", RouteProtocol.allCases
                ) ?? .tcp
            }
            let upstreamProtocol = reader.takeNullable("upstream_protocol").flatMap {
                decodeUpstreamProtocol($0, path: reader.path("upstream_protocol"), protocolKind: protocolKind, &diagnostics)
            }
            let from = reader.takeNullable("from").flatMap { diagnostics.name($0, reader.path("from")) }
            let to = reader.takeNullable("to").flatMap { diagnostics.name($0, reader.path("to")) }
            var enabled = true
            if let value = reader.take("enabled") {
                enabled = diagnostics.bool(value, reader.path("enabled")) ?? true
            }
            let tls = reader.takeNullable("tls").flatMap {
                decodeTLS($0, path: reader.path("tls"), protocolKind: protocolKind, &diagnostics)
            }
            let upstreamTLS = reader.takeNullable("upstream_tls").flatMap {
                decodeUpstreamTLS($0, path: reader.path("upstream_tls"), protocolKind: protocolKind, &diagnostics)
            }
            reader.reportUnknownKeys(&diagnostics)

            if diagnostics.errors.count == errorsBefore, let name, let listen, let upstream {
                routes.append(RouteSpec(
                    name: name, listen: listen, upstream: upstream, protocolKind: protocolKind,
                    from: from, to: to, enabled: enabled, tls: tls, upstreamTLS: upstreamTLS,
                    upstreamProtocol: upstreamProtocol
                ))
            }
        }
        let allNames = Set(items.compactMap { $0.objectValue?["name"]?.stringValue })
        return (routes, allNames)
    }

    /// `upstream_protocol`: `http1` or `h2`, on http and grpc routes only. The upstream speaks the
    /// client's protocol and translating between HTTP/1.1 and HTTP/2 is not served by this build
    /// (docs/HTTP2.md), so an http route takes neither value; a grpc route takes `h2` (what its
    /// HTTP/2 clients get anyway) and not `http1`, which cannot carry gRPC.
    private static func decodeUpstreamProtocol(
        _ value: JSONValue, path: String, protocolKind: RouteProtocol, _ diagnostics: inout Diagnostics
    ) -> UpstreamProtocol? {
        guard let upstreamProtocol = diagnostics.choice(value, path, what: "upstream protocol", UpstreamProtocol.allCases) else {
            return nil
        }
        switch protocolKind {
        case .tcp:
            diagnostics.add(path, "not allowed for protocol tcp: acts on http and grpc routes only")
            return nil
        case .http:
            diagnostics.add(
                path,
                "translating between HTTP/1.1 and HTTP/2 is not served by this build yet; leave it out and the upstream speaks the client's protocol")
            return nil
        case .grpc:
            if upstreamProtocol == .http1 {
                diagnostics.add(path, "\"http1\" cannot carry gRPC (it needs HTTP/2); use \"h2\" or leave it out")
                return nil
            }
            return upstreamProtocol
        }
    }

    /// Where a listen address was first written.
    struct ListenOwner: Sendable {
        var endpoint: Endpoint
        var path: String
    }

    /// Faults that decoded cleanly. Written ids are checked first, so a generated id
    /// (`"<type>-<index>"`) that collides with one is the one reported.
    static func decodeFaults(
        _ value: JSONValue, knownRoutes: Set<String>, protocols: [String: RouteProtocol] = [:],
        _ diagnostics: inout Diagnostics
    ) -> [FaultSpec] {
        guard let items = diagnostics.array(value, "faults") else { return [] }
        var decoded: [(FaultDecoder.Decoded, path: String)] = []
        for (index, item) in items.enumerated() {
            let path = JSONPath.index("faults", index)
            if let fault = FaultDecoder.decode(
                item, path: path, knownRoutes: knownRoutes, generatedID: { "\($0)-\(index)" },
                lifetime: .refused("a config fault lasts until it is cleared or the file drops it; for a fault that ends by itself use a schedule step's \"for\", or apply it through the API"),
                &diagnostics
            ) {
                if let problem = FaultDecoder.routeProblem(fault.fault, protocols: protocols) {
                    diagnostics.add(JSONPath.child(path, "route"), problem)
                    continue
                }
                decoded.append((fault, path))
            }
        }
        var owners: [String: String] = [:]
        for (fault, path) in decoded where !fault.idWasGenerated {
            let idPath = JSONPath.child(path, "id")
            if let owner = owners[fault.fault.id] {
                diagnostics.add(idPath, "duplicate fault id \(quoted(fault.fault.id)) (also \(owner))")
            } else {
                owners[fault.fault.id] = idPath
            }
        }
        for (fault, path) in decoded where fault.idWasGenerated {
            if let owner = owners[fault.fault.id] {
                diagnostics.add(
                    path, "generated id \(quoted(fault.fault.id)) is already used by \(owner); give this fault an id"
                )
            }
        }
        return decoded.map(\.0.fault)
    }
}
