import FaultlineCore
import Testing

@Suite("Corruption")
struct CorruptionTests {
    /// Absolute bit positions (byte * 8 + bit) flipped over `chunks`, fed one after another.
    private func flips(rate: Double, chunks: [Int], seed: UInt64 = 21) -> [Int] {
        var rng = DecisionRNG(seed: seed, faultID: "corrupt", serial: 4, stream: 11)
        var corruption = Corruption(bitFlipRate: rate, rng: &rng)
        var positions: [Int] = []
        var outOfRange: [(chunk: Int, offset: Int, bit: Int)] = []
        var base = 0
        for chunk in chunks {
            corruption.forEachFlip(inBytes: chunk, rng: &rng) { offset, bit in
                if offset < 0 || offset >= chunk || bit < 0 || bit >= 8 { outOfRange.append((chunk, offset, bit)) }
                positions.append((base + offset) * 8 + bit)
            }
            base += chunk
        }
        #expect(outOfRange.isEmpty, "flips outside their chunk: \(outOfRange.prefix(5))")
        return positions
    }

    @Test("Flip count over 1 MB ≈ rate × bits (within 5 binomial sd)", arguments: [1e-4, 1e-3, 0.01, 0.3])
    func flipCount(_ rate: Double) {
        let bits = Double((1 << 20) * 8)
        let count = flips(rate: rate, chunks: [1 << 20]).count
        let expected = rate * bits
        let sd = (bits * rate * (1 - rate)).squareRoot()
        #expect(abs(Double(count) - expected) < 5 * sd, "rate \(rate): \(count) vs \(expected) ± \(5 * sd)")
    }

    @Test("Rate 0 never flips")
    func rateZero() {
        #expect(flips(rate: 0, chunks: [1 << 20, 1, 4096]).isEmpty)
    }

    @Test("Rate 1 flips every bit, in order")
    func rateOne() {
        expectSame(flips(rate: 1, chunks: [100]), Array(0..<800))
        expectSame(flips(rate: 1, chunks: [3, 0, 1, 96]), Array(0..<800))
    }

    @Test("Flip positions strictly increase and stay within the bytes fed")
    func ordered() {
        let positions = flips(rate: 0.05, chunks: [100_000])
        #expect(!positions.isEmpty)
        #expect(zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 })
        #expect(positions.last! < 800_000)
        // All eight bit positions are used, about equally (±10 %).
        let perBit = Dictionary(grouping: positions, by: { $0 % 8 }).mapValues(\.count)
        #expect(perBit.count == 8)
        let mean = Double(positions.count) / 8
        #expect(perBit.values.allSatisfy { abs(Double($0) - mean) < 0.1 * mean })
    }

    @Test("Chunking does not change which bits flip (1 MB whole vs random chunks)", arguments: [1e-4, 0.01, 0.2])
    func chunkingInvariance(_ rate: Double) {
        let total = 1 << 20
        var sizer = DecisionRNG(seed: 77, faultID: "chunks", serial: 0)
        var chunks: [Int] = []
        var left = total
        while left > 0 {
            let size = min(left, Int(sizer.next() % 20_000))  // includes empty chunks
            chunks.append(size)
            left -= size
        }
        #expect(chunks.count > 50)
        let whole = flips(rate: rate, chunks: [total])
        #expect(!whole.isEmpty)
        expectSame(flips(rate: rate, chunks: chunks), whole)
        expectSame(flips(rate: rate, chunks: [Int](repeating: 1, count: 8192)), flips(rate: rate, chunks: [8192]))
    }

    /// Compares flip lists without letting a failure diff millions of elements.
    private func expectSame(_ actual: [Int], _ expected: [Int], sourceLocation: SourceLocation = #_sourceLocation) {
        guard actual != expected else { return }
        let common = min(actual.count, expected.count)
        let first = (0..<common).first { actual[$0] != expected[$0] } ?? common
        let detail = "\(Array(actual.dropFirst(first).prefix(3))) vs \(Array(expected.dropFirst(first).prefix(3)))"
        Issue.record(
            "flip lists differ: \(actual.count) vs \(expected.count) flips; first difference at index \(first): \(detail)",
            sourceLocation: sourceLocation)
    }

    @Test("Same seed, same flips; another seed, other flips")
    func seeded() {
        expectSame(flips(rate: 0.001, chunks: [100_000], seed: 1), flips(rate: 0.001, chunks: [100_000], seed: 1))
        #expect(flips(rate: 0.001, chunks: [100_000], seed: 1) != flips(rate: 0.001, chunks: [100_000], seed: 2))
    }
}
