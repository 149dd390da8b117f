public import FaultlineCore

/// What the control side needs of the data path. `faultlined` makes the proxy conform, so this
/// target never imports `FaultlineProxy`.
public protocol DataPlane: AnyObject, Sendable {
    /// Puts `plan` in force on every worker and returns once all of them have it, with listen
    /// ports resolved. Throws, changing nothing, when a listener cannot be bound.
    func apply(_ plan: FaultPlan) throws -> FaultPlan
    /// Worker threads.
    var workerCount: Int { get }
    /// Connections open now across all workers.
    var openConnections: Int { get }
    /// A route's request log after `since`, oldest first (SPEC §3.4).
    func requestLog(route: String, since: UInt64) -> [RequestRecord]
}
