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
    typealias Key = UpstreamResolverCache.Key
    typealias Lookup = UpstreamResolverCache.Lookup

    /// What the resolver thread is told.
    enum Message: Sendable {
        case resolve(Key)
        case stop
    }

    static let ttlNanoseconds: UInt64 = 30_000_000_000
    static let negativeTTLNanoseconds: UInt64 = 1_000_000_000

    private struct State {
        var cache = UpstreamResolverCache(ttlNanoseconds: ttlNanoseconds, negativeTTLNanoseconds: negativeTTLNanoseconds)
        var workers: [Mailbox<WorkerMessage>] = []
        var requests: Mailbox<Message>?
    }

    private let state = Mutex(State())
    private let log: Logger
    /// The lookup itself: `Posix.resolve`, or a fixed answer in tests (names with several
    /// addresses cannot be made without editing /etc/hosts).
    private let resolveName: @Sendable (String, UInt16) throws(ResolveError) -> [SocketAddress]

    init(
        log: Logger,
        resolve: @escaping @Sendable (String, UInt16) throws(ResolveError) -> [SocketAddress] = { (name, port) throws(ResolveError) in
            try Posix.resolve(host: name, port: port)
        }
    ) {
        self.log = log
        self.resolveName = resolve
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
        let (result, ask) = state.withLock { $0.cache.lookup(key, now: now) }
        if ask { request(key) }
        return result
    }

    /// Asks for `key` again (a connect failed on every address it had), unless already asked.
    func refresh(_ key: Key, failed: [SocketAddress]) {
        if state.withLock({ $0.cache.refresh(key, failed: failed) }) { request(key) }
    }

    /// Keeps only the names `keys` lists (a plan's routes) and starts resolving the new ones, so
    /// the first connection of a new route seldom waits (control thread).
    func retain(_ keys: Set<Key>) {
        for key in state.withLock({ $0.cache.retain(keys) }) { request(key) }
    }

    private func request(_ key: Key) {
        state.withLock { $0.requests }?.post(.resolve(key))
    }

    /// Resolver thread: one name, then every worker is told (a worker with connections parked on
    /// the name dials them; the others ignore it).
    fileprivate func resolve(_ key: Key) {
        var addresses: [SocketAddress]?
        do throws(ResolveError) {
            addresses = try resolveName(key.name, key.port)
        } catch {
            log.warning("upstream.resolve_failed", ["name": key.name, "error": error.reason])
        }
        let now = Linux.monotonicNanoseconds()
        let (changed, workers) = state.withLock { ($0.cache.answer(key, addresses: addresses, now: now), $0.workers) }
        if changed, let addresses {
            log.info("upstream.resolved", ["name": key.name, "addresses": addresses.map(\.description).joined(separator: " ")])
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
