/// One route as workers see it in a plan: its spec and the faults that name it.
public struct RoutePlan: Sendable, Hashable {
    public var spec: RouteSpec
    /// Active faults whose selector matches this route, in the order they were applied.
    public var faults: [FaultSpec]

    public init(spec: RouteSpec, faults: [FaultSpec]) {
        self.spec = spec
        self.faults = faults
    }
}

/// The immutable snapshot every worker runs: routes with their faults, limits and the seed.
///
/// The control side builds a new plan for every change and posts it to each worker; a worker
/// swaps plans between loop turns and re-plans its open connections.
public struct FaultPlan: Sendable, Hashable {
    /// Increases with every new plan.
    public var version: UInt64
    public var seed: UInt64
    public var limits: Limits
    public var routes: [RoutePlan]
    /// Node name by caller address, for routes that learn `from` from the connection.
    public var nodeByAddress: [IPAddress: String]

    /// A plan. Partition generators still unresolved are resolved here over the plan's node names.
    public init(
        version: UInt64, seed: UInt64, limits: Limits, routes: [RouteSpec], faults: [FaultSpec],
        nodes: [String: [IPAddress]] = [:]
    ) {
        self.version = version
        self.seed = seed
        self.limits = limits
        var byAddress: [IPAddress: String] = [:]
        for (name, addresses) in nodes {
            for address in addresses { byAddress[address] = name }
        }
        nodeByAddress = byAddress
        let nodeNames = FaultPlan.nodeNames(routes: routes, nodes: nodes)
        let resolvedFaults = faults.map { $0.resolvingPartitions(nodes: nodeNames, seed: seed) }
        self.routes = routes.map { route in
            RoutePlan(spec: route, faults: resolvedFaults.filter { $0.routes.matches(route.name) })
        }
    }

    /// Every node name the routes and the nodes map mention, sorted.
    public static func nodeNames(routes: [RouteSpec], nodes: [String: [IPAddress]]) -> [String] {
        var names = Set(nodes.keys)
        for route in routes {
            if let from = route.from { names.insert(from) }
            if let to = route.to { names.insert(to) }
        }
        return names.sorted()
    }

    /// Directed links blocked by partitions now: for each enabled route, each caller node
    /// (its `from`, or every named node but its `to` when it learns callers) counts once per
    /// blocked direction.
    public var partitionLinksBlocked: Int {
        let learnedCallers = Set(nodeByAddress.values).sorted()
        var count = 0
        for route in routes where route.spec.enabled {
            let partitions = route.faults.compactMap { fault -> PartitionFault? in
                if case .partition(let partition) = fault.kind { return partition }
                return nil
            }
            guard !partitions.isEmpty else { continue }
            let callers = route.spec.from.map { [$0] } ?? learnedCallers.filter { $0 != route.spec.to }
            for caller in callers {
                var up = false
                var down = false
                for partition in partitions {
                    switch partition.blocks(from: caller, to: route.spec.to) {
                    case .both?: up = true; down = true
                    case .upstream?: up = true
                    case .downstream?: down = true
                    case nil: break
                    }
                }
                count += (up ? 1 : 0) + (down ? 1 : 0)
            }
        }
        return count
    }

    /// The plan for a route by name.
    public func route(named name: String) -> RoutePlan? {
        routes.first { $0.spec.name == name }
    }
}
