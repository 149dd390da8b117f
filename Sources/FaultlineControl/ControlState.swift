public import FaultlineConfig
public import FaultlineCore

/// Where a route or fault came from: the config file, or the control API at runtime.
///
/// A reload replaces what came from the file and keeps what was added at runtime.
public enum ControlOrigin: String, Sendable, Hashable {
    case config
    case runtime
}

/// A route and where it came from.
public struct ManagedRoute: Sendable, Hashable {
    public var spec: RouteSpec
    public var origin: ControlOrigin

    public init(spec: RouteSpec, origin: ControlOrigin) {
        self.spec = spec
        self.origin = origin
    }
}

/// An active fault and where it came from.
public struct ManagedFault: Sendable, Hashable {
    public var spec: FaultSpec
    public var origin: ControlOrigin
    /// For a fault applied with `for`: the monotonic time (nanoseconds) at which it is cleared.
    public var expiresAt: UInt64?

    public init(spec: FaultSpec, origin: ControlOrigin, expiresAt: UInt64? = nil) {
        self.spec = spec
        self.origin = origin
        self.expiresAt = expiresAt
    }
}

/// The authoritative control state: config, routes, active faults and the plan version.
///
/// A value owned by the control thread. Every mutation is a pure transition that proposes a new
/// state (`ControlOutcome.change`); the proposal is put in force with `perform(_:on:journal:)`,
/// which commits it only once the data plane has accepted the plan built from it.
public struct ControlState: Sendable, Hashable {
    /// The config last loaded (its routes and faults are the `config`-origin ones as loaded).
    public internal(set) var config: DaemonConfig
    /// Routes in plan order: the file's, then runtime-added ones in the order they were added.
    public internal(set) var routes: [ManagedRoute]
    /// Active faults in apply order.
    public internal(set) var faults: [ManagedFault]
    /// The version of the plan in force (0 before the first).
    public internal(set) var planVersion: UInt64
    /// Bound listen addresses (port 0 resolved) of the enabled routes in force.
    public internal(set) var boundAddresses: [String: Endpoint]
    /// Directed route links the partitions of the plan in force block (`FaultPlan.partitionLinksBlocked`).
    public internal(set) var partitionLinksBlocked: Int
    /// Per fault type, the number tried first for the next generated id (`latency-1`,
    /// `latency-2`, `partition-1`); a type not in it starts at 1.
    var generatedFaultNumbers: [String: Int]

    /// The state a config describes, before any plan is in force.
    public init(config: DaemonConfig) {
        self.config = config
        routes = config.routes.map { ManagedRoute(spec: $0, origin: .config) }
        faults = Self.resolvingPartitions(config.faults, config: config).map { ManagedFault(spec: $0, origin: .config) }
        planVersion = 0
        boundAddresses = [:]
        partitionLinksBlocked = 0
        generatedFaultNumbers = [:]
    }

    /// The plan this state describes, numbered as the next version.
    public func nextPlan() -> FaultPlan {
        FaultPlan(
            version: planVersion + 1, seed: config.seed, limits: config.limits,
            routes: routes.map(\.spec), faults: faults.map(\.spec), nodes: config.nodes
        )
    }

    /// The route named `name`.
    public func route(named name: String) -> ManagedRoute? {
        routes.first { $0.spec.name == name }
    }

    /// The active fault with `id`.
    public func fault(id: String) -> ManagedFault? {
        faults.first { $0.spec.id == id }
    }

    /// This state after `applied` was put in force: the plan version and bound addresses recorded.
    func committed(applied: FaultPlan) -> ControlState {
        var state = self
        state.planVersion = applied.version
        var bound: [String: Endpoint] = [:]
        for route in applied.routes where route.spec.enabled {
            bound[route.spec.name] = route.spec.listen
        }
        state.boundAddresses = bound
        state.partitionLinksBlocked = applied.partitionLinksBlocked
        return state
    }
}

/// What a transition decided: answer without changing anything, or change the state.
public enum ControlOutcome: Sendable, Hashable {
    /// Nothing changes; send this (a read, or a rejected request).
    case reply(ControlResponse)
    /// Put `ControlChange.proposed` in force, then answer.
    case change(ControlChange)
}

/// A proposed state, the answer to give once it is in force, and the journal events it makes.
public struct ControlChange: Sendable, Hashable {
    public var proposed: ControlState
    public var reply: ControlReply
    public var events: [JournalEvent]

    public init(proposed: ControlState, reply: ControlReply, events: [JournalEvent]) {
        self.proposed = proposed
        self.reply = reply
        self.events = events
    }
}

/// The answer to a change, rendered from the committed state (so it shows bound ports).
public enum ControlReply: Sendable, Hashable {
    /// The route, with this status.
    case route(name: String, status: Int)
    /// The fault, with this status.
    case fault(id: String, status: Int)
    /// 204.
    case noContent
    /// 200 `{"cleared": [ids]}`.
    case cleared([String])
    /// 200 `{"healed": [ids]}`.
    case healed([String])
    /// The faults, in this order, as `{"faults": [...]}` with this status (an array applied at once).
    case faults(ids: [String], status: Int)
    /// 200 `{"reloaded": true, "plan_version": N, "routes": n, "faults": n}`.
    case reloaded
}
