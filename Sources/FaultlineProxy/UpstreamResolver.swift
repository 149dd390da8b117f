import FaultlineCore
import FaultlineLoop
import FaultlineSystem
import Synchronization

/// Resolves upstream host names on a thread of its own, so no worker loop ever waits on DNS.
///
/// Workers read the answers under a mutex held only to copy an entry (never across a lookup).
/// A name nobody asked for yet, or whose answer went stale, is queued to the resolver thread,
/// which calls getaddrinfo and then tells every worker (`WorkerMessage.resolved`) so the
/// connections parked on the name dial on.
///
/// getaddrinfo does not report DNS TTLs, so an answer is kept for a fixed `ttl` (30 s) and then
/// asked again; until the new answer arrives the old one is still used. A connect that failed on
/// every address asks again at once (the service may have moved). A name that did not resolve is
/// asked again after `negativeTTL` (1 s): docker-compose services often come up after the proxy.
final class UpstreamResolver: Sendable {
    /// A name and the port its addresses get.
    struct Key: Hashable, Sendable {
        var name: String
        var port: UInt16
    }

    /// What a worker gets for a name.
    enum Lookup {
        /// Connect to these, in order.
        case addresses([SocketAddress])
        /// The name does not resolve: the connect fails with `reason="resolve"`.
        case failed
        /// Being resolved: park the connection until `WorkerMessage.resolved`.
        case pending
    }

    /// What the resolver thread is told.
    enum Message: Sendable {
        case resolve(Key)
        case stop
    }

    static let ttlNanoseconds: UInt64 = 30_000_000_000
    static let negativeTTLNanoseconds: UInt64 = 1_000_000_000

    private struct Entry {
        var addresses: [SocketAddress] = []
        var failed = false
        /// An answer has arrived (addresses or a failure).
        var answered = false
        var answeredAt: UInt64 = 0
        /// Queued to the resolver thread and not answered yet.
        var inFlight = false
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var workers: [Mailbox<WorkerMessage>] = []
        var requests: Mailbox<Message>?
    }

    private let state = Mutex(State())
    private let log: Logger

    init(log: Logger) {
        self.log = log
    }

    /// Starts the resolver thread; it runs until `stop`.
    func start() throws(SystemError) -> ThreadHandle {
        let ready = CountdownLatch(count: 1)
        let failure = Mutex<SystemError?>(nil)
        let thread = Threads.spawn(name: "fl-resolver") { [self] in
            let loop: EventLoop<ResolverThread>
            do throws(SystemError) {
                loop = try EventLoop<ResolverThread>()
            } catch {
                failure.withLock { $0 = error }
                ready.countDown()
                return
            }
            state.withLock { $0.requests = loop.mailbox }
            ready.countDown()
            do {
                try loop.run(ResolverThread(resolver: self))
            } catch {
                log.error("resolver.failed", ["error": "\(error)"])
            }
        }
        ready.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        return thread
    }

    /// The workers told when an answer arrives.
    func setWorkers(_ mailboxes: [Mailbox<WorkerMessage>]) {
        state.withLock { $0.workers = mailboxes }
    }

    /// Stops the resolver thread (after the lookup in progress, if any).
    func stop() {
        state.withLock { $0.requests }?.post(.stop)
    }

    /// The addresses of `key` as far as known now (worker threads; never waits for DNS).
    func lookup(_ key: Key) -> Lookup {
        let now = Linux.monotonicNanoseconds()
        let (result, ask) = state.withLock { state -> (Lookup, Bool) in
            guard var entry = state.entries[key] else {
                state.entries[key] = Entry(inFlight: true)
                return (.pending, true)
            }
            var ask = false
            let lifetime = entry.failed ? Self.negativeTTLNanoseconds : Self.ttlNanoseconds
            if entry.answered, !entry.inFlight, now &- entry.answeredAt >= lifetime {
                entry.inFlight = true
                state.entries[key] = entry
                ask = true
            }
            if !entry.answered || (entry.failed && entry.inFlight) { return (.pending, ask) }
            return (entry.failed ? .failed : .addresses(entry.addresses), ask)
        }
        if ask { request(key) }
        return result
    }

    /// Asks for `key` again (a connect failed on every address it had), unless already asked.
    func refresh(_ key: Key) {
        let ask = state.withLock { state -> Bool in
            guard var entry = state.entries[key], !entry.inFlight else { return false }
            entry.inFlight = true
            state.entries[key] = entry
            return true
        }
        if ask { request(key) }
    }

    /// Keeps only the names `keys` lists (a plan's routes) and starts resolving the new ones, so
    /// the first connection of a new route seldom waits (control thread).
    func retain(_ keys: Set<Key>) {
        let fresh = state.withLock { state -> [Key] in
            state.entries = state.entries.filter { keys.contains($0.key) }
            let fresh = keys.filter { state.entries[$0] == nil }
            for key in fresh { state.entries[key] = Entry(inFlight: true) }
            return Array(fresh)
        }
        for key in fresh { request(key) }
    }

    private func request(_ key: Key) {
        state.withLock { $0.requests }?.post(.resolve(key))
    }

    /// Resolver thread: one name.
    fileprivate func resolve(_ key: Key) {
        var entry = Entry()
        entry.answered = true
        entry.answeredAt = Linux.monotonicNanoseconds()
        do throws(ResolveError) {
            entry.addresses = try Posix.resolve(host: key.name, port: key.port)
        } catch {
            entry.failed = true
            log.warning("upstream.resolve_failed", ["name": key.name, "error": error.reason])
        }
        let workers = state.withLock { state -> [Mailbox<WorkerMessage>] in
            // A name no route uses any more (dropped by `retain` meanwhile) is not kept.
            guard state.entries[key] != nil else { return state.workers }
            let previous = state.entries[key]
            state.entries[key] = entry
            if previous?.addresses != entry.addresses, !entry.failed {
                log.info("upstream.resolved", ["name": key.name, "addresses": entry.addresses.map(\.description).joined(separator: " ")])
            }
            return state.workers
        }
        for worker in workers { worker.post(.resolved(key)) }
    }
}

/// The resolver thread's loop: takes names from the mailbox and resolves them one by one.
private final class ResolverThread: EventLoopDelegate {
    typealias Message = UpstreamResolver.Message
    let resolver: UpstreamResolver

    init(resolver: UpstreamResolver) {
        self.resolver = resolver
    }

    func loop(_ loop: EventLoop<ResolverThread>, ready events: Linux.EpollEvents, tag: UInt64) {}

    func loop(_ loop: EventLoop<ResolverThread>, timerFired tag: UInt64) {}

    func loop(_ loop: EventLoop<ResolverThread>, received messages: [UpstreamResolver.Message]) {
        var seen = Set<UpstreamResolver.Key>()
        for message in messages {
            switch message {
            case .resolve(let key):
                if seen.insert(key).inserted { resolver.resolve(key) }
            case .stop:
                loop.stop()
                return
            }
        }
    }

    func loopTurnEnded(_ loop: EventLoop<ResolverThread>) -> Bool { false }
}

@available(*, unavailable)
extension ResolverThread: Sendable {}
