import FaultlineCore
import FaultlineLoop
import FaultlineMetrics

/// The running state of the faults acting on one half-stream: latency marks, token bucket,
/// slice budget, corruption cursor, and the deadlines of reset/timeout/slow-close.
///
/// Everything here is decided by `FaultlineCore` types; this struct keeps their state between
/// events and answers the relay's three questions: may I read, how much may I write now, and
/// when should I be woken.
struct StreamFaults {
    /// What the relay must do to the connection because of a fault.
    enum Verdict: Equatable {
        case none
        /// Close both sides with FIN (limit_data, timeout).
        case close(faultID: String)
        /// Reset both sides (reset).
        case reset(faultID: String)
    }

    private(set) var policy = StreamPolicy()

    private var marks = MarkQueue()
    /// Where the lateness of each released latency chunk is counted (the route's shard; set
    /// by the worker while a latency fault acts on the stream).
    var latenessHistogram: Histogram?
    private var latencyRNG: DecisionRNG?
    private var bucket: TokenBucket?
    private var sliceRemaining = 0
    private var nextSliceAt: UInt64 = 0
    private var slicerRNG: DecisionRNG?
    private var corruption: Corruption?
    private var corruptionRNG: DecisionRNG?
    /// When the reset fires (after `after`, or once `after_bytes` passed plus `after`).
    private var resetAt: UInt64?
    /// When the timeout closes the connection.
    private var timeoutAt: UInt64?
    /// Bytes already written when `limit_data` took effect: it counts from there.
    private var limitBaseline: UInt64 = 0
    /// Bytes already written when `reset` took effect: `after_bytes` counts from there.
    private var resetBaseline: UInt64 = 0
    /// When the delayed FIN may pass.
    private(set) var finDueAt: UInt64?

    /// The stream's earliest wake-up the relay should schedule, if any.
    private(set) var nextWake: UInt64?
    /// The deadline a timer is already scheduled for.
    var armedWake: UInt64 = 0

    /// Reading is paused (stall).
    var readPaused: Bool { policy.stall != nil }
    /// Bytes read are dropped (blackhole, timeout, a blackhole partition).
    var discardsInput: Bool { policy.blackhole != nil || policy.timeout != nil || policy.partitioned != nil }

    /// Adopts a new policy. State of a fault that stays (same id and parameters) is kept; a
    /// fault that is new starts now. Held latency bytes are released when latency goes away.
    /// `written` is the direction's byte count so far: byte-counting faults count from it.
    mutating func update(to newPolicy: StreamPolicy, now: UInt64, written: UInt64, seed: UInt64, serial: UInt64, flow: Flow) {
        let old = policy
        policy = newPolicy
        let stream = PolicyCompiler.chunkStream(flow)
        func rng(_ id: String) -> DecisionRNG { DecisionRNG(seed: seed, faultID: id, serial: serial, stream: stream) }

        if newPolicy.latency != old.latency {
            if newPolicy.latency == nil { marks.removeAll() }
            latencyRNG = newPolicy.latency.map { rng($0.faultID) }
        }
        if newPolicy.bandwidth != old.bandwidth {
            bucket = newPolicy.bandwidth.map { TokenBucket(bytesPerSecond: $0.value, now: now) }
        }
        if newPolicy.slicer != old.slicer {
            if let slicer = newPolicy.slicer {
                var generator = rng(slicer.faultID)
                sliceRemaining = slicer.value.nextSliceSize(&generator)
                slicerRNG = generator
                nextSliceAt = 0
            } else {
                slicerRNG = nil
            }
        }
        if newPolicy.corrupt != old.corrupt {
            if let corrupt = newPolicy.corrupt {
                var generator = rng(corrupt.faultID)
                corruption = Corruption(bitFlipRate: corrupt.value, rng: &generator)
                corruptionRNG = generator
            } else {
                corruption = nil
                corruptionRNG = nil
            }
        }
        if newPolicy.reset != old.reset {
            resetAt = nil
            resetBaseline = written
            if let reset = newPolicy.reset, reset.value.afterBytes == nil || reset.value.afterBytes == 0 {
                resetAt = now.addingSaturating(reset.value.after.nanosecondsClamped)
            }
        }
        if newPolicy.limitData != old.limitData {
            limitBaseline = written
        }
        if newPolicy.timeout != old.timeout {
            timeoutAt = nil
            if let timeout = newPolicy.timeout, timeout.value > .zero {
                timeoutAt = now.addingSaturating(timeout.value.nanosecondsClamped)
            }
        }
        if newPolicy.slowClose != old.slowClose, newPolicy.slowClose == nil {
            finDueAt = nil
        }
    }

    /// `count` bytes were just read and kept (not discarded); the last `count` bytes of
    /// `buffer` are theirs. Corrupts them and records their latency release time.
    mutating func didRead(_ count: Int, totalKeptBefore: UInt64, buffer: inout RelayBuffer, now: UInt64) {
        if var corruption, var generator = corruptionRNG {
            let base = buffer.count - count
            corruption.forEachFlip(inBytes: count, rng: &generator) { offset, bit in
                buffer.flipBit(atOffset: base + offset, bit: bit)
            }
            self.corruption = corruption
            corruptionRNG = generator
        }
        if let latency = policy.latency, var generator = latencyRNG {
            var releaseAt = now.addingSaturating(latency.value.nextHoldNanoseconds(&generator))
            latencyRNG = generator
            if let last = marks.last, last.releaseAt > releaseAt { releaseAt = last.releaseAt }  // order is kept
            marks.append(Mark(start: totalKeptBefore, releaseAt: releaseAt))
        }
    }

    /// How many of the `held` bytes may be written at `now`. `written` counts bytes written
    /// so far, `kept` bytes read and kept. Sets `nextWake` when something waits for time.
    mutating func writeAllowance(held: Int, written: UInt64, kept: UInt64, now: UInt64) -> Int {
        nextWake = nil
        var allowance = held
        if !marks.isEmpty {
            while let first = marks.first, first.releaseAt <= now {
                latenessHistogram?.observe(nanoseconds: now - first.releaseAt)
                marks.removeFirst()
            }
            if let pending = marks.first {
                allowance = min(allowance, Int(pending.start &- written))
                wake(at: pending.releaseAt)
            }
        }
        if allowance > 0, bucket != nil {
            let available = bucket!.available(now: now)
            if available < allowance {
                allowance = available
                wake(at: bucket!.readyTime(forBytes: held, now: now))
            }
        }
        if allowance > 0, policy.slicer != nil {
            if now < nextSliceAt {
                allowance = 0
                wake(at: nextSliceAt)
            } else {
                allowance = min(allowance, sliceRemaining)
            }
        }
        if let limit = policy.limitData {
            allowance = min(allowance, max(0, limit.value - Int(written - limitBaseline)))
        }
        if let reset = policy.reset, let afterBytes = reset.value.afterBytes {
            allowance = min(allowance, max(0, afterBytes - Int(written - resetBaseline)))
        }
        if let resetAt {
            // Once the reset is due nothing more passes: with `after` 0 the peer sees no byte
            // at all (Toxiproxy's reset_peer with timeout 0), not the first read, then RST.
            if now >= resetAt { return 0 }
            wake(at: resetAt)
        }
        if let timeoutAt { wake(at: timeoutAt) }
        return max(0, allowance)
    }

    /// `count` bytes were written at `now`; `written` is the new total.
    mutating func didWrite(_ count: Int, written: UInt64, now: UInt64) {
        if bucket != nil { bucket!.consume(count) }
        if let slicer = policy.slicer {
            sliceRemaining -= count
            if sliceRemaining <= 0 {
                nextSliceAt = now.addingSaturating(slicer.value.delay.nanosecondsClamped)
                if var generator = slicerRNG {
                    sliceRemaining = slicer.value.nextSliceSize(&generator)
                    slicerRNG = generator
                }
            }
        }
        if let reset = policy.reset, let afterBytes = reset.value.afterBytes, resetAt == nil,
           Int(written - resetBaseline) >= afterBytes {
            resetAt = now.addingSaturating(reset.value.after.nanosecondsClamped)
        }
    }

    /// What the faults require of the connection at `now` (limits reached, deadlines passed).
    func verdict(written: UInt64, now: UInt64) -> Verdict {
        if let resetAt, now >= resetAt, let reset = policy.reset { return .reset(faultID: reset.faultID) }
        if let timeoutAt, now >= timeoutAt, let timeout = policy.timeout { return .close(faultID: timeout.faultID) }
        if let limit = policy.limitData, Int(written - limitBaseline) >= limit.value { return .close(faultID: limit.faultID) }
        return .none
    }

    /// Whether the FIN may pass at `now` (slow_close holds it for `delay` after end of stream).
    mutating func finMayPass(now: UInt64) -> Bool {
        // Across a partition nothing passes; the FIN follows when it heals (the new plan
        // re-runs the relay).
        if policy.partitioned != nil { return false }
        guard let slowClose = policy.slowClose else { return true }
        if finDueAt == nil { finDueAt = now.addingSaturating(slowClose.value.nanosecondsClamped) }
        if now >= finDueAt! { return true }
        wake(at: finDueAt!)
        return false
    }

    /// The earliest moment this stream needs the relay again: a latency release, tokens, the
    /// next slice, a delayed FIN, a reset or timeout deadline.
    /// Deadlines already reached are left out: the relay has just acted on them, or an I/O
    /// event will bring it back.
    func pendingWake(after now: UInt64) -> UInt64? {
        var best: UInt64?
        func consider(_ deadline: UInt64?) {
            if let deadline, deadline > now, best == nil || deadline < best! { best = deadline }
        }
        consider(nextWake)
        consider(resetAt)
        consider(timeoutAt)
        consider(finDueAt)
        return best
    }

    private mutating func wake(at deadline: UInt64) {
        if nextWake == nil || deadline < nextWake! { nextWake = deadline }
    }
}

/// Latency bookkeeping: where a held chunk starts (in kept-byte coordinates) and when it leaves.
struct Mark: Equatable {
    var start: UInt64
    var releaseAt: UInt64
}

/// A FIFO of marks that reuses its storage (no allocation per chunk once warm).
struct MarkQueue {
    private var storage: [Mark] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var first: Mark? { isEmpty ? nil : storage[head] }
    var last: Mark? { isEmpty ? nil : storage[storage.count - 1] }

    mutating func append(_ mark: Mark) {
        if head > 0 && head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        }
        storage.append(mark)
    }

    mutating func removeFirst() {
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 4096 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }

    mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        head = 0
    }
}

extension UInt64 {
    /// `self + other`, or `.max` on overflow (deadlines far in the future stay far).
    func addingSaturating(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
