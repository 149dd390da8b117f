import FaultlineCore
import FaultlineSystem
import Synchronization

/// What the control side tells a worker.
enum WorkerMessage: Sendable {
    /// Keep this plan aside (nothing changes yet) and count down the latch: the first phase of
    /// an apply, which tells the control side this worker is responsive.
    case prepare(PlanProposal, CountdownLatch)
    /// Put the proposal numbered so in force (taking its listeners) and count down the latch.
    case commit(UInt64, CountdownLatch)
    /// Forget the proposal numbered so: not every worker prepared it in time.
    case abort(UInt64)
    /// Run `body` on the worker's thread between two events (tests hold a worker busy with it).
    case run(@Sendable () -> Void)
    /// Add this worker's entries of a route's request log newer than `since` to the collector.
    case readLog(route: String, since: UInt64, RequestLogCollector)
    /// Another worker accepted this connection for a route and hands it over (`WorkerPeers`):
    /// its slot under `limits.max_connections` is taken, its serial drawn, and this worker's load
    /// already counts it.
    case adopt(route: String, FileDescriptorBox, peer: SocketAddress, serial: UInt64)
    /// A host name got an answer: dial the connections parked on it.
    case resolved(UpstreamResolver.Key)
    /// Stop accepting; keep relaying open connections.
    case drain
    /// Close everything and leave the loop.
    case stop
}

/// A plan on its way to one worker: the plan, the listeners handed over, the per-route shared
/// state and the routes' TLS contexts, numbered so that a commit or abort names it.
final class PlanProposal: Sendable {
    let id: UInt64
    let plan: FaultPlan
    let handoff: ListenerHandoff
    let shared: [String: RouteShared]
    let tls: [String: RouteTLS]

    init(id: UInt64, plan: FaultPlan, handoff: ListenerHandoff, shared: [String: RouteShared], tls: [String: RouteTLS]) {
        self.id = id
        self.plan = plan
        self.handoff = handoff
        self.shared = shared
        self.tls = tls
    }
}

/// Listening sockets bound on the control thread and handed to one worker.
///
/// Ownership moves through the mailbox: the control thread fills it before posting and never
/// touches it again; the worker takes each descriptor once. The mutex makes that hand-over safe.
final class ListenerHandoff: Sendable {
    private let descriptors = Mutex<[String: FileDescriptorBox]>([:])

    init() {}

    func put(route: String, _ fd: consuming FileDescriptor) {
        let box = FileDescriptorBox(fd)
        descriptors.withLock { $0[route] = box }
    }

    func take(route: String) -> FileDescriptorBox? {
        descriptors.withLock { $0.removeValue(forKey: route) }
    }

    var routes: [String] { descriptors.withLock { Array($0.keys) } }

    /// Closes every descriptor not taken yet (an aborted plan's listeners), now, on the caller's
    /// thread: a worker that still holds the handoff finds it empty.
    func closeAll() {
        let boxes = descriptors.withLock { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
        for box in boxes { box.take()?.close() }
    }
}

/// A descriptor in a box, so it can sit in a dictionary and move between threads once.
final class FileDescriptorBox: Sendable {
    private let descriptor: Mutex<FileDescriptor?>

    init(_ fd: consuming FileDescriptor) {
        descriptor = Mutex(fd)
    }

    func take() -> FileDescriptor? {
        descriptor.withLock { $0.take() }
    }
}

/// Per-route state every worker shares: the acceptance order that numbers connections, and the
/// numbering of the request log.
final class RouteShared: Sendable {
    private let nextSerial = Atomic<UInt64>(0)
    private let nextLogSeq = Atomic<UInt64>(0)

    init() {}

    /// The next request-log sequence number on this route (1, 2, …).
    func takeLogSeq() -> UInt64 {
        nextLogSeq.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Request-log entries numbered so far.
    var logged: UInt64 { nextLogSeq.load(ordering: .relaxed) }

    /// The next connection serial on this route (0, 1, 2, …).
    func takeSerial() -> UInt64 {
        nextSerial.wrappingAdd(1, ordering: .relaxed).oldValue
    }
}
