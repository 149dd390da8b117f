public import FaultlineCore

/// Faults by type, for `FaultlineClient.apply(_:)` and `withFault(_:body:)`:
///
/// ```swift
/// try client.apply(.latency(route: "db", delay: .milliseconds(100), direction: .downstream))
/// ```
///
/// `route` is a route name or `"*"` (every route). `id` empty (the default) lets the daemon
/// generate one (`<type>-<n>`); the stored fault that `apply` returns carries it. `for` (nil by
/// default) makes the daemon clear the fault by itself that long after applying it, so a test
/// that dies cannot leave it behind. Values are checked by the daemon, which answers 422 naming
/// the parameter.
extension FaultSpec {
    /// The id that asks the daemon to generate one.
    public static let generatedID = ""

    static func selector(_ route: String) -> RouteSelector {
        route == "*" ? .all : .names([route])
    }

    private static func make(
        _ kind: FaultKind, route: String, direction: Direction, probability: Double, id: String, lifetime: Duration?
    ) -> FaultSpec {
        FaultSpec(id: id, routes: selector(route), direction: direction, probability: probability, kind: kind, lifetime: lifetime)
    }

    /// Each chunk held `delay ± jitter` (order kept).
    public static func latency(
        route: String = "*", delay: Duration, jitter: Duration = .zero, distribution: JitterDistribution = .uniform,
        direction: Direction = .both, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.latency(delay: delay, jitter: jitter, distribution: distribution), route: route, direction: direction, probability: probability, id: id, lifetime: lifetime)
    }

    /// A token bucket of `bytesPerSecond` on each covered direction.
    public static func bandwidth(
        route: String = "*", bytesPerSecond: Int, direction: Direction = .both, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.bandwidth(bytesPerSecond: bytesPerSecond), route: route, direction: direction, probability: probability, id: id, lifetime: lifetime)
    }

    /// Chunks split into writes of about `averageSize ± sizeVariation` bytes, `delay` apart.
    public static func slicer(
        route: String = "*", averageSize: Int, sizeVariation: Int = 0, delay: Duration = .zero,
        direction: Direction = .both, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.slicer(averageSize: averageSize, sizeVariation: sizeVariation, delay: delay), route: route, direction: direction, probability: probability, id: id, lifetime: lifetime)
    }

    /// Bytes read and discarded; connections stay open.
    public static func blackhole(
        route: String = "*", direction: Direction = .both, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.blackhole, route: route, direction: direction, probability: probability, id: id, lifetime: lifetime)
    }

    /// Reading stops until the fault is cleared; nothing is lost.
    public static func stall(
        route: String = "*", direction: Direction = .both, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.stall, route: route, direction: direction, probability: probability, id: id, lifetime: lifetime)
    }

    /// TCP RST to both sides, after `after` and/or `afterBytes`.
    public static func reset(
        route: String = "*", after: Duration = .zero, afterBytes: Int? = nil,
        direction: Direction = .both, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.reset(after: after, afterBytes: afterBytes), route: route, direction: direction, probability: probability, id: id, lifetime: lifetime)
    }

    /// Data stops; both sides are closed after `timeout` (`.zero` = never).
    public static func timeout(
        route: String = "*", timeout: Duration, direction: Direction = .both, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.timeout(timeout), route: route, direction: direction, probability: probability, id: id, lifetime: lifetime)
    }

    /// The connection is closed after `bytes` in the direction.
    public static func limitData(
        route: String = "*", bytes: Int, direction: Direction = .both, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.limitData(bytes: bytes), route: route, direction: direction, probability: probability, id: id, lifetime: lifetime)
    }

    /// The FIN is passed on only after `delay`.
    public static func slowClose(
        route: String = "*", delay: Duration, direction: Direction = .both, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.slowClose(delay: delay), route: route, direction: direction, probability: probability, id: id, lifetime: lifetime)
    }

    /// New connections are reset on accept; `existing` says what happens to open ones.
    public static func refuse(
        route: String = "*", existing: RefuseExisting = .keep, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.refuse(existing: existing), route: route, direction: .both, probability: probability, id: id, lifetime: lifetime)
    }

    /// The upstream connect starts only after `delay`.
    public static func connectDelay(
        route: String = "*", delay: Duration, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.connectDelay(delay), route: route, direction: .both, probability: probability, id: id, lifetime: lifetime)
    }

    /// Random bits flipped at `bitFlipRate` per bit.
    public static func corrupt(
        route: String = "*", bitFlipRate: Double, direction: Direction = .both, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        make(.corrupt(bitFlipRate: bitFlipRate), route: route, direction: direction, probability: probability, id: id, lifetime: lifetime)
    }

    /// Every route whose `from` and `to` lie in different groups is blocked (SPEC §3.2); with
    /// `oneWay`, only traffic leaving `groups[0]`.
    public static func partition(
        groups: [[String]], mode: PartitionMode = .blackhole, oneWay: Bool = false, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        FaultSpec(id: id, kind: .partition(PartitionFault(rule: .groups(groups), mode: mode, oneWay: oneWay)), lifetime: lifetime)
    }

    /// A partition described by a rule (`.isolate(node: "n1")`, `.randomHalves`, …), resolved by
    /// the daemon from its seed.
    public static func partition(
        _ generator: PartitionGenerator, mode: PartitionMode = .blackhole, oneWay: Bool = false, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        FaultSpec(id: id, kind: .partition(PartitionFault(rule: .generator(generator), mode: mode, oneWay: oneWay)), lifetime: lifetime)
    }
}
