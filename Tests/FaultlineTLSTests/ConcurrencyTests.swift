import Dispatch
import FaultlineTLS
import Synchronization
import Testing

@Suite struct ConcurrencyTests {
    @Test func contextsAreSharedBySessionsOnManyThreads() throws {
        let client = try Contexts.client(alpn: ["h2"])
        let server = try Contexts.server(alpn: ["h2"])
        let completed = Atomic<Int>(0)
        let resumed = Atomic<Int>(0)
        let iterations = 64
        DispatchQueue.concurrentPerform(iterations: iterations) { index in
            guard let pair = try? SessionPair(client: client, server: server, seed: UInt64(index)) else { return }
            guard pair.handshake() == (.complete, .complete), pair.client.negotiatedALPN == "h2" else { return }
            pair.settle()
            _ = completed.add(1, ordering: .relaxed)
            if pair.client.isResumed { _ = resumed.add(1, ordering: .relaxed) }
        }
        #expect(completed.load(ordering: .relaxed) == iterations)
        // Which sessions resume depends on timing: all but those that started before the first
        // ticket was stored (about one per thread) find one.
        #expect(resumed.load(ordering: .relaxed) > iterations / 2)
    }
}
