import FaultlineCore
import FaultlineMetrics
import FaultlineSystem
import Synchronization

/// A bounded ring of request-log entries, oldest overwritten first.
struct RequestLogRing {
    private(set) var capacity: Int
    private var storage: [RequestRecord] = []
    /// Where the next entry goes once the ring is full.
    private var next = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { storage.count }

    /// Appends `record`; returns true when an older entry was overwritten.
    @discardableResult
    mutating func append(_ record: RequestRecord) -> Bool {
        guard capacity > 0 else { return false }
        if storage.count < capacity {
            storage.append(record)
            return false
        }
        storage[next] = record
        next = (next + 1) % capacity
        return true
    }

    /// The entries with `seq` greater than `since`, oldest first.
    func entries(since: UInt64) -> [RequestRecord] {
        var out: [RequestRecord] = []
        let start = storage.count < capacity ? 0 : next
        for i in 0..<storage.count {
            let record = storage[(start + i) % storage.count]
            if record.seq > since { out.append(record) }
        }
        return out
    }

    /// Keeps the newest `capacity` entries under a new capacity.
    mutating func resize(to newCapacity: Int) {
        let newCapacity = max(0, newCapacity)
        guard newCapacity != capacity else { return }
        let kept = entries(since: 0).suffix(newCapacity)
        storage = Array(kept)
        capacity = newCapacity
        next = 0
    }
}

/// One worker's part of one route's request log. Only that worker's thread touches it; the
/// control side reads it through the worker's mailbox (`WorkerMessage.readLog`).
final class RouteRequestLog {
    let route: String
    private(set) var ring: RequestLogRing
    /// The numbering every worker shares for this route.
    var shared: RouteShared
    private let dropped: Counter
    /// Wall clock minus the loop's monotonic clock, so an entry's time costs no syscall.
    private let wallOffset: Int64

    init(route: String, capacity: Int, shared: RouteShared, worker: Int, metrics: ProxyMetrics) {
        self.route = route
        ring = RequestLogRing(capacity: capacity)
        self.shared = shared
        dropped = metrics.requestLogDropped.shard(labels: [route], worker: worker)
        wallOffset = Int64(bitPattern: Linux.realtimeNanoseconds()) &- Int64(bitPattern: Linux.monotonicNanoseconds())
    }

    var isEnabled: Bool { ring.capacity > 0 }

    func resize(to capacity: Int) { ring.resize(to: capacity) }

    /// The wall-clock time of a monotonic instant, in nanoseconds since the Unix epoch.
    func wallClock(_ monotonic: UInt64) -> Int64 { Int64(bitPattern: monotonic) &+ wallOffset }

    /// Numbers and keeps `record` (its `seq` and `route` are filled in here). The route keeps the
    /// newest `capacity` entries across workers, so one older entry drops for each beyond it.
    func record(_ record: consuming RequestRecord) {
        guard isEnabled else { return }
        let seq = shared.takeLogSeq()
        record.seq = seq
        record.route = route
        if seq > UInt64(ring.capacity) { dropped.increment() }
        ring.append(record)
    }
}

@available(*, unavailable)
extension RouteRequestLog: Sendable {}

/// Gathers the workers' parts of a route's log for one read.
final class RequestLogCollector: Sendable {
    private let gathered = Mutex<[RequestRecord]>([])
    let done: CountdownLatch

    init(workers: Int) {
        done = CountdownLatch(count: workers)
    }

    func add(_ records: [RequestRecord]) {
        gathered.withLock { $0.append(contentsOf: records) }
        done.countDown()
    }

    var records: [RequestRecord] { gathered.withLock { $0 } }
}
