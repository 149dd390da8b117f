public import FaultlineCore
import FaultlineLoop
public import FaultlineMetrics
public import FaultlineSystem
import Synchronization

/// Why a plan could not be put in force. Nothing changed when one is thrown.
public enum ProxyError: Error, Sendable, CustomStringConvertible, SettingProblem, DataPlaneTimeout {
    /// A route's listener could not be bound.
    case bind(route: String, address: Endpoint, SystemError)
    /// A worker did not take the plan in time: it was rolled back, nothing changed.
    case workerTimeout
    /// A setting of the plan cannot be served: a TLS file that is missing or unusable.
    case setting(path: String, message: String)

    public var description: String {
        switch self {
        case .setting(let path, let message):
            return "\(path): \(message)"
        case .bind(let route, let address, let error):
            return "route \(route): cannot listen on \(address): \(error.reason)"
        case .workerTimeout:
            return "a worker did not take the new plan in time; nothing changed"
        }
    }

    public var dataPlaneTimeout: Bool {
        if case .workerTimeout = self { return true }
        return false
    }

    public var settingProblem: (path: String, message: String)? {
        if case .setting(let path, let message) = self { return (path, message) }
        return nil
    }
}

/// The data path: worker threads with their listeners and connections.
///
/// Called from the control side only. `apply` binds what a plan needs, posts the plan to every
/// worker and returns once each has it in force.
public final class Proxy: Sendable {
    /// Number of worker threads.
    public let workerCount: Int
    /// How long `apply` waits for every worker to answer each phase.
    let acknowledgeTimeout: Duration
    private let metrics: ProxyMetrics
    private let log: Logger
    private let limits = SharedLimits()
    /// The workers' loads and mailboxes, for balancing accepted connections.
    private let peers: WorkerPeers
    /// `attempts` counts shared by every worker.
    private let attemptLedger = AttemptLedger()
    /// Resolves the routes' upstream host names on its own thread.
    private let resolver: UpstreamResolver
    private let mailboxes: [Mailbox<WorkerMessage>]
    private let threads: [ThreadHandle]
    private let state = Mutex(ControlSideState())

    private struct ControlSideState {
        /// Per route: the address the config names and the one actually bound (port 0 resolved).
        var listening: [String: (configured: Endpoint, bound: Endpoint)] = [:]
        var plan: FaultPlan?
        /// Per route: the connection numbering every worker shares (kept while the route exists,
        /// so serials continue across plans).
        var routeShared: [String: RouteShared] = [:]
        /// The routes' TLS contexts, kept while their settings and files stay the same.
        var tls = TLSContextCache()
        /// Proposals numbered so far (see `apply`).
        var proposals: UInt64 = 0
    }

    /// Starts `workers` threads (0 = one per core) with no routes. Relay buffers are
    /// `bufferBytes` each (fixed for the process's life, like the worker count). `events`
    /// receives `fault.injected` events (rate-limited per connection).
    public convenience init(
        workers: Int, bufferBytes: Int = Limits.defaults.bufferBytes, metrics: ProxyMetrics, log: Logger,
        events: (any EventSink)? = nil
    ) throws(SystemError) {
        try self.init(
            workers: workers, bufferBytes: bufferBytes, metrics: metrics, log: log, events: events,
            resolver: UpstreamResolver(log: log))
    }

    /// As the public initializer, with the resolver given (tests answer names themselves) and
    /// the time `apply` waits for the workers (tests hold one busy).
    init(
        workers: Int, bufferBytes: Int, metrics: ProxyMetrics, log: Logger, events: (any EventSink)?, resolver: UpstreamResolver,
        acknowledgeTimeout: Duration = .seconds(10)
    ) throws(SystemError) {
        let count = workers > 0 ? workers : Posix.cpuCount
        workerCount = count
        let peers = WorkerPeers(count: count)
        self.peers = peers
        self.acknowledgeTimeout = acknowledgeTimeout
        self.metrics = metrics
        self.log = log
        self.resolver = resolver
        // Not joined on stop: a lookup in progress may take the resolver's full timeout, and
        // nothing waits on its answer once the workers are gone. Detached, so the thread is freed
        // when it ends (ThreadSanitizer reported it as a leaked thread).
        try resolver.start().detach()
        let started = Mutex<[Int: Mailbox<WorkerMessage>]>([:])
        let failures = Mutex<[SystemError]>([])
        let ready = CountdownLatch(count: count)
        let ledger = attemptLedger
        let initial = FaultPlan(version: 0, seed: 0, limits: .defaults, routes: [], faults: [])
        var threads: [ThreadHandle] = []
        for index in 0..<count {
            threads.append(Threads.spawn(name: "fl-worker-\(index)") { [limits, ledger, resolver, peers] in
                let loop: EventLoop<Worker>
                do throws(SystemError) {
                    loop = try EventLoop<Worker>()
                } catch {
                    failures.withLock { $0.append(error) }
                    ready.countDown()
                    return
                }
                let worker = Worker(
                    index: index, plan: initial, bufferBytes: bufferBytes, metrics: metrics, limits: limits, log: log,
                    events: events, attemptLedger: ledger, resolver: resolver, peers: peers)
                started.withLock { $0[index] = loop.mailbox }
                ready.countDown()
                do {
                    try loop.run(worker)
                } catch {
                    log.error("worker.failed", ["worker": "\(index)", "error": "\(error)"])
                }
            })
        }
        ready.wait()
        if let failure = failures.withLock({ $0.first }) {
            resolver.stop()
            throw failure
        }
        mailboxes = started.withLock { map in (0..<count).map { map[$0]! } }
        resolver.setWorkers(mailboxes)
        peers.setMailboxes(mailboxes)
        self.threads = threads
    }

    /// Checks that every TLS file `routes` name can be used (`--check-config`), building
    /// nothing that stays.
    public static func checkTLS(_ routes: [RouteSpec]) throws(ProxyError) {
        for (index, spec) in routes.enumerated() where spec.tls != nil || spec.upstreamTLS != nil {
            try TLSContextCache.check(spec, index: index)
        }
    }

    /// The listen addresses in force, port 0 resolved, by route name.
    public var boundAddresses: [String: Endpoint] {
        state.withLock { $0.listening.mapValues(\.bound) }
    }

    /// Puts `plan` in force on every worker and returns the plan as bound (listen ports resolved).
    ///
    /// New listeners are bound first, all workers' at once; if any bind fails, the ones bound are
    /// closed and nothing changes. Returns after every worker acknowledged.
    /// - Throws: `ProxyError`.
    @discardableResult
    public func apply(_ plan: FaultPlan) throws(ProxyError) -> FaultPlan {
        try state.withLock { (state) throws(ProxyError) -> FaultPlan in
            // TLS files first: a file that cannot be used refuses the plan before anything binds.
            var tlsCache = state.tls
            let tls = try tlsCache.contexts(for: plan.routes)
            var listening = state.listening
            var effective = plan
            let handoffs = (0..<workerCount).map { _ in ListenerHandoff() }
            var fresh: [String] = []
            for (index, route) in plan.routes.enumerated() {
                let spec = route.spec
                guard spec.enabled else {
                    listening[spec.name] = nil
                    continue
                }
                if let current = listening[spec.name], current.configured == spec.listen {
                    effective.routes[index].spec.listen = current.bound
                    continue
                }
                do throws(SystemError) {
                    // Our own listeners on a conflicting address: fine if their route leaves it
                    // with this plan (renamed, moved, removed; they close on commit), a conflict
                    // if it keeps it (a port-0 route's bound port named by another route).
                    var held = false
                    for (owner, current) in state.listening where ListenConflict.between(spec.listen, current.bound) != nil {
                        let keeps = plan.routes.contains {
                            $0.spec.name == owner && $0.spec.enabled && $0.spec.listen == current.configured
                        }
                        if keeps { throw SystemError(errno: Errno.addressInUse, call: "bind") }
                        held = true
                    }
                    let bound = try bindAll(spec.listen, into: handoffs, route: spec.name, heldHere: held)
                    listening[spec.name] = (spec.listen, bound)
                    effective.routes[index].spec.listen = bound
                    fresh.append(spec.name)
                } catch {
                    // Dropping the handoffs closes every listener bound so far.
                    throw ProxyError.bind(route: spec.name, address: spec.listen, error)
                }
            }
            let liveNames = Set(plan.routes.filter(\.spec.enabled).map(\.spec.name))
            listening = listening.filter { liveNames.contains($0.key) }
            var shared: [String: RouteShared] = [:]
            for route in plan.routes {
                shared[route.spec.name] = state.routeShared[route.spec.name] ?? RouteShared()
            }

            // Two phases, so that no worker runs a plan that another never gets: every worker
            // first sets the plan aside and answers; only when all have, each puts it in force.
            // A worker that does not answer in time (held busy) gets an abort queued behind the
            // proposal, the others drop theirs, the fresh listeners close with the handoffs, and
            // everything stays as it was. The ledger and resolver keep their state until commit.
            state.proposals &+= 1
            let id = state.proposals
            let prepared = CountdownLatch(count: workerCount)
            for (index, mailbox) in mailboxes.enumerated() {
                mailbox.post(.prepare(
                    PlanProposal(id: id, plan: effective, handoff: handoffs[index], shared: shared, tls: tls), prepared))
            }
            guard prepared.wait(timeoutNanoseconds: acknowledgeTimeout.nanoseconds) else {
                for mailbox in mailboxes { mailbox.post(.abort(id)) }
                // The fresh listeners close now, not when each worker reads its abort: a retry
                // of the same plan must find their ports free.
                for handoff in handoffs { handoff.closeAll() }
                log.error("dataplane.timeout", [
                    "phase": "prepare", "timeout": "\(acknowledgeTimeout)", "plan": "\(plan.version)",
                ])
                throw ProxyError.workerTimeout
            }
            resolver.retain(Set(plan.routes.filter(\.spec.enabled).compactMap { route -> UpstreamResolver.Key? in
                guard case .name(let name) = route.spec.upstream.host else { return nil }
                return UpstreamResolver.Key(name: name, port: route.spec.upstream.port)
            }))
            attemptLedger.retain(plan.routes.flatMap(\.faults).filter { $0.http.attempts != nil })
            let committed = CountdownLatch(count: workerCount)
            for mailbox in mailboxes { mailbox.post(.commit(id, committed)) }
            // Decided: a worker that stalls now still runs the plan when it reads its mailbox
            // (in order, before anything posted later), so the control side takes it as in force.
            if !committed.wait(timeoutNanoseconds: acknowledgeTimeout.nanoseconds) {
                log.warning("dataplane.slow_commit", ["timeout": "\(acknowledgeTimeout)", "plan": "\(plan.version)"])
            }
            state.listening = listening
            state.plan = effective
            state.routeShared = shared
            state.tls = tlsCache
            for name in fresh {
                log.info("route.listening", ["route": name, "address": "\(listening[name]!.bound)"])
            }
            return effective
        }
    }

    /// The request log of `route`: the entries with `seq` greater than `since`, oldest first,
    /// at most `limits.request_log` of them (the newest). Each worker hands over its part
    /// between two events, so the hot path takes no lock; empty when the route keeps none.
    public func requestLog(route: String, since: UInt64) -> [RequestRecord] {
        let limit = state.withLock { $0.plan?.limits.requestLog ?? 0 }
        let collector = RequestLogCollector(workers: workerCount)
        for mailbox in mailboxes { mailbox.post(.readLog(route: route, since: since, collector)) }
        guard collector.done.wait(timeoutNanoseconds: 10_000_000_000) else { return [] }
        var records = collector.records
        records.sort { $0.seq < $1.seq }
        if let newest = records.last?.seq, newest > UInt64(limit) {
            let oldestKept = newest - UInt64(limit)
            if let first = records.firstIndex(where: { $0.seq > oldestKept }), first > 0 {
                records.removeFirst(first)
            }
        }
        return records
    }

    /// Stops accepting, lets open connections finish for up to `grace`, then closes the rest.
    /// Returns true when every connection finished within the grace period.
    public func drain(grace: Duration) -> Bool {
        for mailbox in mailboxes { mailbox.post(.drain) }
        let deadline = Linux.monotonicNanoseconds() &+ grace.nanoseconds
        while limits.openConnections.load(ordering: .relaxed) > 0 && Linux.monotonicNanoseconds() < deadline {
            Linux.sleep(nanoseconds: 5_000_000)
        }
        let clean = limits.openConnections.load(ordering: .relaxed) == 0
        stop()
        return clean
    }

    /// Closes everything and waits for the workers to exit.
    public func stop() {
        for mailbox in mailboxes { mailbox.post(.stop) }
        for thread in threads { thread.join() }
        resolver.stop()
    }

    /// Runs `body` on worker `index`'s thread between two of its events (tests hold a worker busy).
    /// `faultline_worker_connections{worker}`, for the daemon's registry.
    public var workerConnections: Collector { peers.collector }

    func runOnWorker(_ index: Int, _ body: @escaping @Sendable () -> Void) {
        mailboxes[index].post(.run(body))
    }

    /// Connections open across all workers.
    public var openConnections: Int { limits.openConnections.load(ordering: .relaxed) }

    /// Binds one listener per worker on `endpoint`. `heldHere`: this process listens there
    /// already (a route renamed or moved by the same plan), so the group is joined as before.
    private func bindAll(
        _ endpoint: Endpoint, into handoffs: [ListenerHandoff], route: String, heldHere: Bool
    ) throws(SystemError) -> Endpoint {
        var address = SocketAddress(endpoint)
        var bound = endpoint
        // The workers' listeners share the port through SO_REUSEPORT, which another faultlined
        // of the same user could join: refuse a port somebody already listens on.
        if endpoint.port != 0, !heldHere { try Posix.checkNobodyListens(at: address) }
        for handoff in handoffs {
            let fd = try Posix.listen(at: address, reusePort: true)
            if bound.port == 0 {
                bound.port = try Posix.localAddress(fd).port
                address = SocketAddress(bound)
            }
            handoff.put(route: route, fd)
        }
        return bound
    }
}
