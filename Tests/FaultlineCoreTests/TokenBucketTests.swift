import FaultlineCore
import Testing

@Suite("TokenBucket")
struct TokenBucketTests {
    private let ms: UInt64 = 1_000_000
    private let second: UInt64 = 1_000_000_000
    /// An arbitrary monotonic-clock origin, so nothing depends on starting at 0.
    private let t0: UInt64 = 5_000_000_000_000

    @Test("Starts empty")
    func startsEmpty() {
        var bucket = TokenBucket(bytesPerSecond: 1_000_000, now: t0)
        #expect(bucket.available(now: t0) == 0)
        #expect(bucket.available(now: t0 + 1_000) == 1)  // 1 µs at 1 MB/s
        #expect(bucket.available(now: t0 + ms) == 1_000)
    }

    @Test("Capacity is 20 ms of rate, at least 1 byte")
    func capacity() {
        #expect(TokenBucket(bytesPerSecond: 1_000_000, now: 0).capacity == 20_000)
        #expect(TokenBucket(bytesPerSecond: 5_000, now: 0).capacity == 100)
        #expect(TokenBucket(bytesPerSecond: 10, now: 0).capacity == 1)
        var bucket = TokenBucket(bytesPerSecond: 1_000_000, now: t0)
        #expect(bucket.available(now: t0 + 10 * second) == 20_000)
        bucket.consume(15_000)
        #expect(bucket.available(now: t0 + 10 * second) == 5_000)
        #expect(bucket.available(now: t0 + 11 * second) == 20_000)
    }

    @Test("A clock that goes backwards adds nothing")
    func backwards() {
        var bucket = TokenBucket(bytesPerSecond: 1_000_000, now: t0)
        #expect(bucket.available(now: t0 + 5 * ms) == 5_000)
        #expect(bucket.available(now: t0 + 2 * ms) == 5_000)
        #expect(bucket.available(now: t0 + 6 * ms) == 6_000)
    }

    @Test("Sending all it allows meters the configured rate within 1 %",
          arguments: [1_000, 64_000, 1_000_000, 125_000_000])
    func rate(_ bytesPerSecond: Int) {
        var rng = DecisionRNG(seed: 3, faultID: "clock", serial: UInt64(bytesPerSecond))
        var bucket = TokenBucket(bytesPerSecond: bytesPerSecond, now: t0)
        var now = t0
        var sent = 0
        // Irregular wake-ups of 0.1–15 ms (below the 20 ms cap) over 10 simulated seconds.
        while now < t0 + 10 * second {
            now += 100_000 + rng.next() % (15 * ms)
            let n = bucket.available(now: now)
            bucket.consume(n)
            sent += n
        }
        let elapsed = Double(now - t0) / 1e9
        let measured = Double(sent) / elapsed
        #expect(abs(measured - Double(bytesPerSecond)) <= 0.01 * Double(bytesPerSecond), "measured \(measured)")
    }

    @Test("Long gaps are capped: 1 s pauses deliver only a capacity each")
    func pausedStreamCannotBurst() {
        var bucket = TokenBucket(bytesPerSecond: 1_000_000, now: t0)
        var sent = 0
        for step in 1...10 {
            let n = bucket.available(now: t0 + UInt64(step) * second)
            bucket.consume(n)
            sent += n
        }
        #expect(sent == 10 * 20_000)
    }

    @Test("readyTime: now when enough, else the time to earn a batch of min(wanted, capacity/4)")
    func readyTime() {
        var bucket = TokenBucket(bytesPerSecond: 1_000_000, now: t0)
        // Empty: 100 bytes at 1 B/µs take 100 µs (rounded up, never early).
        let small = bucket.readyTime(forBytes: 100, now: t0)
        #expect(small >= t0 + 100_000 && small <= t0 + 100_001)
        // A large want is capped to capacity/4 = 5000 bytes = 5 ms.
        let large = bucket.readyTime(forBytes: 10_000_000, now: t0)
        #expect(large >= t0 + 5 * ms && large <= t0 + 5 * ms + 1)
        // wanted ≤ 0 still asks for one byte.
        let one = bucket.readyTime(forBytes: 0, now: t0)
        #expect(one >= t0 + 1_000 && one <= t0 + 1_001)
        // With tokens in hand it is ready now.
        _ = bucket.available(now: t0 + 3 * ms)
        #expect(bucket.readyTime(forBytes: 2_000, now: t0 + 3 * ms) == t0 + 3 * ms)
        // Part of the batch in hand: only the missing part is waited for (5000 - 3000 = 2 ms).
        let partial = bucket.readyTime(forBytes: 10_000_000, now: t0 + 3 * ms)
        #expect(partial >= t0 + 5 * ms && partial <= t0 + 5 * ms + 1)
        // In debt after over-sending: the debt is earned back too.
        bucket.consume(4_000)
        let debt = bucket.readyTime(forBytes: 1_000, now: t0 + 3 * ms)
        #expect(debt >= t0 + 5 * ms && debt <= t0 + 5 * ms + 1)
    }

    @Test("At readyTime the wanted batch really is available (no early wake-ups), for many rates")
    func readyTimeIsSufficient() {
        var rng = DecisionRNG(seed: 17, faultID: "rates", serial: 0)
        for _ in 0..<2_000 {
            let rate = 1 + Int(rng.next() % 200_000_000)
            let wanted = 1 + Int(rng.next() % 100_000)
            let start = rng.next() % (1 << 50)
            var bucket = TokenBucket(bytesPerSecond: rate, now: start)
            let elapsed = rng.next() % (3 * ms)
            _ = bucket.available(now: start + elapsed)
            let batch = min(wanted, max(1, bucket.capacity / 4))
            let ready = bucket.readyTime(forBytes: wanted, now: start + elapsed)
            #expect(ready >= start + elapsed)
            let available = bucket.available(now: ready)
            #expect(available >= batch, "rate \(rate) wanted \(wanted) batch \(batch): \(available) at ready")
            if available < batch { return }
        }
    }
}
