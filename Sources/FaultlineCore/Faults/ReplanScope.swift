/// Which open connections of a route a new plan must re-plan before the change is answered.
///
/// Re-planning a connection (compiling its policy, comparing bindings) costs microseconds; a
/// route with ten thousand open connections made every `POST /v1/faults` wait for all of
/// them. Most of that work is for connections a change cannot yet act on: a fault that works
/// on bytes (latency, bandwidth, blackhole, …) does nothing to a connection until its next
/// byte, and every byte comes with an event on that connection. So a connection with nothing
/// bound is re-planned when its next event arrives, before that event is handled; the faults
/// are still in force for every byte that moves after the API answered.
///
/// What cannot wait: faults that act on a connection that moves no bytes (a `reset` or
/// `timeout` timer, `refuse` resetting open connections, a partition) and connections that
/// already carry a fault (the change may lift it: held bytes, a held connect, a stall must be
/// released now). The worker decides the second per connection.
public enum ReplanScope: Sendable, Equatable {
    /// The route's faults and the seed are what they were: no connection changes.
    case unchanged
    /// Connections with nothing bound may wait for their next event.
    case deferrable
    /// Every connection is re-planned now.
    case everyConnection

    /// `old` is nil for a route the previous plan did not run.
    public init(old: [FaultSpec]?, new: [FaultSpec], seedChanged: Bool) {
        if let old, !seedChanged, old == new {
            self = .unchanged
        } else if new.contains(where: ReplanScope.actsWithoutTraffic) {
            self = .everyConnection
        } else {
            self = .deferrable
        }
    }

    /// Whether `fault` can act on an open connection that sends and receives nothing.
    public static func actsWithoutTraffic(_ fault: FaultSpec) -> Bool {
        switch fault.kind {
        case .reset, .timeout, .refuse, .partition: return true
        case .latency, .bandwidth, .slicer, .blackhole, .stall, .limitData, .slowClose, .connectDelay, .corrupt,
             .abort, .delay, .dropResponse, .duplicate, .rstStream, .goaway, .windowStall:
            // The HTTP faults act when a request arrives.
            return false
        }
    }
}
