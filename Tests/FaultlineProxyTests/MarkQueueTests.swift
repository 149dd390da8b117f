import FaultlineCore
@testable import FaultlineProxy
import Testing

@Suite("MarkQueue")
struct MarkQueueTests {
    @Test("Behaves as a FIFO through growth, drains and compaction (checked against an array)")
    func fifo() {
        var queue = MarkQueue()
        var model: [Mark] = []
        var rng = DecisionRNG(seed: 5, faultID: "marks", serial: 0)
        var next: UInt64 = 0
        var mismatches = 0
        // Phases: long runs of appends (past the 4096 compaction threshold), mixed, full drains.
        for phase in 0..<6 {
            let appendBias: UInt64 = phase % 2 == 0 ? 80 : 40
            for _ in 0..<20_000 {
                if rng.next() % 100 < appendBias {
                    let mark = Mark(start: next, releaseAt: next &* 3)
                    next += 1
                    queue.append(mark)
                    model.append(mark)
                } else if !model.isEmpty {
                    if queue.first != model.first { mismatches += 1 }
                    queue.removeFirst()
                    model.removeFirst()
                }
                if queue.isEmpty != model.isEmpty || queue.last != model.last { mismatches += 1 }
            }
            if phase == 5 {
                while !model.isEmpty {
                    if queue.first != model.first { mismatches += 1 }
                    queue.removeFirst()
                    model.removeFirst()
                }
            }
        }
        #expect(mismatches == 0)
        #expect(queue.isEmpty && queue.first == nil && queue.last == nil)
        #expect(next > 50_000)
    }

    @Test("removeAll empties it, and it is usable afterwards")
    func removeAll() {
        var queue = MarkQueue()
        for i in 0..<10 { queue.append(Mark(start: UInt64(i), releaseAt: 0)) }
        queue.removeFirst()
        queue.removeAll()
        #expect(queue.isEmpty && queue.first == nil)
        queue.append(Mark(start: 99, releaseAt: 1))
        #expect(queue.first == Mark(start: 99, releaseAt: 1) && queue.last == Mark(start: 99, releaseAt: 1))
    }
}
