import FaultlineConfig
import FaultlineCore

/// Faults to and from the control API's JSON, with the same encoder and decoder the daemon uses.
enum FaultJSON {
    /// The request body for `fault`: its JSON object without `id` when the id is empty, so that
    /// the daemon generates one.
    static func body(_ fault: FaultSpec) -> JSONValue {
        guard case .object(var object) = FaultEncoder.encode(fault) else { return FaultEncoder.encode(fault) }
        if fault.id.isEmpty { object["id"] = nil }
        return .object(object)
    }

    /// One fault object of an answer. A partition given by a generator comes with `resolved`,
    /// the group sets the daemon drew from its seed, which the config's decoder does not take:
    /// it is read here into `PartitionFault.resolved`.
    static func decode(_ value: JSONValue, path: String) throws(FaultlineClientError) -> FaultSpec {
        var value = value
        var resolved: [[[String]]]?
        if case .object(var object) = value {
            if let sets = object["resolved"] {
                resolved = try groupSets(sets, path: JSONPath.child(path, "resolved"))
                object["resolved"] = nil
            }
            // The time left of a fault applied with `for` is the daemon's clock, not the fault's.
            object["expires_in_ms"] = nil
            value = .object(object)
        }
        // The daemon checked route names already; the client does not know them.
        switch FaultDecoder.decodeFault(value, path: path, knownRoutes: nil, lifetime: .allowed) {
        case .success(var fault):
            if let resolved, case .partition(var partition) = fault.kind {
                partition.resolved = resolved
                fault.kind = .partition(partition)
            }
            return fault
        case .failure(let errors):
            throw .invalidResponse("the daemon sent a fault this client cannot read: \(errors)")
        }
    }

    private static func groupSets(_ value: JSONValue, path: String) throws(FaultlineClientError) -> [[[String]]] {
        guard let sets = value.arrayValue else { throw .invalidResponse("\(path) is not an array") }
        var out: [[[String]]] = []
        for set in sets {
            var groups: [[String]] = []
            for group in set.arrayValue ?? [] {
                let names = (group.arrayValue ?? []).compactMap(\.stringValue)
                guard names.count == group.arrayValue?.count else { throw .invalidResponse("\(path) holds a name that is not a string") }
                groups.append(names)
            }
            out.append(groups)
        }
        return out
    }

    static func decodeList(_ items: [JSONValue], key: String) throws(FaultlineClientError) -> [FaultSpec] {
        var faults: [FaultSpec] = []
        for (index, item) in items.enumerated() { faults.append(try decode(item, path: JSONPath.index(key, index))) }
        return faults
    }
}
