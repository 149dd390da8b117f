import FaultlineCore
import Synchronization

/// The `attempts` counts of every HTTP fault, shared by all workers so that "the first N requests
/// per key" is exact whichever worker accepted each connection.
///
/// Taken only when a fault with `attempts` is tried on a request; the lock is held for one
/// dictionary update. A fault's counts start over when it is applied anew (cleared and applied
/// again, or replaced by a different fault with the same id).
final class AttemptLedger: Sendable {
    private struct Entry: Sendable {
        var fault: FaultSpec
        var counter: AttemptCounter
    }

    private let entries = Mutex<[String: Entry]>([:])

    init() {}

    /// Records one request with `key` for `fault`; returns its 1-based ordinal.
    func record(fault: FaultSpec, key: String) -> Int {
        entries.withLock { entries in
            if entries[fault.id]?.fault != fault {
                entries[fault.id] = Entry(fault: fault, counter: AttemptCounter())
            }
            return entries[fault.id]!.counter.record(key)
        }
    }

    /// Forgets the counts of faults no longer in force.
    func retain(_ faults: [FaultSpec]) {
        let live = Dictionary(faults.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        entries.withLock { entries in
            entries = entries.filter { live[$0.key] == $0.value.fault }
        }
    }
}

/// `AttemptCounting` over the shared ledger.
struct LedgerCounting: AttemptCounting {
    let ledger: AttemptLedger

    mutating func record(fault: FaultSpec, key: String) -> Int {
        ledger.record(fault: fault, key: key)
    }
}
