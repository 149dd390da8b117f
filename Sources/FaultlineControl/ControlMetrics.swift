public import FaultlineCore
public import FaultlineMetrics
import Synchronization

/// The metric families the control side owns (SPEC §5): `faultline_faults_active{type}`,
/// `faultline_schedule_steps_total` and `faultline_partition_links_blocked`; and the control
/// listeners' series of `faultline_accept_failures_total`.
public final class ControlMetrics: Sendable {
    private let activeByType = Mutex<[String: Int]>([:])
    private let scheduleSteps = Atomic<UInt64>(0)
    private let linksBlocked = Atomic<Int>(0)
    /// `faultline_accept_failures_total`, whose control-listener series this side writes.
    let acceptFailures: CounterFamily
    /// Whether `register(into:)` registers `acceptFailures` (it is ours, not the proxy's).
    private let ownsAcceptFailures: Bool

    /// - Parameter acceptFailures: the proxy's `faultline_accept_failures_total`
    ///   (`ProxyMetrics.acceptFailures`), already registered; nil makes one that
    ///   `register(into:)` registers, for a control server without a proxy.
    public init(acceptFailures: CounterFamily? = nil) {
        self.acceptFailures = acceptFailures ?? CounterFamily.acceptFailures()
        ownsAcceptFailures = acceptFailures == nil
    }

    /// Registers the families into `registry`, in the order listed above (`acceptFailures` last,
    /// when it is ours).
    public func register(into registry: MetricsRegistry) {
        registry.register(Collector(
            name: "faultline_faults_active", help: "Faults in force, by type.", type: .gauge, labelNames: ["type"]
        ) { [self] in
            let counts = self.activeByType.withLock { $0 }
            // Every known type is listed, zeros included, so dashboards need no absent() juggling.
            return FaultKind.typeNames.map { Sample(labelValues: [$0], value: .signed(Int64(counts[$0] ?? 0))) }
        })
        registry.register(Collector.single(
            name: "faultline_schedule_steps_total", help: "Schedule steps carried out.", type: .counter
        ) { [self] in .unsigned(self.scheduleSteps.load(ordering: .relaxed)) })
        registry.register(Collector.single(
            name: "faultline_partition_links_blocked", help: "Route links blocked by partitions now.", type: .gauge
        ) { [self] in .signed(Int64(self.linksBlocked.load(ordering: .relaxed))) })
        if ownsAcceptFailures { registry.register(acceptFailures) }
    }

    /// Counts one schedule step carried out (an apply, a clear, or the clear at the end of `for`).
    public func recordScheduleStep() {
        scheduleSteps.add(1, ordering: .relaxed)
    }

    /// Records the links the plan in force blocks (`FaultPlan.partitionLinksBlocked`).
    public func update(partitionLinksBlocked count: Int) {
        linksBlocked.store(count, ordering: .relaxed)
    }

    /// Records the faults now in force.
    public func update(activeFaults: [FaultSpec]) {
        var counts: [String: Int] = [:]
        for fault in activeFaults { counts[fault.kind.typeName, default: 0] += 1 }
        activeByType.withLock { $0 = counts }
    }
}
