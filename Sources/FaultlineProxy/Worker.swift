import FaultlineCore
import FaultlineLoop
import FaultlineMetrics
import FaultlineSystem
import Synchronization

/// Limits every worker shares.
final class SharedLimits: Sendable {
    /// Connections open across all workers.
    let openConnections = Atomic<Int>(0)
    let maxConnections = Atomic<Int>(Limits.defaults.maxConnections)

    init() {}

    /// Reserves a connection slot; false when the limit is reached.
    func reserve() -> Bool {
        let max = maxConnections.load(ordering: .relaxed)
        let now = openConnections.wrappingAdd(1, ordering: .relaxed).newValue
        if now > max {
            openConnections.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        openConnections.wrappingSubtract(1, ordering: .relaxed)
    }
}

/// One event-loop thread: its listeners, the connections it accepted, its counters.
/// Shares nothing mutable with other workers.
final class Worker: EventLoopDelegate {
    typealias Message = WorkerMessage

    /// A route as this worker runs it.
    final class Route {
        let spec: RouteSpec
        let plan: RoutePlan
        /// Where connects go: the IP endpoint's one address, or a name the resolver answers.
        let upstream: Upstream
        let counters: RouteCounters
        let shared: RouteShared
        /// This worker's part of the route's request log.
        let log: RouteRequestLog
        /// The route's HTTP faults (empty on tcp routes, and on http routes without any).
        let httpFaults: [FaultSpec]
        /// The route's TLS contexts; nil on a route without TLS.
        let tls: RouteTLS?

        init(plan: RoutePlan, counters: RouteCounters, shared: RouteShared, log: RouteRequestLog, tls: RouteTLS?) {
            self.tls = tls
            self.log = log
            self.httpFaults = HTTPFaultDecider.httpFaults(plan.faults)
            self.spec = plan.spec
            self.plan = plan
            switch plan.spec.upstream.host {
            case .address(let address):
                upstream = .addresses([SocketAddress(Endpoint(address: address, port: plan.spec.upstream.port))])
            case .name(let name):
                upstream = .name(UpstreamResolver.Key(name: name, port: plan.spec.upstream.port))
            }
            self.counters = counters
            self.shared = shared
        }
    }

    /// A route's upstream as workers dial it.
    enum Upstream {
        case addresses([SocketAddress])
        case name(UpstreamResolver.Key)
    }

    /// A listening socket of this worker.
    final class Listener {
        let routeName: String
        let slot: UInt32
        var fd: FileDescriptor?
        var registration: Registration?
        var pending = false
        /// Out of descriptors (or memory): when to try again; see `Worker+Accept.swift`.
        var backoff = AcceptBackoff()
        /// Whether its read interest is on (off while backed off).
        var watched = true
        /// This worker's `faultline_accept_failures_total` shards of the route, made on first use.
        var failureCounters: [AcceptFailureReason: Counter] = [:]

        init(routeName: String, slot: UInt32, fd: consuming FileDescriptor) {
            self.routeName = routeName
            self.slot = slot
            self.fd = consume fd
        }
    }

    let index: Int
    let metrics: ProxyMetrics
    let limits: SharedLimits
    let log: Logger
    let events: (any EventSink)?
    /// `attempts` counts, shared by every worker.
    let attemptLedger: AttemptLedger
    /// Answers upstream host names without blocking this loop.
    let resolver: UpstreamResolver
    /// The other workers: their loads, and their mailboxes for handing over a connection.
    let peers: WorkerPeers
    /// Connections (client tags) parked until a host name resolves, by name.
    var awaitingResolution: [UpstreamResolver.Key: [UInt64]] = [:]
    /// Injection counter shards by route, fault and type.
    var injectionCounters: [InjectionKey: Counter] = [:]
    /// TLS handshake failure shards by route, side and reason.
    var tlsFailureCounters: [TLSFailureKey: Counter] = [:]
    /// HTTP/2 protocol error shards by route, side and reason.
    var h2ErrorCounters: [H2ErrorKey: Counter] = [:]
    /// Where an HTTP/2 connection's frames for each side are made before they are written (kept
    /// between uses, so a flush allocates nothing).
    var h2ScratchClient: [UInt8] = []
    var h2ScratchUpstream: [UInt8] = []
    /// Where ciphertext read from a socket lands before it goes into its session (one per
    /// worker, made by the first TLS connection; it lives as long as the worker's thread).
    lazy var tlsScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private(set) var plan: FaultPlan
    /// A plan prepared but not yet committed or aborted (the first phase of `Proxy.apply`).
    private var pendingPlan: PlanProposal?
    var routes: [String: Route] = [:]
    private var counters: [String: RouteCounters] = [:]
    /// This worker's parts of the routes' request logs, kept while the route exists.
    private var requestLogs: [String: RouteRequestLog] = [:]

    var listeners: [Listener?] = []
    var readyListeners: [UInt32] = []
    /// Listeners in an accept back-off episode (their read interest off); a closing connection
    /// tells them a descriptor came back.
    var exhaustedListeners = 0

    var connections: [Connection?] = []
    var connectionGenerations: [UInt32] = []
    var freeConnectionSlots: [UInt32] = []
    var openConnectionCount = 0
    var readyList: [Connection] = []
    let pool: BufferPool
    /// Bytes one connection may move per wake before others get a turn.
    let wakeBudget: Int
    /// `limits.latency_queue_bytes` of the plan in force: what a latency fault may hold in one
    /// direction (a reload changes it for every connection at once).
    private(set) var latencyQueueBytes = Limits.defaults.latencyQueueBytes

    var draining = false

    init(
        index: Int, plan: FaultPlan, bufferBytes: Int, metrics: ProxyMetrics, limits: SharedLimits,
        log: Logger, events: (any EventSink)?, attemptLedger: AttemptLedger = AttemptLedger(), resolver: UpstreamResolver,
        peers: WorkerPeers = WorkerPeers(count: 1)
    ) {
        self.peers = peers
        self.resolver = resolver
        self.events = events
        self.attemptLedger = attemptLedger
        self.index = index
        self.plan = plan
        self.metrics = metrics
        self.limits = limits
        self.log = log
        pool = BufferPool(bufferSize: bufferBytes)
        wakeBudget = max(4 * bufferBytes, 1 << 20)
    }

    // MARK: EventLoopDelegate

    func loop(_ loop: EventLoop<Worker>, ready events: Linux.EpollEvents, tag raw: UInt64) {
        guard let tag = Tag(rawValue: raw) else { return }
        switch tag.kind {
        case .listener:
            acceptAll(loop, listenerSlot: tag.slot)
        case .client, .upstream:
            guard let connection = liveConnection(loop, tag) else { return }
            let side: Connection.Side = tag.kind == .client ? .client : .upstream
            noteReadiness(connection, side: side, events: events)
            if connection.tls != nil {
                if isHandshaking(connection, side) {
                    continueHandshake(loop, connection, side: side)
                    return
                }
            }
            if connection.isHTTP {
                httpReady(loop, connection, side: side)
                return
            }
            if connection.state == .connecting {
                // A terminated client's ciphertext (tickets) goes out while the upstream connects.
                if let tls = connection.tls, !flushPendingTLS(connection, tls) {
                    close(loop, connection, reset: true)
                    return
                }
                if tag.kind == .upstream { finishConnect(loop, connection) }
                return
            }
            relay(loop, connection)
            if events.contains(.error) { resetIfFailedAfterEnd(loop, connection, side: side) }
        default:
            break
        }
    }

    func loop(_ loop: EventLoop<Worker>, timerFired raw: UInt64) {
        guard let tag = Tag(rawValue: raw) else { return }
        switch tag.kind {
        case .connectTimeout:
            guard let connection = liveConnection(loop, tag) else { return }
            // A connect that finished and is in its TLS handshake has that deadline instead.
            guard !isHandshaking(connection, .upstream) else { return }
            if connection.isHTTP {
                guard connection.httpUpstreamConnecting else { return }
            } else {
                guard connection.state == .connecting else { return }
            }
            // A timer of an earlier address (or of the wait for the name) that moved on.
            guard loop.now >= connection.connectDeadline else { return }
            if connection.upstream != nil, connection.nextCandidate < connection.upstreamCandidates.count {
                // This address did not answer in time: the next one gets its own connect timeout.
                closeUpstream(loop, connection)
                connectCandidate(loop, connection)
                return
            }
            failConnect(loop, connection, reason: .timeout)
        case .httpTimer:
            guard let connection = liveConnection(loop, tag) else { return }
            httpTimerFired(loop, connection)
        case .upstreamStreamTimer, .downstreamStreamTimer:
            guard let connection = liveConnection(loop, tag) else { return }
            relay(loop, connection)
        case .connectionFaultTimer:
            guard let connection = liveConnection(loop, tag) else { return }
            connectDelayElapsed(loop, connection)
        case .tlsHandshakeTimer:
            guard let connection = liveConnection(loop, tag) else { return }
            tlsHandshakeTimerFired(loop, connection)
        case .acceptRetry:
            acceptRetryDue(loop, listenerSlot: tag.slot)
        default:
            break
        }
    }

    func loop(_ loop: EventLoop<Worker>, received messages: [WorkerMessage]) {
        for message in messages {
            switch message {
            case .prepare(let proposal, let ack):
                pendingPlan = proposal
                ack.countDown()
            case .commit(let id, let ack):
                if let proposal = pendingPlan, proposal.id == id {
                    pendingPlan = nil
                    install(loop, plan: proposal.plan, handoff: proposal.handoff, shared: proposal.shared, tls: proposal.tls)
                }
                ack.countDown()
            case .abort(let id):
                if pendingPlan?.id == id { pendingPlan = nil }
            case .run(let body):
                body()
            case .readLog(let route, let since, let collector):
                collector.add(requestLogs[route]?.ring.entries(since: since) ?? [])
            case .adopt(let name, let box, let peer, let serial):
                guard let fd = box.take() else { break }
                guard !draining, let route = routes[name] else {
                    // The route went (or the daemon drains) while the connection was on its way.
                    fd.close()
                    limits.release()
                    peers.loads[index].open.wrappingSubtract(1, ordering: .relaxed)
                    break
                }
                place(loop, route: route, fd: fd, peer: peer, serial: serial)
            case .resolved(let key):
                guard let waiting = awaitingResolution.removeValue(forKey: key) else { break }
                for raw in waiting {
                    guard let tag = Tag(rawValue: raw), let connection = connection(tag), connection.awaitingResolution,
                          let route = routes[connection.routeName] else { continue }
                    startConnect(loop, connection, route: route)
                }
            case .drain:
                draining = true
                closeAllListeners(loop)
                if openConnectionCount == 0 { loop.stop() }
            case .stop:
                closeAllListeners(loop)
                for case let connection? in connections {
                    close(loop, connection, reset: false)
                }
                loop.stop()
            }
        }
    }

    func loopTurnEnded(_ loop: EventLoop<Worker>) -> Bool {
        if !readyListeners.isEmpty {
            let pending = readyListeners
            readyListeners.removeAll(keepingCapacity: true)
            for slot in pending {
                listeners[Int(slot)]?.pending = false
                acceptAll(loop, listenerSlot: slot)
            }
        }
        if !readyList.isEmpty {
            let pending = readyList
            readyList.removeAll(keepingCapacity: true)
            for connection in pending {
                connection.onReadyList = false
                if connection.planStale { freshen(loop, connection) }
                if connection.state == .open { relay(loop, connection) }
            }
        }
        if draining && openConnectionCount == 0 { loop.stop() }
        return !readyList.isEmpty || !readyListeners.isEmpty
    }

    // MARK: Plans

    /// Swaps in a new plan: listeners of removed or disabled routes close (with their
    /// connections), new listeners start, open connections are re-planned.
    func install(
        _ loop: EventLoop<Worker>, plan newPlan: FaultPlan, handoff: ListenerHandoff, shared: [String: RouteShared],
        tls: [String: RouteTLS] = [:]
    ) {
        let oldRoutes = routes
        let oldSeed = plan.seed
        plan = newPlan
        limits.maxConnections.store(newPlan.limits.maxConnections, ordering: .relaxed)
        // A raised limit must reach directions that stopped reading at the old one: nothing else
        // wakes them (their destination may be blocked, with no release timer left).
        let queueGrew = newPlan.limits.latencyQueueBytes > latencyQueueBytes
        latencyQueueBytes = newPlan.limits.latencyQueueBytes
        var newRoutes: [String: Route] = [:]
        for routePlan in newPlan.routes where routePlan.spec.enabled {
            let name = routePlan.spec.name
            let counters = self.counters[name] ?? RouteCounters(route: name, worker: index, metrics: metrics)
            self.counters[name] = counters
            let routeShared = shared[name] ?? RouteShared()
            let log: RouteRequestLog
            if let existing = requestLogs[name] {
                log = existing
                log.shared = routeShared
                log.resize(to: newPlan.limits.requestLog)
            } else {
                log = RouteRequestLog(
                    route: name, capacity: newPlan.limits.requestLog, shared: routeShared, worker: index, metrics: metrics)
                requestLogs[name] = log
            }
            newRoutes[name] = Route(plan: routePlan, counters: counters, shared: routeShared, log: log, tls: tls[name])
        }
        routes = newRoutes
        // A route that is gone takes its log with it (a disabled one keeps its history).
        let known = Set(newPlan.routes.map(\.spec.name))
        requestLogs = requestLogs.filter { known.contains($0.key) }
        // ... and its metric series, as does a fault that is gone (dropped below, once its
        // connections are closed).
        let goneRoutes = Set(counters.keys.filter { !known.contains($0) })
        var faultsByRoute: [String: Set<String>] = [:]
        for routePlan in newPlan.routes { faultsByRoute[routePlan.spec.name] = Set(routePlan.faults.map(\.id)) }
        let goneFaults = Set(injectionCounters.keys.filter { faultsByRoute[$0.route]?.contains($0.fault) != true })

        // Listeners: a handed-over descriptor replaces any listener of that route; a listener
        // whose route is gone or disabled closes.
        for case let listener? in listeners {
            if routes[listener.routeName] == nil || handoff.routes.contains(listener.routeName) {
                closeListener(loop, listener)
            }
        }
        if !draining {
            for name in handoff.routes {
                guard let box = handoff.take(route: name), let fd = box.take() else { continue }
                addListener(loop, routeName: name, fd: fd)
            }
        }

        // Open connections: only those of routes whose faults changed are re-planned, and of
        // those, a connection nothing is bound to waits for its next event (Worker+Faults.swift,
        // `ReplanScope`), so applying a fault costs a flag per connection, not a re-plan.
        var scopes: [String: ReplanScope] = [:]
        for (name, route) in routes {
            scopes[name] = ReplanScope(
                old: oldRoutes[name]?.plan.faults, new: route.plan.faults, seedChanged: oldSeed != newPlan.seed)
        }
        for case let connection? in connections {
            guard let route = routes[connection.routeName], let scope = scopes[connection.routeName] else {
                close(loop, connection, reset: false)
                continue
            }
            switch scope {
            case .unchanged:
                break
            case .deferrable where connection.replanCanWait:
                // The HTTP codec reads its faults per request: handing them over costs nothing.
                connection.http?.machine.faults = route.httpFaults
                if let bridge = connection.h2, bridge.faults != route.httpFaults { bridge.faultsChanged(route.httpFaults) }
                connection.planStale = true
            case .deferrable, .everyConnection:
                connection.planStale = false
                replan(loop, connection, route: route)
            }
            if queueGrew && connection.state == .open && !connection.isHTTP
                && ((connection.up.faults?.queuesDelayed ?? false) || (connection.down.faults?.queuesDelayed ?? false)) {
                relay(loop, connection)
            }
        }

        // Nothing of this worker writes those shards any more: forget them, then drop them.
        for name in goneRoutes { counters[name] = nil }
        for key in goneFaults { injectionCounters[key] = nil }
        metrics.dropShards(worker: index, routes: goneRoutes, faults: goneFaults)
    }


    // MARK: Listeners

    private func addListener(_ loop: EventLoop<Worker>, routeName: String, fd: consuming FileDescriptor) {
        let slot: UInt32
        if let free = listeners.firstIndex(where: { $0 == nil }) {
            slot = UInt32(free)
        } else {
            slot = UInt32(listeners.count)
            listeners.append(nil)
        }
        let listener = Listener(routeName: routeName, slot: slot, fd: fd)
        listeners[Int(slot)] = listener
        switch listener.fd {
        case .some(let fd):
            do {
                listener.registration = try loop.register(
                    fd, interest: [.readable, .edgeTriggered],
                    tag: Tag(kind: .listener, slot: slot, generation: 0).rawValue)
            } catch {
                log.error("listener.register_failed", ["route": routeName, "error": "\(error)"])
            }
        case .none:
            break
        }
        // Connections may have queued before registration; an edge could be missed.
        readyListeners.append(slot)
        listener.pending = true
    }

    private func closeListener(_ loop: EventLoop<Worker>, _ listener: Listener) {
        if listener.backoff.inEpisode { exhaustedListeners -= 1 }
        if let registration = listener.registration { loop.deregister(registration) }
        listener.registration = nil
        listener.fd.take()?.close()
        listeners[Int(listener.slot)] = nil
        readyListeners.removeAll { $0 == listener.slot }
    }

    private func closeAllListeners(_ loop: EventLoop<Worker>) {
        for case let listener? in listeners { closeListener(loop, listener) }
    }

    func admit(_ loop: EventLoop<Worker>, route: Route, accepted: consuming Posix.Accepted) {
        let peer = accepted.peer
        let fd = accepted.takeDescriptor()
        guard !draining, limits.reserve() else {
            route.counters.rejected.increment()
            fd.close()
            return
        }
        let serial = route.shared.takeSerial()
        if let target = peers.handOverTarget(from: index) {
            let box = FileDescriptorBox(fd)
            if peers.post(.adopt(route: route.spec.name, box, peer: peer, serial: serial), to: target) { return }
            // No mailboxes yet: keep it here after all.
            peers.loads[target].open.wrappingSubtract(1, ordering: .relaxed)
            guard let kept = box.take() else { return }
            peers.loads[index].open.wrappingAdd(1, ordering: .relaxed)
            place(loop, route: route, fd: kept, peer: peer, serial: serial)
            return
        }
        peers.loads[index].open.wrappingAdd(1, ordering: .relaxed)
        place(loop, route: route, fd: fd, peer: peer, serial: serial)
    }

    /// Gives an accepted connection (of this worker, or handed over by another) its slot and
    /// registration, then its TLS handshake or its faults and upstream connect.
    private func place(
        _ loop: EventLoop<Worker>, route: Route, fd: consuming FileDescriptor, peer: SocketAddress, serial: UInt64
    ) {
        let slot: UInt32
        if let free = freeConnectionSlots.popLast() {
            slot = free
        } else {
            slot = UInt32(connections.count)
            connections.append(nil)
            connectionGenerations.append(0)
        }
        let connection = Connection(
            slot: slot, generation: connectionGenerations[Int(slot)], routeName: route.spec.name,
            serial: serial, counters: route.counters, log: route.log, client: fd, peer: peer, acceptedAt: loop.now)
        connections[Int(slot)] = connection
        openConnectionCount += 1
        route.counters.accepted.increment()
        route.counters.active.increment()
        do {
            switch connection.client {
            case .some(let fd):
                Posix.setNoDelay(fd)
                connection.clientRegistration = try loop.register(
                    fd, interest: [.readable, .writable, .readHangup, .edgeTriggered],
                    tag: Tag(kind: .client, slot: slot, generation: connection.generation).rawValue)
            case .none:
                break
            }
        } catch {
            log.error("connection.register_failed", ["route": route.spec.name, "error": "\(error)"])
            close(loop, connection, reset: true)
            return
        }
        if let context = route.tls?.server {
            // Faults bind, and the upstream is dialled, once the client's handshake is done.
            startTLS(loop, connection, side: .client, context: context, serverName: nil)
            return
        }
        connectionOpened(loop, connection, route: route)
    }

    // MARK: Connections

    func connection(_ tag: Tag) -> Connection? {
        let i = Int(tag.slot)
        guard i < connections.count, connectionGenerations[i] == tag.generation else { return nil }
        return connections[i]
    }

    func tag(_ kind: Tag.Kind, _ connection: Connection) -> UInt64 {
        Tag(kind: kind, slot: connection.slot, generation: connection.generation).rawValue
    }

    private func noteReadiness(_ connection: Connection, side: Connection.Side, events: Linux.EpollEvents) {
        let readable = !events.isDisjoint(with: [.readable, .readHangup, .hangup, .error])
        let writable = !events.isDisjoint(with: [.writable, .hangup, .error])
        let hangup = !events.isDisjoint(with: [.readHangup, .hangup, .error])
        switch side {
        case .client:
            if readable { connection.clientReadable = true }
            if writable { connection.clientWritable = true }
            if hangup { connection.clientHangup = true }
        case .upstream:
            if readable { connection.upstreamReadable = true }
            if writable { connection.upstreamWritable = true }
            if hangup { connection.upstreamHangup = true }
        }
    }

    /// A side that already ended its stream is not read again, so an RST it sends after its FIN
    /// shows only as EPOLLERR: pass it on, as a network would, once the relay flushed what it could.
    private func resetIfFailedAfterEnd(_ loop: EventLoop<Worker>, _ connection: Connection, side: Connection.Side) {
        guard connection.state == .open else { return }
        let ended = side == .client ? connection.up.sourceEnded : connection.down.sourceEnded
        guard ended, let error = connection.withSocket(side, { Posix.pendingError($0) }), error != 0 else { return }
        close(loop, connection, reset: true)
    }

    /// Starts the upstream connect: to the route's address, or to every address its host name
    /// resolves to, in order. A name not answered yet parks the connection (its connect timeout
    /// running) until the resolver thread answers.
    func startConnect(_ loop: EventLoop<Worker>, _ connection: Connection, route: Route) {
        connection.awaitingResolution = false
        switch route.upstream {
        case .addresses(let addresses):
            connection.upstreamCandidates = addresses
        case .name(let key):
            switch resolver.lookup(key) {
            case .addresses(let addresses):
                connection.upstreamCandidates = addresses
            case .failed:
                failConnect(loop, connection, reason: .resolve)
                return
            case .pending:
                connection.awaitingResolution = true
                awaitingResolution[key, default: []].append(tag(.client, connection))
                armConnectTimeout(loop, connection)
                return
            }
        }
        connection.nextCandidate = 0
        connectCandidate(loop, connection)
    }

    /// Connects to the next address of `upstreamCandidates`; one that fails at once is skipped
    /// for the one after it. The connect fails once every address did.
    private func connectCandidate(_ loop: EventLoop<Worker>, _ connection: Connection) {
        var failure = ConnectFailure.error
        while connection.nextCandidate < connection.upstreamCandidates.count {
            let address = connection.upstreamCandidates[connection.nextCandidate]
            connection.nextCandidate += 1
            do throws(SystemError) {
                try connect(loop, connection, to: address)
                return
            } catch {
                closeUpstream(loop, connection)
                failure = ConnectFailure(errno: error.errno)
            }
        }
        failConnectOnEveryAddress(loop, connection, reason: failure)
    }

    /// Every address failed: the route's host name (if any) is asked again for the next connect.
    private func failConnectOnEveryAddress(_ loop: EventLoop<Worker>, _ connection: Connection, reason: ConnectFailure) {
        if case .name(let key)? = routes[connection.routeName]?.upstream { resolver.refresh(key, failed: connection.upstreamCandidates) }
        failConnect(loop, connection, reason: reason)
    }

    private func connect(_ loop: EventLoop<Worker>, _ connection: Connection, to address: SocketAddress) throws(SystemError) {
        let fd = try Posix.socket(family: address.family)
        Posix.setNoDelay(fd)
        let connected = try Posix.connect(fd, to: address)
        connection.upstream = consume fd
        switch connection.upstream {
        case .some(let fd):
            connection.upstreamRegistration = try loop.register(
                fd, interest: [.readable, .writable, .readHangup, .edgeTriggered],
                tag: tag(.upstream, connection))
        case .none:
            break
        }
        if connected {
            connection.upstreamWritable = true
            connectionEstablished(loop, connection)
        } else {
            armConnectTimeout(loop, connection)
        }
    }

    /// `limits.connect_timeout` from now, for the wait in progress (a name, or one address).
    private func armConnectTimeout(_ loop: EventLoop<Worker>, _ connection: Connection) {
        connection.connectDeadline = loop.now.addingSaturating(plan.limits.connectTimeout.nanoseconds)
        loop.scheduleCoarse(at: connection.connectDeadline, tag: tag(.connectTimeout, connection))
    }

    func finishConnect(_ loop: EventLoop<Worker>, _ connection: Connection) {
        guard connection.upstream != nil else { return }
        let error: Int32
        switch connection.upstream {
        case .some(let fd): error = Posix.pendingError(fd)
        case .none: return
        }
        if error == 0 {
            connectionEstablished(loop, connection)
        } else if error != Errno.inProgress {
            closeUpstream(loop, connection)
            if connection.nextCandidate < connection.upstreamCandidates.count {
                connectCandidate(loop, connection)
            } else {
                failConnectOnEveryAddress(loop, connection, reason: ConnectFailure(errno: error))
            }
        }
    }

    private func connectionEstablished(_ loop: EventLoop<Worker>, _ connection: Connection) {
        if let routeTLS = routes[connection.routeName]?.tls,
           let context = connection.h2 == nil ? routeTLS.client : routeTLS.clientH2 ?? routeTLS.client {
            startTLS(loop, connection, side: .upstream, context: context, serverName: routeTLS.upstreamName)
            return
        }
        upstreamReady(loop, connection)
    }

    /// The upstream is connected (and its TLS handshake done): bytes may flow.
    func upstreamReady(_ loop: EventLoop<Worker>, _ connection: Connection) {
        if let session = connection.http {
            session.machine.upstream = .connected
            httpRelay(loop, connection)
            return
        }
        if let bridge = connection.h2 {
            bridge.upstreamPhase = .connected
            h2Relay(loop, connection, bridge)
            return
        }
        connection.state = .open
        relay(loop, connection)
    }

    private func failConnect(_ loop: EventLoop<Worker>, _ connection: Connection, reason: ConnectFailure) {
        connection.awaitingResolution = false
        connection.counters.failure(reason).increment()
        if connection.logOutcome == nil { connection.logOutcome = reason == .timeout ? .timedOut : .refused }
        log.debug("upstream.connect_failed", ["route": connection.routeName, "reason": reason.rawValue])
        if connection.isHTTP {
            httpConnectFailed(loop, connection, reason: reason)
            return
        }
        close(loop, connection, reset: false)
    }

    /// Closes both sockets and frees the slot. `reset` sends RST instead of FIN on both.
    func close(_ loop: EventLoop<Worker>, _ connection: Connection, reset: Bool) {
        guard connection.state != .closed else { return }
        if !connection.isHTTP && !connection.skipsAttemptLog && connection.log.isEnabled { logAttempt(loop, connection, reset: reset) }
        connection.state = .closed
        if let registration = connection.clientRegistration { loop.deregister(registration) }
        if let registration = connection.upstreamRegistration { loop.deregister(registration) }
        if reset {
            connection.client.take()?.closeWithReset()
            connection.upstream.take()?.closeWithReset()
        } else {
            connection.client.take()?.close()
            connection.upstream.take()?.close()
        }
        connection.up.buffer.release(to: pool)
        connection.down.buffer.release(to: pool)
        releaseDelayed(connection, &connection.up)
        releaseDelayed(connection, &connection.down)
        let i = Int(connection.slot)
        connections[i] = nil
        connectionGenerations[i] &+= 1
        freeConnectionSlots.append(connection.slot)
        openConnectionCount -= 1
        peers.loads[index].open.wrappingSubtract(1, ordering: .relaxed)
        connection.counters.active.decrement()
        limits.release()
        if exhaustedListeners > 0 { descriptorsFreed(loop) }
    }
}

extension Worker {
    /// A tcp connection ends: its attempt goes in the route's log.
    private func logAttempt(_ loop: EventLoop<Worker>, _ c: Connection, reset: Bool) {
        let outcome = c.logOutcome ?? (reset ? .reset : .relayed)
        c.log.record(RequestRecord(
            seq: 0, timestamp: c.log.wallClock(c.acceptedAt), route: "", conn: c.serial, request: 0, source: c.source,
            http: nil, outcome: outcome, fault: c.logFault, upstreamNanoseconds: nil,
            totalNanoseconds: loop.now &- c.acceptedAt))
    }
}

extension ConnectFailure {
    init(errno: Int32) {
        switch errno {
        case Errno.connectionRefused: self = .refused
        case Errno.timedOut: self = .timeout
        case Errno.networkUnreachable, Errno.hostUnreachable: self = .unreachable
        default: self = .error
        }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (ns, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        return ns &+ UInt64(attoseconds / 1_000_000_000)
    }
}

extension SocketAddress {
    init(_ endpoint: Endpoint) {
        switch endpoint.address {
        case .v4(let a, let b, let c, let d): self.init(ipv4: a, b, c, d, port: endpoint.port)
        case .v6(let bytes): self.init(ipv6: bytes, port: endpoint.port)
        }
    }
}

@available(*, unavailable)
extension Worker: Sendable {}
