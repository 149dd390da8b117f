import FaultlineLoop
import FaultlineMetrics
import FaultlineSystem
import Synchronization

/// What the workers know of each other: how many connections each has open, and how to hand
/// one an accepted connection.
///
/// Each route listens with one SO_REUSEPORT socket per worker, and the kernel spreads new
/// connections over them by a hash of their addresses, not by load: 64 connections came out
/// 26 / 38 in a profile of the 64-connection benchmark, so one worker carried half as much
/// again as the other. HAProxy balances at accept (`tune.listener.multi-queue`); so does this:
/// a worker that accepts while two or more connections ahead of the least loaded worker hands
/// the connection to it through its mailbox (one message per connection handed, none once the
/// workers are even; the bytes never cross threads).
final class WorkerPeers: Sendable {
    /// One worker's open connections, written by that worker (and raised by a worker handing
    /// it one), read by every worker and by /metrics.
    final class Load: Sendable {
        let open = Atomic<Int>(0)
    }

    let loads: [Load]
    private let mailboxes = Mutex<[Mailbox<WorkerMessage>]>([])

    init(count: Int) {
        loads = (0..<max(1, count)).map { _ in Load() }
    }

    /// The workers' mailboxes, once every worker runs (before that nothing is handed over).
    func setMailboxes(_ all: [Mailbox<WorkerMessage>]) {
        mailboxes.withLock { $0 = all }
    }

    /// The worker `index` should hand its new connection to, if any: the least loaded one, when
    /// it has at least two connections fewer. Its load is raised at once, so a burst of accepts
    /// does not overshoot.
    func handOverTarget(from index: Int) -> Int? {
        guard loads.count > 1 else { return nil }
        let mine = loads[index].open.load(ordering: .relaxed)
        var best: Int?
        var bestLoad = Int.max
        for (other, load) in loads.enumerated() where other != index {
            let value = load.open.load(ordering: .relaxed)
            if value < bestLoad {
                best = other
                bestLoad = value
            }
        }
        guard let best, bestLoad + 2 <= mine else { return nil }
        loads[best].open.wrappingAdd(1, ordering: .relaxed)
        return best
    }

    /// Posts `message` to worker `index`; false (nothing posted) before the mailboxes are known.
    func post(_ message: WorkerMessage, to index: Int) -> Bool {
        guard let mailbox = mailboxes.withLock({ index < $0.count ? $0[index] : nil }) else { return false }
        mailbox.post(message)
        return true
    }

    /// `faultline_worker_connections{worker}`: open connections per worker.
    var collector: Collector {
        let loads = self.loads
        return Collector(
            name: "faultline_worker_connections",
            help: "Connections open now, per worker thread (accepted connections are balanced across workers).",
            type: .gauge, labelNames: ["worker"]
        ) {
            loads.enumerated().map { Sample(labelValues: [String($0.offset)], value: .signed(Int64($0.element.open.load(ordering: .relaxed)))) }
        }
    }
}
