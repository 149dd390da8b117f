import FaultlineCore
import FaultlineLoop
import FaultlineMetrics

/// Key of an injection counter shard.
struct InjectionKey: Hashable {
    var route: String
    var fault: String
    var type: String
}

extension Worker {
    /// `fault.injected` events journaled per connection at most; counters stay exact beyond it.
    static var journaledInjectionsPerConnection: Int { 16 }

    /// A new connection was admitted: bind its faults, then refuse it, delay its connect, or
    /// connect upstream.
    func connectionOpened(_ loop: EventLoop<Worker>, _ connection: Connection, route: Route) {
        if !route.plan.faults.isEmpty {
            let policy = PolicyCompiler.compile(faults: route.plan.faults, seed: plan.seed, serial: connection.serial)
            adopt(loop, connection, policy: policy)
            if policy.refuse != nil {
                close(loop, connection, reset: true)
                return
            }
            if let delay = policy.connectDelay {
                loop.schedule(at: loop.now &+ delay.value.nanosecondsClamped, tag: tag(.connectionFaultTimer, connection))
                return
            }
        }
        startConnect(loop, connection, route: route)
    }

    /// `connect_delay` has passed: start the upstream connect.
    func connectDelayElapsed(_ loop: EventLoop<Worker>, _ connection: Connection) {
        guard connection.state == .connecting, connection.upstream == nil else { return }
        guard let route = routes[connection.routeName] else {
            close(loop, connection, reset: false)
            return
        }
        startConnect(loop, connection, route: route)
    }

    /// A new plan arrived: rebind this open connection's faults, keeping the state of those
    /// that stay, and let the relay act on the change at once.
    func replan(_ loop: EventLoop<Worker>, _ connection: Connection, route: Route) {
        let policy = route.plan.faults.isEmpty
            ? ConnectionPolicy()
            : PolicyCompiler.compile(faults: route.plan.faults, seed: plan.seed, serial: connection.serial)
        guard policy != connection.policy else { return }
        let previousRefuse = connection.policy.refuse
        adopt(loop, connection, policy: policy)
        if let refuse = policy.refuse, refuse.value == .reset, previousRefuse?.faultID != refuse.faultID {
            close(loop, connection, reset: true)
            return
        }
        if connection.state == .open { relay(loop, connection) }
    }

    /// Installs `policy` on the connection and counts (and journals) each new binding.
    private func adopt(_ loop: EventLoop<Worker>, _ connection: Connection, policy: ConnectionPolicy) {
        let previous = Set(connection.policy.bindings)
        for binding in policy.bindings where !previous.contains(binding) {
            recordInjection(connection, binding)
        }
        connection.policy = policy
        connection.up.faults.update(
            to: policy.upstream, now: loop.now, seed: plan.seed, serial: connection.serial, flow: .upstream)
        connection.down.faults.update(
            to: policy.downstream, now: loop.now, seed: plan.seed, serial: connection.serial, flow: .downstream)
    }

    private func recordInjection(_ connection: Connection, _ binding: FaultBinding) {
        let key = InjectionKey(route: connection.routeName, fault: binding.faultID, type: binding.type)
        let counter: Counter
        if let existing = injectionCounters[key] {
            counter = existing
        } else {
            counter = metrics.faultInjections.shard(labels: [key.route, key.fault, key.type], worker: index)
            injectionCounters[key] = counter
        }
        counter.increment()
        guard let events, connection.journaledInjections < Worker.journaledInjectionsPerConnection else { return }
        connection.journaledInjections += 1
        var fields: [JournalField] = [
            .string("route", connection.routeName),
            .string("fault", binding.faultID),
            .string("type", binding.type),
            .int("conn", connection.serial),
        ]
        if let flow = binding.flow { fields.append(.string("direction", flow.label)) }
        events.record(JournalEvent(event: "fault.injected", fields: fields))
    }
}
