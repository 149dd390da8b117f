import FaultlineCore
import Testing

@Suite("Latency holds")
struct LatencyTests {
    private let ms: UInt64 = 1_000_000

    private func holds(_ latency: Latency, count: Int = 100_000, seed: UInt64 = 11) -> [UInt64] {
        var rng = DecisionRNG(seed: seed, faultID: "lat", serial: 0, stream: 10)
        return (0..<count).map { _ in latency.nextHoldNanoseconds(&rng) }
    }

    private func meanAndSD(_ values: [UInt64]) -> (mean: Double, sd: Double) {
        let n = Double(values.count)
        let mean = values.reduce(0.0) { $0 + Double($1) } / n
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return (mean, variance.squareRoot())
    }

    @Test("Zero jitter holds exactly the delay, for either distribution")
    func zeroJitter() {
        for distribution in [JitterDistribution.uniform, .normal] {
            let latency = Latency(delay: .milliseconds(250), jitter: .zero, distribution: distribution)
            #expect(Set(holds(latency, count: 1000)) == [250 * ms])
        }
        #expect(Set(holds(Latency(delay: .zero, jitter: .zero, distribution: .uniform), count: 10)) == [0])
    }

    @Test("Uniform jitter stays within delay ± jitter, covers it, and is centred (±0.5 %)")
    func uniformBounds() {
        let latency = Latency(delay: .milliseconds(100), jitter: .milliseconds(20), distribution: .uniform)
        let values = holds(latency)
        let low = values.min()!
        let high = values.max()!
        #expect(low >= 80 * ms && high <= 120 * ms)
        // Reaches within 0.1 ms of both ends: the spread really is ±jitter, not narrower.
        #expect(low < 80 * ms + ms / 10 && high > 120 * ms - ms / 10)
        let (mean, sd) = meanAndSD(values)
        #expect(abs(mean - Double(100 * ms)) < Double(ms) / 2)
        // Uniform on [-j, j] has sd j/√3 = 11.547 ms.
        #expect(abs(sd - 11_547_005) < 0.01 * 11_547_005)
    }

    @Test("Jitter larger than the delay never goes negative (clamped at 0)")
    func neverNegative() {
        for distribution in [JitterDistribution.uniform, .normal] {
            let latency = Latency(delay: .milliseconds(1), jitter: .milliseconds(10), distribution: distribution)
            let values = holds(latency, count: 20_000)
            // A wrapped negative would show up as a huge UInt64.
            #expect(values.allSatisfy { $0 <= 200 * ms }, "\(distribution)")
            // Roughly half the draws would be negative; they must clamp to exactly 0.
            #expect(values.filter { $0 == 0 }.count > 5_000, "\(distribution)")
        }
    }

    @Test("Normal jitter: mean = delay (±0.15 ms), sd = jitter (±2 %)")
    func normalMoments() {
        let latency = Latency(delay: .milliseconds(200), jitter: .milliseconds(10), distribution: .normal)
        let (mean, sd) = meanAndSD(holds(latency))
        #expect(abs(mean - Double(200 * ms)) < 0.15 * Double(ms), "mean \(mean)")
        #expect(abs(sd - Double(10 * ms)) < 0.02 * Double(10 * ms), "sd \(sd)")
    }

    @Test("Same seed, same holds; another seed, other holds")
    func deterministic() {
        let latency = Latency(delay: .milliseconds(50), jitter: .milliseconds(5), distribution: .uniform)
        #expect(holds(latency, count: 100, seed: 1) == holds(latency, count: 100, seed: 1))
        #expect(holds(latency, count: 100, seed: 1) != holds(latency, count: 100, seed: 2))
    }

    @Test("Duration.nanosecondsClamped: exact, negative → 0, overflow saturates")
    func nanosecondsClamped() {
        #expect(Duration.milliseconds(1500).nanosecondsClamped == 1_500_000_000)
        #expect(Duration.nanoseconds(1).nanosecondsClamped == 1)
        #expect(Duration.microseconds(7).nanosecondsClamped == 7_000)
        #expect(Duration.zero.nanosecondsClamped == 0)
        #expect(Duration.milliseconds(-5).nanosecondsClamped == 0)
        #expect(Duration.nanoseconds(-1).nanosecondsClamped == 0)
        #expect(Duration.seconds(Int64.max).nanosecondsClamped == .max)
        #expect(Duration.seconds(18_446_744_073).nanosecondsClamped == 18_446_744_073_000_000_000)
        #expect((Duration.seconds(18_446_744_073) + .milliseconds(800)).nanosecondsClamped == .max)
    }

    @Test("Holds near the Duration limit saturate instead of trapping")
    func hugeHoldsDoNotTrap() {
        // A config may say delay "2562047h", jitter "2562047h", distribution "normal" (both under
        // Int64.max ns, which the duration parser allows); about one draw in six then exceeds 2^64 ns.
        let latency = Latency(delay: .nanoseconds(Int64.max), jitter: .nanoseconds(Int64.max), distribution: .normal)
        var rng = DecisionRNG(seed: 1, faultID: "huge", serial: 0)
        var saturated = 0
        for _ in 0..<100 where latency.nextHoldNanoseconds(&rng) == .max { saturated += 1 }
        #expect(saturated > 0)
    }
}
