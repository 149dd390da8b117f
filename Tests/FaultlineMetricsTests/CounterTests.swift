import Testing
@testable import FaultlineMetrics

@Suite("Counter, SharedCounter and Gauge")
struct CounterTests {
    @Test("a counter adds and increments")
    func counterAdds() {
        let counter = Counter()
        #expect(counter.value == 0)
        counter.increment()
        counter.add(41)
        #expect(counter.value == 42)
    }

    @Test("a counter wraps instead of trapping at UInt64.max")
    func counterWraps() {
        let counter = Counter()
        counter.add(UInt64.max)
        counter.add(2)
        #expect(counter.value == 1)
    }

    @Test("a shared counter loses no update from two threads × 1,000,000 increments")
    func sharedCounterIsExactUnderContention() {
        let counter = SharedCounter()
        runOnThreads(count: 2) { _ in
            for _ in 0..<1_000_000 {
                counter.increment()
            }
        }
        #expect(counter.value == 2_000_000)
    }

    @Test("a gauge adds, sets and goes negative")
    func gaugeMoves() {
        let gauge = Gauge()
        gauge.increment()
        gauge.increment()
        gauge.decrement()
        gauge.add(-5)
        #expect(gauge.value == -4)
        gauge.set(17)
        #expect(gauge.value == 17)
    }
}
