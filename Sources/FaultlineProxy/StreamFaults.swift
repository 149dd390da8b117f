import FaultlineCore

/// What the faults in force on one half-stream ask of the relay. Empty means a clean relay.
///
/// Filled in from the plan when a connection opens and whenever a new plan arrives.
struct StreamFaults {
    /// Reading is paused (stall).
    var readPaused = false

    /// True when no fault acts on this direction: the relay takes its fast path.
    var isClean: Bool { !readPaused }
}
