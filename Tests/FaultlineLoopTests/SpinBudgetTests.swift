import FaultlineLoop
import Testing

@Suite("Polling for timers within a CPU budget")
struct SpinBudgetTests {
    @Test("the default budget is 5 ms of polling per 100 ms")
    func defaults() {
        let spin = SpinBudget()
        #expect(spin.window == 100_000_000)
        #expect(spin.budget == 5_000_000)
    }

    @Test("polling is allowed until the window's budget is spent, then not until the next window")
    func budget() {
        var spin = SpinBudget(window: 100_000_000, budget: 3_000_000)
        var now: UInt64 = 1_000_000_000
        // One poll of 2 ms (calls every 10 µs while it lasts), then it sleeps.
        for _ in 0...200 {
            let allowed = spin.mayPoll(now: now)
            #expect(allowed)
            now += 10_000
        }
        spin.stopped()
        #expect(spin.spentInWindow == 2_000_000)
        // Time asleep does not count.
        now += 20_000_000
        // A second poll: allowed until 3 ms are spent in all.
        var allowed = 0
        while spin.mayPoll(now: now) {
            allowed += 1
            now += 10_000
        }
        #expect(allowed == 100)  // the first call starts counting; the 101st reaches 3 ms and is refused
        #expect(spin.spentInWindow == 3_000_000)
        let overBudget = spin.mayPoll(now: now + 1_000)
        #expect(!overBudget)
        // The next window starts afresh.
        now = 1_000_000_000 + 100_000_000
        let afresh = spin.mayPoll(now: now)
        #expect(afresh)
        #expect(spin.spentInWindow == 0)
    }

    @Test("a thousand short polls a second stay near 3 % of the time")
    func manyTimers() {
        var spin = SpinBudget(window: 100_000_000, budget: 3_000_000)
        var now: UInt64 = 5_000_000_000
        var polled: UInt64 = 0
        // 1,000 timers in one second, each with a 150 µs lead polled in 5 µs steps.
        for _ in 0..<1000 {
            var t: UInt64 = 0
            while t < 150_000 {
                guard spin.mayPoll(now: now) else { break }
                now += 5_000
                t += 5_000
            }
            spin.stopped()
            polled += t
            now += 1_000_000 - t
        }
        // 3 ms in each of ten windows, plus each poll's last step (after its last call nothing
        // is counted: the loop fires the timer and sleeps): within 3.5 %.
        #expect(polled <= 35_000_000, "polled \(polled) ns in one second")
        #expect(polled >= 25_000_000, "the budget is used, not refused: \(polled) ns")
    }
}
