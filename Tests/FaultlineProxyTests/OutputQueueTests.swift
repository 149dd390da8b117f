import FaultlineCore
@testable import FaultlineProxy
import Testing

@Suite("OutputQueue")
struct OutputQueueTests {
    @Test("Adjacent relay and discard ops merge; covered counts buffer bytes only")
    func merging() {
        var queue = OutputQueue()
        queue.relay(10)
        queue.relay(5)
        queue.inject(Array("mark\r\n".utf8))
        queue.relay(2)
        queue.discard(3)
        queue.discard(4)
        #expect(queue.covered == 24)
        guard case .relay(15)? = queue.first else {
            Issue.record("front should be one relay of 15, got \(String(describing: queue.first))")
            return
        }
        queue.consumed(15)
        guard case .inject(let bytes, 0)? = queue.first else {
            Issue.record("then the inject")
            return
        }
        #expect(bytes.count == 6)
        queue.injected(4)
        guard case .inject(_, 4)? = queue.first else {
            Issue.record("a partial write keeps the inject with its offset")
            return
        }
        queue.injected(2)
        guard case .relay(2)? = queue.first else {
            Issue.record("the relay after the inject does not merge into the one before it")
            return
        }
        queue.consumed(1)
        #expect(queue.covered == 8)
        queue.consumed(1)
        guard case .discard(7)? = queue.first else {
            Issue.record("discards merge")
            return
        }
        queue.consumed(7)
        #expect(queue.isEmpty)
        #expect(queue.covered == 0)
    }

    @Test("Zero-length ops are not queued")
    func emptyOps() {
        var queue = OutputQueue()
        queue.relay(0)
        queue.discard(0)
        queue.inject([])
        #expect(queue.isEmpty)
        #expect(queue.covered == 0)
    }
}

@Suite("AttemptLedger")
struct AttemptLedgerTests {
    static func fault(_ id: String, first: Int) -> FaultSpec {
        FaultSpec(
            id: id, kind: .abort(HTTPAbort(status: 503)),
            http: HTTPFaultRule(attempts: Attempts(key: .header("idempotency-key"), first: first)))
    }

    @Test("Counts per fault and key; a re-applied (different) fault starts over; retain forgets cleared faults")
    func counting() {
        let ledger = AttemptLedger()
        let a = Self.fault("a", first: 2)
        #expect(ledger.record(fault: a, key: "k1") == 1)
        #expect(ledger.record(fault: a, key: "k1") == 2)
        #expect(ledger.record(fault: a, key: "k2") == 1)
        #expect(ledger.record(fault: Self.fault("b", first: 2), key: "k1") == 1)
        #expect(ledger.record(fault: a, key: "k1") == 3)
        // Same id, other parameters: a new fault, new counts.
        #expect(ledger.record(fault: Self.fault("a", first: 3), key: "k1") == 1)
        ledger.retain([Self.fault("b", first: 2)])
        #expect(ledger.record(fault: Self.fault("a", first: 3), key: "k1") == 1)
        #expect(ledger.record(fault: Self.fault("b", first: 2), key: "k1") == 2)
    }

    @Test("Exact across threads: 4 threads × 500 records of one key give ordinals 1…2000 once each")
    func threads() async {
        let ledger = AttemptLedger()
        let fault = Self.fault("t", first: 1)
        let ordinals = await withTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask { (0..<500).map { _ in ledger.record(fault: fault, key: "same") } }
            }
            var all: [Int] = []
            for await part in group { all += part }
            return all
        }
        #expect(ordinals.sorted() == Array(1...2000))
    }
}
