internal import FaultlineCore

/// The small top-level sections: `control`, `limits`, `nodes`.
extension ConfigDecoder {
    static func decodeControl(_ value: JSONValue, _ diagnostics: inout Diagnostics) -> ControlConfig {
        var control = ControlConfig(isGiven: true)
        guard var reader = ObjectReader(value, path: "control", diagnostics: &diagnostics) else { return control }
        if let socket = reader.takeNullable("unix_socket") {
            control.unixSocket = diagnostics.nonEmptyString(socket, reader.path("unix_socket"))
        }
        if let listen = reader.takeNullable("http_listen") {
            control.httpListen = diagnostics.endpoint(listen, reader.path("http_listen"))
        }
        if let token = reader.takeNullable("token_file") {
            control.tokenFile = diagnostics.nonEmptyString(token, reader.path("token_file"))
        }
        if let uids = reader.take("allowed_uids"), let items = diagnostics.array(uids, reader.path("allowed_uids")) {
            for (index, item) in items.enumerated() {
                let path = JSONPath.index(reader.path("allowed_uids"), index)
                if let uid = diagnostics.integer(item, path, in: 0...Int64(UInt32.max)) {
                    control.allowedUIDs.append(UInt32(uid))
                }
            }
        }
        // SPEC §4: an API reachable from other hosts must ask for a token.
        if let listen = control.httpListen, !listen.address.isLoopback, control.tokenFile == nil,
           reader.object["token_file"].map({ $0.isNull }) ?? true {
            diagnostics.add(
                reader.path("http_listen"),
                "\(listen) is not a loopback address, so control.token_file is required"
            )
        }
        reader.reportUnknownKeys(&diagnostics)
        return control
    }

    static func decodeLimits(_ value: JSONValue, _ diagnostics: inout Diagnostics) -> Limits {
        var limits = Limits.defaults
        guard var reader = ObjectReader(value, path: "limits", diagnostics: &diagnostics) else { return limits }
        if let value = reader.take("max_connections"),
           let number = diagnostics.integer(value, reader.path("max_connections"), in: 1...Int64.max) {
            limits.maxConnections = Int(number)
        }
        if let value = reader.take("connect_timeout"),
           let duration = diagnostics.duration(value, reader.path("connect_timeout"), positive: true) {
            limits.connectTimeout = duration
        }
        if let value = reader.take("tls_handshake_timeout"),
           let duration = diagnostics.duration(value, reader.path("tls_handshake_timeout"), positive: true) {
            limits.tlsHandshakeTimeout = duration
        }
        if let value = reader.take("shutdown_grace"),
           let duration = diagnostics.duration(value, reader.path("shutdown_grace")) {
            limits.shutdownGrace = duration
        }
        if let value = reader.take("buffer_bytes"),
           let number = diagnostics.integer(
               value, reader.path("buffer_bytes"),
               in: Int64(bufferBytesRange.lowerBound)...Int64(bufferBytesRange.upperBound)
           ) {
            limits.bufferBytes = Int(number)
        }
        if let value = reader.take("latency_queue_bytes"),
           let number = diagnostics.integer(
               value, reader.path("latency_queue_bytes"),
               in: Int64(latencyQueueBytesRange.lowerBound)...Int64(latencyQueueBytesRange.upperBound)
           ) {
            if Int(number) < limits.bufferBytes {
                diagnostics.add(
                    reader.path("latency_queue_bytes"),
                    "must be at least limits.buffer_bytes (\(limits.bufferBytes)), got \(number)")
            } else {
                limits.latencyQueueBytes = Int(number)
            }
        }
        if let value = reader.take("request_log"),
           let number = diagnostics.integer(value, reader.path("request_log"), in: 0...Int64(requestLogRange.upperBound)) {
            limits.requestLog = Int(number)
        }
        reader.reportUnknownKeys(&diagnostics)
        return limits
    }

    /// `"nodes": {"n1": {"addresses": ["10.77.0.11"]}}`. An address may belong to one node only,
    /// since it is how a connection's node is found.
    static func decodeNodes(_ value: JSONValue, _ diagnostics: inout Diagnostics) -> [String: [IPAddress]] {
        var nodes: [String: [IPAddress]] = [:]
        guard let reader = ObjectReader(value, path: "nodes", diagnostics: &diagnostics) else { return nodes }
        var owners: [IPAddress: String] = [:]
        for member in reader.object.members {
            let nodePath = reader.path(member.key)
            if let problem = Diagnostics.nameProblem(member.key) { diagnostics.add(nodePath, problem) }
            guard var node = ObjectReader(member.value, path: nodePath, diagnostics: &diagnostics) else { continue }
            var addresses: [IPAddress] = []
            if let list = node.require("addresses", &diagnostics),
               let items = diagnostics.array(list, node.path("addresses")) {
                if items.isEmpty { diagnostics.add(node.path("addresses"), "must list at least one address") }
                for (index, item) in items.enumerated() {
                    let path = JSONPath.index(node.path("addresses"), index)
                    guard let address = diagnostics.ipAddress(item, path) else { continue }
                    if let owner = owners[address] {
                        diagnostics.add(path, "\(address) already belongs to \(owner)")
                    } else {
                        owners[address] = nodePath
                        addresses.append(address)
                    }
                }
            }
            node.reportUnknownKeys(&diagnostics)
            nodes[member.key] = addresses
        }
        return nodes
    }
}
