public import FaultlineConfig
import FaultlineCore

/// `POST /v1/reload` and SIGHUP.
extension ControlState {
    /// Replaces the file's routes and faults with those of `newConfig`, keeping the ones added at
    /// runtime after them. 409 `reload_conflict`, changing nothing, when a runtime route or fault
    /// has a name or id the file now uses, or a runtime fault names a route that is gone (or, for
    /// an HTTP fault, a route the file now makes tcp).
    ///
    /// Journals `config.reloaded`, then `route.removed`/`route.added` for each file route that
    /// went, came or changed, and `fault.cleared` (reason `reload`)/`fault.applied` likewise.
    /// `workers`, `control`, `metrics_listen` and `journal` take effect only on restart (see
    /// `restartOnlyChanges`).
    public func reload(to newConfig: DaemonConfig, path: String) -> ControlOutcome {
        let runtimeRoutes = routes.filter { $0.origin == .runtime }
        let runtimeFaults = faults.filter { $0.origin == .runtime }
        let fileRouteNames = Set(newConfig.routes.map(\.name))
        let fileFaultIDs = Set(newConfig.faults.map(\.id))
        var conflicts: [ConfigError] = []
        for route in runtimeRoutes where fileRouteNames.contains(route.spec.name) {
            conflicts.append(ConfigError(path: "routes", message: "route \"\(route.spec.name)\" was added at runtime and is now also in the file; delete it first"))
        }
        let allRouteNames = fileRouteNames.union(runtimeRoutes.map(\.spec.name))
        let protocols = Dictionary(
            (newConfig.routes + runtimeRoutes.map(\.spec)).map { ($0.name, $0.protocolKind) }, uniquingKeysWith: { first, _ in first })
        for fault in runtimeFaults {
            if fileFaultIDs.contains(fault.spec.id) {
                conflicts.append(ConfigError(path: "faults", message: "fault \"\(fault.spec.id)\" was applied at runtime and is now also in the file; clear it first"))
            }
            if case .names(let names) = fault.spec.routes {
                for name in names where !allRouteNames.contains(name) {
                    conflicts.append(ConfigError(path: "routes", message: "runtime fault \"\(fault.spec.id)\" names route \"\(name)\", which the file no longer has; clear it first"))
                }
            }
            if let problem = FaultDecoder.routeProblem(fault.spec, protocols: protocols) {
                conflicts.append(ConfigError(path: "routes", message: "runtime fault \"\(fault.spec.id)\": \(problem); clear it first"))
            }
        }
        if let first = conflicts.first {
            return .reply(.error(409, code: "reload_conflict", message: first.message, path: first.path, errors: conflicts))
        }

        // The file's partition generators resolve over the nodes the new config and the runtime
        // routes name; one that resolves as before is unchanged (no events, no new draw).
        let nodes = FaultPlan.nodeNames(routes: newConfig.routes + runtimeRoutes.map(\.spec), nodes: newConfig.nodes)
        let newFileFaults = newConfig.faults.map { $0.resolvingPartitions(nodes: nodes, seed: newConfig.seed) }
        var events = [ControlEvents.configReloaded(path: path, routes: newConfig.routes.count, faults: newConfig.faults.count)]
        let oldFileRoutes = routes.filter { $0.origin == .config }.map(\.spec)
        for old in oldFileRoutes where !newConfig.routes.contains(old) {
            events.append(ControlEvents.routeRemoved(old.name))
        }
        for new in newConfig.routes where !oldFileRoutes.contains(new) {
            events.append(ControlEvents.routeAdded(new))
        }
        let oldFileFaults = faults.filter { $0.origin == .config }.map(\.spec)
        for old in oldFileFaults where !newFileFaults.contains(old) {
            events.append(ControlEvents.cleared(old, reason: "reload"))
        }
        for new in newFileFaults where !oldFileFaults.contains(new) {
            events.append(ControlEvents.applied(new))
        }

        var proposed = self
        proposed.config = newConfig
        proposed.routes = newConfig.routes.map { ManagedRoute(spec: $0, origin: .config) } + runtimeRoutes
        proposed.faults = newFileFaults.map { ManagedFault(spec: $0, origin: .config) } + runtimeFaults
        return .change(ControlChange(proposed: proposed, reply: .reloaded, events: events))
    }

    /// Top-level keys whose new value in `newConfig` needs a restart to take effect.
    public func restartOnlyChanges(_ newConfig: DaemonConfig) -> [String] {
        var keys: [String] = []
        if newConfig.workers != config.workers { keys.append("workers") }
        if newConfig.control != config.control { keys.append("control") }
        if newConfig.metricsListen != config.metricsListen { keys.append("metrics_listen") }
        if newConfig.journal != config.journal { keys.append("journal") }
        return keys
    }
}
