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

    public init(version: UInt64, seed: UInt64, limits: Limits, routes: [RouteSpec], faults: [FaultSpec]) {
        self.version = version
        self.seed = seed
        self.limits = limits
        self.routes = routes.map { route in
            RoutePlan(spec: route, faults: faults.filter { $0.routes.matches(route.name) })
        }
    }

    /// The plan for a route by name.
    public func route(named name: String) -> RoutePlan? {
        routes.first { $0.spec.name == name }
    }
}
