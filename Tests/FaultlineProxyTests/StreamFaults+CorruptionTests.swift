import FaultlineCore
import FaultlineLoop
@testable import FaultlineProxy
import Testing

@Suite("StreamFaults corruption on a real RelayBuffer")
struct StreamFaultsCorruptionTests {
    /// Test data: a fixed pattern, so flipped bits are visible.
    private func pattern(_ count: Int, salt: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ salt }
    }

    @Test("Flips land on the bytes just read, matching the seeded Corruption, across reads and partial drains")
    func flipsMatchModel() throws {
        let pair = try SocketPair()
        let pool = BufferPool(bufferSize: 16_384)
        var buffer = RelayBuffer()
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "co", kind: .corrupt(bitFlipRate: 0.01))), at: t0)

        var sent: [UInt8] = []
        var received: [UInt8] = []
        // Read, drain part, read more on top of held bytes (head > 0), drain all, read again.
        let steps: [(read: Int, drain: Int)] = [(1_000, 400), (2_000, 2_600), (500, 0), (3_000, 3_500)]
        for (index, step) in steps.enumerated() {
            let chunk = pattern(step.read, salt: UInt8(index))
            let n = try pair.fill(&buffer, with: chunk, pool: pool)
            h.faults.didRead(n, totalKeptBefore: h.kept, buffer: &buffer, now: t0)
            h.kept += UInt64(n)
            sent += chunk
            if step.drain > 0 { received += try pair.drain(&buffer, count: step.drain) }
        }
        #expect(received.count == sent.count)

        // The model: the same generator key fed the same chunk sizes.
        var rng = h.chunkRNG("co")
        var model = Corruption(bitFlipRate: 0.01, rng: &rng)
        var expected = sent
        var base = 0
        for step in steps {
            model.forEachFlip(inBytes: step.read, rng: &rng) { offset, bit in
                expected[base + offset] ^= UInt8(1) << UInt8(bit)
            }
            base += step.read
        }
        let flippedBits = zip(sent, received).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount }
        #expect(flippedBits > 300 && flippedBits < 750, "≈ 0.01 × 52 000 bits, got \(flippedBits)")
        let wrongBytes = received.indices.filter { $0 >= expected.count || received[$0] != expected[$0] }
        #expect(wrongBytes.isEmpty, "\(wrongBytes.count) bytes differ from the model, first at \(wrongBytes.first ?? -1)")
        buffer.release(to: pool)
    }

    @Test("Rate 1 inverts every byte; removing corruption stops it")
    func rateOneThenCleared() throws {
        let pair = try SocketPair()
        let pool = BufferPool(bufferSize: 4_096)
        var buffer = RelayBuffer()
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "all", kind: .corrupt(bitFlipRate: 1))), at: t0)
        let data = pattern(300, salt: 0x5A)
        let n = try pair.fill(&buffer, with: data, pool: pool)
        h.faults.didRead(n, totalKeptBefore: 0, buffer: &buffer, now: t0)
        #expect(try pair.drain(&buffer, count: 300) == data.map { ~$0 })

        h.apply(StreamPolicy(), at: t0)
        let m = try pair.fill(&buffer, with: data, pool: pool)
        h.faults.didRead(m, totalKeptBefore: 300, buffer: &buffer, now: t0)
        #expect(try pair.drain(&buffer, count: 300) == data)
        buffer.release(to: pool)
    }

    @Test("Rate 0 changes nothing")
    func rateZero() throws {
        let pair = try SocketPair()
        let pool = BufferPool(bufferSize: 65_536)
        var buffer = RelayBuffer()
        var h = Harness()
        h.apply(streamPolicy(FaultSpec(id: "none", kind: .corrupt(bitFlipRate: 0))), at: t0)
        let data = pattern(50_000, salt: 1)
        let n = try pair.fill(&buffer, with: data, pool: pool)
        h.faults.didRead(n, totalKeptBefore: 0, buffer: &buffer, now: t0)
        #expect(try pair.drain(&buffer, count: n) == data)
        buffer.release(to: pool)
    }
}
