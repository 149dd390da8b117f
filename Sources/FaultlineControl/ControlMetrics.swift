public import FaultlineCore
public import FaultlineMetrics
import Synchronization

/// The metric families the control side owns (SPEC §5): `faultline_faults_active{type}`,
/// `faultline_schedule_steps_total` and `faultline_partition_links_blocked`.
public final class ControlMetrics: Sendable {
    private let activeByType = Mutex<[String: Int]>([:])

    public init() {}

    /// Registers the families into `registry`, in the order listed above.
    public func register(into registry: MetricsRegistry) {
        registry.register(Collector(
            name: "faultline_faults_active", help: "Faults in force, by type.", type: .gauge, labelNames: ["type"]
        ) { [self] in
            let counts = self.activeByType.withLock { $0 }
            // Every known type is listed, zeros included, so dashboards need no absent() juggling.
            return FaultKind.typeNames.map { Sample(labelValues: [$0], value: .signed(Int64(counts[$0] ?? 0))) }
        })
        // The schedule runner and partitions are not built yet: these report 0 until they are.
        registry.register(Collector.single(
            name: "faultline_schedule_steps_total", help: "Schedule steps carried out.", type: .counter
        ) { .unsigned(0) })
        registry.register(Collector.single(
            name: "faultline_partition_links_blocked", help: "Route links blocked by partitions now.", type: .gauge
        ) { .signed(0) })
    }

    /// Records the faults now in force.
    public func update(activeFaults: [FaultSpec]) {
        var counts: [String: Int] = [:]
        for fault in activeFaults { counts[fault.kind.typeName, default: 0] += 1 }
        activeByType.withLock { $0 = counts }
    }
}
