import FaultlineCore
@testable import FaultlineProxy
import FaultlineLoop
import Testing

let ms: UInt64 = 1_000_000
let second: UInt64 = 1_000_000_000
/// An arbitrary monotonic-clock origin, so nothing depends on time starting at 0.
let t0: UInt64 = 7_000_000_000_000

/// The stream policy that `faults` compile to (probability 1, both directions), upstream side.
func streamPolicy(_ faults: FaultSpec...) -> StreamPolicy {
    PolicyCompiler.compile(faults: faults, seed: 0, serial: 0).upstream
}

/// Drives a `StreamFaults` the way the relay does, without sockets: it keeps the kept/written
/// byte counts and feeds times from a mock clock (plain nanoseconds).
struct Harness {
    var faults = StreamFaults()
    /// Bytes read and kept (`HalfStream.bytesIn`).
    var kept: UInt64 = 0
    /// Bytes written on (`HalfStream.bytesOut`).
    var written: UInt64 = 0
    let seed: UInt64 = 42
    let serial: UInt64 = 7
    let flow = Flow.upstream

    var held: Int { Int(kept - written) }

    /// The per-chunk RNG the stream uses for a fault (same key as `StreamFaults.update`).
    func chunkRNG(_ faultID: String) -> DecisionRNG {
        DecisionRNG(seed: seed, faultID: faultID, serial: serial, stream: PolicyCompiler.chunkStream(flow))
    }

    mutating func apply(_ policy: StreamPolicy, at now: UInt64) {
        faults.update(to: policy, now: now, written: written, seed: seed, serial: serial, flow: flow)
    }

    /// `n` bytes were read and kept. No corruption in force: the buffer is not touched.
    mutating func read(_ n: Int, at now: UInt64) {
        precondition(faults.policy.corrupt == nil, "use a real RelayBuffer for corruption")
        var buffer = RelayBuffer()
        faults.didRead(n, totalKeptBefore: kept, buffer: &buffer, now: now)
        kept += UInt64(n)
    }

    mutating func allowance(at now: UInt64) -> Int {
        faults.writeAllowance(held: held, written: written, kept: kept, now: now)
    }

    mutating func write(_ n: Int, at now: UInt64) {
        precondition(n <= held)
        written += UInt64(n)
        faults.didWrite(n, written: written, now: now)
    }

    /// Writes everything allowed at `now` (as the relay loops while it progresses); returns the total.
    @discardableResult
    mutating func writeAllowed(at now: UInt64) -> Int {
        var total = 0
        while held > 0 {
            let n = allowance(at: now)
            guard n > 0 else { break }
            write(n, at: now)
            total += n
        }
        return total
    }

    mutating func finMayPass(at now: UInt64) -> Bool {
        faults.finMayPass(now: now)
    }

    func verdict(at now: UInt64) -> StreamFaults.Verdict {
        faults.verdict(written: written, now: now)
    }

    /// Runs the relay from `start` to `end`, waking only when `pendingWake` asks; returns the
    /// writes made as (time, bytes).
    mutating func run(from start: UInt64, until end: UInt64) -> [(at: UInt64, bytes: Int)] {
        var log: [(at: UInt64, bytes: Int)] = []
        var now = start
        while true {
            let n = writeAllowed(at: now)
            if n > 0 { log.append((now, n)) }
            guard let next = faults.pendingWake(after: now), next <= end else { return log }
            #expect(next > now, "pendingWake went backwards")
            if next <= now { return log }
            now = next
        }
    }
}
