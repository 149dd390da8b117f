import FaultlineCore
@testable import FaultlineProxy
import Testing

@Suite("StreamFaults state machine")
struct StreamFaultsTests {
    private let latency100 = FaultSpec(id: "lat", kind: .latency(delay: .milliseconds(100), jitter: .zero, distribution: .uniform))

    @Test("An empty policy is clean and lets everything through")
    func clean() {
        var h = Harness()
        #expect(h.faults.policy.isEmpty)
        h.apply(StreamPolicy(), at: t0)
        #expect(h.faults.policy.isEmpty && !h.faults.readPaused && !h.faults.discardsInput)
        h.read(500, at: t0)
        #expect(h.allowance(at: t0) == 500)
        let finPasses = h.finMayPass(at: t0)
        #expect(finPasses)
        #expect(h.verdict(at: t0 + 1_000 * second) == .none)
        #expect(h.faults.pendingWake(after: t0) == nil)
        h.apply(streamPolicy(FaultSpec(id: "s", kind: .stall)), at: t0)
        #expect(!h.faults.policy.isEmpty)
    }

    // MARK: latency

    @Test("Latency releases each chunk exactly `delay` after it was read, in order")
    func latencyRelease() {
        var h = Harness()
        h.apply(streamPolicy(latency100), at: t0)
        h.read(100, at: t0)
        #expect(h.allowance(at: t0) == 0)
        #expect(h.faults.pendingWake(after: t0) == t0 + 100 * ms)
        h.read(50, at: t0 + 30 * ms)
        #expect(h.allowance(at: t0 + 100 * ms - 1) == 0)
        // Only the first chunk is due; the second waits for its own mark.
        #expect(h.allowance(at: t0 + 100 * ms) == 100)
        #expect(h.faults.pendingWake(after: t0 + 100 * ms) == t0 + 130 * ms)
        h.write(100, at: t0 + 100 * ms)
        #expect(h.allowance(at: t0 + 130 * ms - 1) == 0)
        #expect(h.allowance(at: t0 + 130 * ms) == 50)
        h.write(50, at: t0 + 130 * ms)
        #expect(h.faults.pendingWake(after: t0 + 130 * ms) == nil)
    }

    @Test("A chunk released in several writes: the allowance counts what was already written")
    func latencyPartialWrites() {
        var h = Harness()
        h.apply(streamPolicy(latency100), at: t0)
        h.read(100, at: t0)
        h.read(100, at: t0 + 50 * ms)
        #expect(h.allowance(at: t0 + 100 * ms) == 100)
        h.write(30, at: t0 + 100 * ms)
        #expect(h.allowance(at: t0 + 110 * ms) == 70)
        h.write(70, at: t0 + 110 * ms)
        #expect(h.allowance(at: t0 + 120 * ms) == 0)
        #expect(h.allowance(at: t0 + 150 * ms) == 100)
    }

    @Test("Jittered latency: release times follow the seeded draws and never reorder chunks")
    func latencyJitterOrder() {
        let spec = FaultSpec(id: "jit", kind: .latency(delay: .milliseconds(50), jitter: .milliseconds(30), distribution: .uniform))
        var h = Harness()
        h.apply(streamPolicy(spec), at: t0)
        // Reference model: hold from the same RNG key, pushed back to keep order.
        var rng = h.chunkRNG("jit")
        let model = Latency(delay: .milliseconds(50), jitter: .milliseconds(30), distribution: .uniform)
        var releases: [(at: UInt64, bytes: Int)] = []
        var reordered = 0
        for i in 0..<40 {
            let readAt = t0 + UInt64(i) * ms
            let bytes = 10 + i
            h.read(bytes, at: readAt)
            var release = readAt + model.nextHoldNanoseconds(&rng)
            if let last = releases.last, last.at > release { release = last.at; reordered += 1 }
            releases.append((release, bytes))
        }
        #expect(reordered > 5, "the draws should exercise the ordering rule")
        // Walk every distinct release moment: nothing a nanosecond early, everything due on time.
        var expectedWritten = 0
        for at in Set(releases.map(\.at)).sorted() {
            let due = releases.filter { $0.at == at }.reduce(0) { $0 + $1.bytes }
            #expect(h.allowance(at: at - 1) == 0, "nothing early before \(at - t0)")
            #expect(h.faults.pendingWake(after: at - 1) == at)
            #expect(h.allowance(at: at) == due, "release at +\(at - t0) ns")
            h.write(due, at: at)
            expectedWritten += due
        }
        #expect(Int(h.written) == expectedWritten && h.held == 0)
    }

    @Test("Normal-jitter latency: mean hold = delay (±0.5 ms), sd = jitter (±5 %) over 20k chunks")
    func latencyNormalThroughStream() {
        let spec = FaultSpec(id: "nrm", kind: .latency(delay: .milliseconds(40), jitter: .milliseconds(8), distribution: .normal))
        var h = Harness()
        h.apply(streamPolicy(spec), at: t0)
        var holds: [Double] = []
        var now = t0
        // One chunk at a time, each written as soon as it is released: the hold is observable.
        for _ in 0..<20_000 {
            h.read(1, at: now)
            _ = h.allowance(at: now)
            guard let release = h.faults.pendingWake(after: now) else { Issue.record("no wake"); return }
            #expect(h.allowance(at: release) == 1)
            h.write(1, at: release)
            holds.append(Double(release - now))
            now = release + ms
        }
        let mean = holds.reduce(0, +) / Double(holds.count)
        let sd = (holds.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(holds.count)).squareRoot()
        #expect(abs(mean - 40e6) < 0.5e6, "mean \(mean)")
        #expect(abs(sd - 8e6) < 0.05 * 8e6, "sd \(sd)")
    }

    @Test("Clearing latency releases every held byte at once")
    func latencyCleared() {
        var h = Harness()
        h.apply(streamPolicy(latency100), at: t0)
        h.read(100, at: t0)
        h.read(200, at: t0 + 5 * ms)
        #expect(h.allowance(at: t0 + 10 * ms) == 0)
        h.apply(StreamPolicy(), at: t0 + 10 * ms)
        #expect(h.faults.policy.isEmpty)
        #expect(h.allowance(at: t0 + 10 * ms) == 300)
        #expect(h.faults.pendingWake(after: t0 + 10 * ms) == nil)
        // Re-adding latency later holds only new bytes.
        h.write(300, at: t0 + 10 * ms)
        h.apply(streamPolicy(latency100), at: t0 + 20 * ms)
        h.read(10, at: t0 + 20 * ms)
        #expect(h.allowance(at: t0 + 119 * ms) == 0)
        #expect(h.allowance(at: t0 + 120 * ms) == 10)
    }

    @Test("Latency that stays across an update keeps its marks and its RNG position")
    func latencySurvivesUpdate() {
        let spec = FaultSpec(id: "jit", kind: .latency(delay: .milliseconds(50), jitter: .milliseconds(20), distribution: .uniform))
        let model = Latency(delay: .milliseconds(50), jitter: .milliseconds(20), distribution: .uniform)
        var h = Harness()
        var rng = h.chunkRNG("jit")
        let hold1 = model.nextHoldNanoseconds(&rng)
        let hold2 = model.nextHoldNanoseconds(&rng)
        #expect(hold1 != hold2)

        h.apply(streamPolicy(spec), at: t0)
        h.read(100, at: t0)
        // Another fault arrives; latency is the same fault with the same parameters.
        h.apply(streamPolicy(spec, FaultSpec(id: "sc", kind: .slowClose(delay: .seconds(1)))), at: t0 + ms)
        #expect(h.allowance(at: t0 + hold1 - 1) == 0)
        #expect(h.allowance(at: t0 + hold1) == 100)
        h.write(100, at: t0 + hold1)
        // The next chunk uses the second draw, not a restarted generator.
        let readAt = t0 + 200 * ms
        h.read(10, at: readAt)
        #expect(h.allowance(at: readAt + hold2 - 1) == 0)
        #expect(h.allowance(at: readAt + hold2) == 10)
    }

    // MARK: bandwidth

    @Test("Bandwidth starts empty and meters the rate within 1 % over 2 s")
    func bandwidthRate() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "bw", kind: .bandwidth(bytesPerSecond: 1_000_000))), at: t0)
        h.read(10_000_000, at: t0)
        #expect(h.allowance(at: t0) == 0)
        // First wake when a batch of capacity/4 = 5000 bytes (5 ms) is in.
        let firstWake = h.faults.pendingWake(after: t0)
        #expect(firstWake != nil && firstWake! >= t0 + 5 * ms && firstWake! <= t0 + 5 * ms + 1)
        let log = h.run(from: t0, until: t0 + 2 * second)
        let sent = log.reduce(0) { $0 + $1.bytes }
        #expect(abs(Double(sent) - 2_000_000) < 20_000, "sent \(sent)")
        // Batches, not a byte per wake: about 400 wakes for 2 MB.
        #expect(log.count > 300 && log.count < 500, "\(log.count) writes")
        // Over any 100 ms window (after the first) the rate holds within the 5000-byte batch.
        let windowLength: UInt64 = 100 * ms
        for index in 1..<19 {
            let start: UInt64 = t0 + UInt64(index) * windowLength
            let end: UInt64 = start + windowLength
            let inWindow = log.filter { $0.at >= start && $0.at < end }
            let window: Int = inWindow.reduce(0) { $0 + $1.bytes }
            #expect(abs(window - 100_000) <= 5_001, "window \(index): \(window)")
        }
    }

    @Test("A bandwidth fault that stays across an update keeps its bucket; a changed one starts empty")
    func bandwidthSurvivesUpdate() {
        let bw = FaultSpec(id: "bw", kind: .bandwidth(bytesPerSecond: 1_000_000))
        var h = Harness()
        h.apply(streamPolicy(bw), at: t0)
        h.read(100_000, at: t0)
        #expect(h.allowance(at: t0 + 10 * ms) == 10_000)
        h.apply(streamPolicy(bw, FaultSpec(id: "sc", kind: .slowClose(delay: .seconds(1)))), at: t0 + 10 * ms)
        #expect(h.allowance(at: t0 + 10 * ms) == 10_000)
        h.apply(streamPolicy(FaultSpec(id: "bw", kind: .bandwidth(bytesPerSecond: 2_000_000))), at: t0 + 10 * ms)
        #expect(h.allowance(at: t0 + 10 * ms) == 0)
        #expect(h.allowance(at: t0 + 11 * ms) == 2_000)
    }

    // MARK: slicer

    @Test("Slicer: fixed-size slices, `delay` apart")
    func slicerGaps() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "sl", kind: .slicer(averageSize: 100, sizeVariation: 0, delay: .milliseconds(2)))), at: t0)
        h.read(1_000, at: t0)
        let log = h.run(from: t0, until: t0 + second)
        #expect(log.map(\.bytes) == [Int](repeating: 100, count: 10))
        #expect(log.map(\.at) == (0..<10).map { t0 + UInt64($0) * 2 * ms })
    }

    @Test("Slicer: a short write finishes its slice before the gap")
    func slicerShortWrite() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "sl", kind: .slicer(averageSize: 100, sizeVariation: 0, delay: .milliseconds(2)))), at: t0)
        h.read(1_000, at: t0)
        #expect(h.allowance(at: t0) == 100)
        h.write(40, at: t0)
        #expect(h.allowance(at: t0 + 1) == 60)
        h.write(60, at: t0 + 1)
        #expect(h.allowance(at: t0 + 1) == 0)
        #expect(h.faults.pendingWake(after: t0 + 1) == t0 + 1 + 2 * ms)
        #expect(h.allowance(at: t0 + 1 + 2 * ms) == 100)
    }

    @Test("Slicer: slice sizes follow the seeded draws within ± variation")
    func slicerSizes() {
        let model = Slicer(averageSize: 50, sizeVariation: 20, delay: .milliseconds(1))
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "sl", kind: .slicer(averageSize: 50, sizeVariation: 20, delay: .milliseconds(1)))), at: t0)
        h.read(5_000, at: t0)
        let log = h.run(from: t0, until: t0 + second)
        var rng = h.chunkRNG("sl")
        var expected: [Int] = []
        var left = 5_000
        while left > 0 {
            let size = min(left, model.nextSliceSize(&rng))
            expected.append(size)
            left -= size
        }
        #expect(log.map(\.bytes) == expected)
        #expect(log.dropLast().allSatisfy { $0.bytes >= 30 && $0.bytes <= 70 })
        #expect(zip(log, log.dropFirst()).allSatisfy { $1.at - $0.at == ms })
    }

    // MARK: limit_data

    @Test("limit_data allows exactly `bytes`, then closes")
    func limitData() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "ld", kind: .limitData(bytes: 1_000))), at: t0)
        h.read(1_500, at: t0)
        #expect(h.allowance(at: t0) == 1_000)
        h.write(999, at: t0)
        #expect(h.verdict(at: t0) == .none)
        #expect(h.allowance(at: t0) == 1)
        h.write(1, at: t0)
        #expect(h.verdict(at: t0) == .close(faultID: "ld"))
        #expect(h.allowance(at: t0) == 0)

        var zero = Harness()
        zero.apply(streamPolicy(FaultSpec(id: "ld0", kind: .limitData(bytes: 0))), at: t0)
        zero.read(10, at: t0)
        #expect(zero.allowance(at: t0) == 0)
        #expect(zero.verdict(at: t0) == .close(faultID: "ld0"))
    }

    // MARK: reset

    @Test("reset with `after` only: RST exactly at the deadline, bytes flow until then")
    func resetAfter() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "rs", kind: .reset(after: .seconds(2), afterBytes: nil))), at: t0)
        h.read(100, at: t0)
        #expect(h.allowance(at: t0) == 100)
        #expect(h.faults.pendingWake(after: t0) == t0 + 2 * second)
        #expect(h.verdict(at: t0 + 2 * second - 1) == .none)
        #expect(h.verdict(at: t0 + 2 * second) == .reset(faultID: "rs"))
        #expect(h.faults.pendingWake(after: t0 + 2 * second) == nil)

        var now = Harness()
        now.apply(streamPolicy(FaultSpec(id: "rs0", kind: .reset(after: .zero, afterBytes: nil))), at: t0)
        #expect(now.verdict(at: t0) == .reset(faultID: "rs0"))
    }

    @Test("reset with `after_bytes`: the allowance stops at after_bytes, RST `after` later")
    func resetAfterBytes() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "rb", kind: .reset(after: .milliseconds(100), afterBytes: 500))), at: t0)
        h.read(2_000, at: t0)
        #expect(h.faults.pendingWake(after: t0) == nil)
        #expect(h.verdict(at: t0 + 10 * second) == .none)
        #expect(h.allowance(at: t0) == 500)
        h.write(300, at: t0 + ms)
        #expect(h.allowance(at: t0 + ms) == 200)
        h.write(200, at: t0 + 2 * ms)
        #expect(h.allowance(at: t0 + 2 * ms) == 0)
        #expect(h.faults.pendingWake(after: t0 + 2 * ms) == t0 + 102 * ms)
        #expect(h.verdict(at: t0 + 102 * ms - 1) == .none)
        #expect(h.verdict(at: t0 + 102 * ms) == .reset(faultID: "rb"))

        var immediate = Harness()
        immediate.apply(streamPolicy(FaultSpec(id: "rb0", kind: .reset(after: .zero, afterBytes: 10))), at: t0)
        immediate.read(50, at: t0)
        #expect(immediate.writeAllowed(at: t0) == 10)
        #expect(immediate.verdict(at: t0) == .reset(faultID: "rb0"))
    }

    @Test("reset `after_bytes` applied to a connection that already sent more still resets")
    func resetAfterBytesOnBusyConnection() {
        // SPEC §3: a fault applies to connections already open. Whether after_bytes counts from
        // the connection's start or from when the fault arrived, the stream must not freeze.
        var h = Harness()
        h.apply(StreamPolicy(), at: t0)
        h.read(1_000, at: t0)
        h.write(1_000, at: t0)
        h.apply(streamPolicy(FaultSpec(id: "rb", kind: .reset(after: .milliseconds(100), afterBytes: 500))), at: t0 + second)
        h.read(1_000, at: t0 + second)
        var now = t0 + second
        var verdict = StreamFaults.Verdict.none
        for _ in 0..<50 {
            h.writeAllowed(at: now)
            verdict = h.verdict(at: now)
            if verdict != .none { break }
            now = h.faults.pendingWake(after: now) ?? now + 100 * ms
        }
        // after_bytes counts from when the fault took effect: 500 more bytes, then 100 ms.
        #expect(verdict == .reset(faultID: "rb"))
        #expect(now == t0 + second + 100 * ms)
    }

    // MARK: timeout, stall, blackhole

    @Test("timeout: input is discarded, connection closed exactly after the timeout")
    func timeout() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "to", kind: .timeout(.seconds(5)))), at: t0)
        #expect(h.faults.discardsInput)
        #expect(!h.faults.readPaused)
        #expect(h.faults.pendingWake(after: t0) == t0 + 5 * second)
        #expect(h.verdict(at: t0 + 5 * second - 1) == .none)
        #expect(h.verdict(at: t0 + 5 * second) == .close(faultID: "to"))
    }

    @Test("timeout 0s never closes but still discards")
    func timeoutZero() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "to0", kind: .timeout(.zero))), at: t0)
        #expect(h.faults.discardsInput)
        #expect(h.verdict(at: t0 + 100_000 * second) == .none)
        #expect(h.faults.pendingWake(after: t0) == nil)
        h.apply(StreamPolicy(), at: t0 + second)
        #expect(!h.faults.discardsInput)
    }

    @Test("Deadlines of faults that stay across an update are not restarted")
    func deadlinesSurviveUpdate() {
        let timeout = FaultSpec(id: "to", kind: .timeout(.seconds(5)))
        let reset = FaultSpec(id: "rs", kind: .reset(after: .seconds(7), afterBytes: nil))
        var h = Harness()
        h.apply(streamPolicy(timeout, reset), at: t0)
        h.apply(streamPolicy(timeout, reset, FaultSpec(id: "st", kind: .stall)), at: t0 + 3 * second)
        #expect(h.faults.pendingWake(after: t0 + 3 * second) == t0 + 5 * second)
        #expect(h.verdict(at: t0 + 5 * second) == .close(faultID: "to"))
        #expect(h.verdict(at: t0 + 7 * second) == .reset(faultID: "rs"))
        // A changed timeout is a new fault: it starts when it arrives.
        h.apply(streamPolicy(FaultSpec(id: "to", kind: .timeout(.seconds(6)))), at: t0 + 8 * second)
        #expect(h.verdict(at: t0 + 14 * second - 1) == .none)
        #expect(h.verdict(at: t0 + 14 * second) == .close(faultID: "to"))
    }

    @Test("stall pauses reading until cleared; blackhole discards without pausing")
    func stallAndBlackhole() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "st", kind: .stall)), at: t0)
        #expect(h.faults.readPaused && !h.faults.discardsInput)
        #expect(h.verdict(at: t0 + 1_000 * second) == .none)
        h.apply(StreamPolicy(), at: t0 + second)
        #expect(!h.faults.readPaused)
        h.apply(streamPolicy(FaultSpec(id: "bh", kind: .blackhole)), at: t0 + 2 * second)
        #expect(h.faults.discardsInput && !h.faults.readPaused)
        #expect(h.faults.pendingWake(after: t0) == nil)
    }

    // MARK: slow_close

    @Test("slow_close holds the FIN for `delay` from end of stream")
    func slowClose() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "sc", kind: .slowClose(delay: .seconds(3)))), at: t0)
        #expect(h.faults.pendingWake(after: t0) == nil)
        let eof = t0 + 10 * second
        var finPasses = h.finMayPass(at: eof)
        #expect(!finPasses)
        #expect(h.faults.pendingWake(after: eof) == eof + 3 * second)
        finPasses = h.finMayPass(at: eof + 3 * second - 1)
        #expect(!finPasses)
        finPasses = h.finMayPass(at: eof + 3 * second)
        #expect(finPasses)
        #expect(h.faults.pendingWake(after: eof + 3 * second) == nil)
    }

    @Test("Clearing slow_close lets a held FIN pass at once")
    func slowCloseCleared() {
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "sc", kind: .slowClose(delay: .seconds(3)))), at: t0)
        var finPasses = h.finMayPass(at: t0)
        #expect(!finPasses)
        h.apply(StreamPolicy(), at: t0 + second)
        finPasses = h.finMayPass(at: t0 + second)
        #expect(finPasses)
        // Once the relay asks again, the old FIN deadline no longer asks for a wake-up.
        #expect(h.allowance(at: t0 + second) == 0)
        #expect(h.faults.pendingWake(after: t0 + second) == nil)
    }

    // MARK: wakes and verdicts

    @Test("pendingWake is the earliest future deadline, skipping those already reached")
    func pendingWake() {
        var h = Harness()
        h.apply(streamPolicy(
            latency100,
            FaultSpec(id: "rs", kind: .reset(after: .seconds(3), afterBytes: nil)),
            FaultSpec(id: "sc", kind: .slowClose(delay: .seconds(5)))
        ), at: t0)
        #expect(h.faults.pendingWake(after: t0) == t0 + 3 * second)
        let finPasses = h.finMayPass(at: t0)
        #expect(!finPasses)
        h.read(10, at: t0)
        #expect(h.allowance(at: t0) == 0)
        #expect(h.faults.pendingWake(after: t0) == t0 + 100 * ms)
        #expect(h.faults.pendingWake(after: t0 + 100 * ms) == t0 + 3 * second)
        #expect(h.faults.pendingWake(after: t0 + 3 * second) == t0 + 5 * second)
        #expect(h.faults.pendingWake(after: t0 + 5 * second) == nil)
        #expect(h.faults.pendingWake(after: .max) == nil)
    }

    @Test("Reset outranks timeout, timeout outranks limit_data")
    func verdictPriority() {
        var h = Harness()
        h.apply(streamPolicy(
            FaultSpec(id: "ld", kind: .limitData(bytes: 0)),
            FaultSpec(id: "to", kind: .timeout(.seconds(1))),
            FaultSpec(id: "rs", kind: .reset(after: .seconds(2), afterBytes: nil))
        ), at: t0)
        #expect(h.verdict(at: t0) == .close(faultID: "ld"))
        #expect(h.verdict(at: t0 + second) == .close(faultID: "to"))
        #expect(h.verdict(at: t0 + 2 * second) == .reset(faultID: "rs"))
    }

    @Test("Latency, bandwidth and limit_data together: the strictest wins at each moment")
    func combined() {
        var h = Harness()
        h.apply(streamPolicy(
            latency100,
            FaultSpec(id: "bw", kind: .bandwidth(bytesPerSecond: 100_000)),
            FaultSpec(id: "ld", kind: .limitData(bytes: 3_000))
        ), at: t0)
        h.read(10_000, at: t0)
        // Held by latency until +100 ms (the bucket has 10 000 B by then, capped at 2000).
        #expect(h.allowance(at: t0 + 50 * ms) == 0)
        #expect(h.allowance(at: t0 + 100 * ms) == 2_000)
        h.write(2_000, at: t0 + 100 * ms)
        // 5 ms earn 500 bytes; later the bucket has plenty and limit_data caps at 3000 in all.
        #expect(h.allowance(at: t0 + 105 * ms) == 500)
        #expect(h.allowance(at: t0 + 200 * ms) == 1_000)
        h.write(1_000, at: t0 + 200 * ms)
        #expect(h.verdict(at: t0 + 200 * ms) == .close(faultID: "ld"))
    }
}
