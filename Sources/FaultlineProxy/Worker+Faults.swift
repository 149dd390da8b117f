import FaultlineCore
import FaultlineLoop
import FaultlineMetrics
import FaultlineSystem

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
        var caller = route.spec.from
        if caller == nil, !plan.nodeByAddress.isEmpty, let address = IPAddress(connection.peer) {
            caller = plan.nodeByAddress[address]
        }
        connection.link = Link(from: caller, to: route.spec.to)
        if !route.plan.faults.isEmpty {
            let policy = PolicyCompiler.compile(
                faults: route.plan.faults, seed: plan.seed, serial: connection.serial, link: connection.link)
            adopt(loop, connection, policy: policy, http: route.spec.protocolKind.isHTTP)
            if let refuse = policy.refuse {
                connection.logOutcome = .refused
                connection.logFault = refuse.faultID
                close(loop, connection, reset: true)
                return
            }
            if route.spec.protocolKind.isHTTP {
                // connect_delay and held connects act when the first request dials (dialHTTP).
                openHTTP(loop, connection, route: route)
                return
            }
            if let delay = policy.connectDelay {
                connection.connectDelayPending = true
                loop.schedule(at: loop.now &+ delay.value.nanosecondsClamped, tag: tag(.connectionFaultTimer, connection))
                return
            }
            if policy.holdConnect != nil {
                connection.connectHeld = true
                return
            }
        }
        if route.spec.protocolKind.isHTTP {
            openHTTP(loop, connection, route: route)
            return
        }
        startConnect(loop, connection, route: route)
    }

    /// `connect_delay` has passed: start the upstream connect.
    func connectDelayElapsed(_ loop: EventLoop<Worker>, _ connection: Connection) {
        connection.connectDelayPending = false
        guard connection.state == .connecting || connection.isHTTP, connection.upstream == nil else { return }
        if connection.policy.holdConnect != nil {
            connection.connectHeld = true
            return
        }
        guard let route = routes[connection.routeName] else {
            close(loop, connection, reset: false)
            return
        }
        startConnect(loop, connection, route: route)
    }

    /// A new plan arrived: rebind this open connection's faults, keeping the state of those
    /// that stay, and let the relay act on the change at once.
    func replan(_ loop: EventLoop<Worker>, _ connection: Connection, route: Route) {
        if let session = connection.http, session.machine.faults != route.httpFaults {
            session.machine.faults = route.httpFaults
        }
        if let bridge = connection.h2, bridge.faults != route.httpFaults { bridge.faultsChanged(route.httpFaults) }
        let policy = route.plan.faults.isEmpty
            ? ConnectionPolicy()
            : PolicyCompiler.compile(
                faults: route.plan.faults, seed: plan.seed, serial: connection.serial, link: connection.link)
        guard policy != connection.policy else { return }
        let previousRefuse = connection.policy.refuse
        adopt(loop, connection, policy: policy, http: route.spec.protocolKind.isHTTP)
        if let refuse = policy.refuse, refuse.value == .reset, previousRefuse?.faultID != refuse.faultID {
            connection.logFault = connection.logFault ?? refuse.faultID
            close(loop, connection, reset: true)
            return
        }
        if connection.connectHeld && policy.holdConnect == nil && !connection.connectDelayPending {
            connection.connectHeld = false
            startConnect(loop, connection, route: route)
            return
        }
        if connection.state == .open { relay(loop, connection) }
    }

    /// The connection behind `tag`, re-planned first if a plan change waited for its next
    /// event (`ReplanScope.deferrable`); nil when it is gone.
    @inline(__always)
    func liveConnection(_ loop: EventLoop<Worker>, _ tag: Tag) -> Connection? {
        guard let connection = connection(tag) else { return nil }
        if connection.planStale {
            freshen(loop, connection)
            if connection.state == .closed { return nil }
        }
        return connection
    }

    /// Applies the plan change a connection's re-plan waited for.
    func freshen(_ loop: EventLoop<Worker>, _ connection: Connection) {
        connection.planStale = false
        guard let route = routes[connection.routeName] else { return }
        replan(loop, connection, route: route)
    }

    /// Installs `policy` on the connection and counts (and journals) each new binding. `http`:
    /// the connection is an http route's (its latency-held bytes stay in the relay buffer).
    private func adopt(_ loop: EventLoop<Worker>, _ connection: Connection, policy: ConnectionPolicy, http: Bool) {
        // A handful of bindings at most: a linear look beats building a set per connection.
        let previous = connection.policy.bindings
        for binding in policy.bindings where !previous.contains(binding) {
            recordInjection(connection, binding)
        }
        connection.policy = policy
        connection.up.faults = updated(
            connection.up.faults, to: policy.upstream, now: loop.now, written: connection.up.bytesOut,
            serial: connection.serial, flow: .upstream, http: http)
        connection.down.faults = updated(
            connection.down.faults, to: policy.downstream, now: loop.now, written: connection.down.bytesOut,
            serial: connection.serial, flow: .downstream, http: http)
        for box in [connection.up.faults, connection.down.faults] {
            guard let box else { continue }
            box.state.latenessHistogram = box.state.policy.latency == nil ? nil : connection.counters.latencyLateness
        }
    }

    /// A direction's fault state under a new policy: nil when no fault acts on it any more and
    /// it holds no queued bytes (a cleared latency's queue drains first; the relay drops the
    /// box then).
    private func updated(
        _ box: StreamFaultsBox?, to policy: StreamPolicy, now: UInt64, written: UInt64, serial: UInt64, flow: Flow,
        http: Bool
    ) -> StreamFaultsBox? {
        if policy.isEmpty && (box?.delayed.isEmpty ?? true) { return nil }
        let box = box ?? StreamFaultsBox()
        box.state.update(to: policy, now: now, written: written, seed: plan.seed, serial: serial, flow: flow)
        box.queuesDelayed = policy.latency != nil && !http
        return box
    }

    private func recordInjection(_ connection: Connection, _ binding: FaultBinding) {
        injectionCounter(route: connection.routeName, fault: binding.faultID, type: binding.type).increment()
        if connection.logFault == nil { connection.logFault = binding.faultID }
        if binding.type == "partition" && connection.logOutcome == nil { connection.logOutcome = .partitioned }
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

extension Worker {
    /// This worker's shard of the injection counter for a route, fault and type.
    func injectionCounter(route: String, fault: String, type: String) -> Counter {
        Self.shard(&injectionCounters, InjectionKey(route: route, fault: fault, type: type)) {
            metrics.faultInjections.shard(labels: [route, fault, type], worker: index)
        }
    }

    /// This worker's counter shard cached under `key`, made by `make` the first time.
    static func shard<Key: Hashable>(_ cache: inout [Key: Counter], _ key: Key, make: () -> Counter) -> Counter {
        if let existing = cache[key] { return existing }
        let counter = make()
        cache[key] = counter
        return counter
    }
}

extension IPAddress {
    /// The address of a socket address (nil for Unix sockets).
    init?(_ address: SocketAddress) {
        let bytes = address.addressBytes
        switch bytes.count {
        case 4: self = .v4(bytes[0], bytes[1], bytes[2], bytes[3])
        case 16: self = .v6(bytes)
        default: return nil
        }
    }
}
