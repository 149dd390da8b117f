@testable import FaultlineCore
import Testing

@Suite("DecisionRNG")
struct DecisionRNGTests {
    private func draws(_ rng: DecisionRNG, _ n: Int = 16) -> [UInt64] {
        var rng = rng
        return (0..<n).map { _ in rng.next() }
    }

    @Test("The mixers are SplitMix64 and FNV-1a (reference vectors)")
    func referenceVectors() {
        // SplitMix64 seeded with 0: first output mixes 0x9E3779B97F4A7C15.
        #expect(DecisionRNG.mix(0x9E37_79B9_7F4A_7C15) == 0xE220_A839_7B1D_CDAF)
        #expect(DecisionRNG.mix(0x9E37_79B9_7F4A_7C15 &* 2) == 0x6E78_9E6A_A1B9_65F4)
        #expect(DecisionRNG.fnv1a("") == 0xcbf2_9ce4_8422_2325)
        #expect(DecisionRNG.fnv1a("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(DecisionRNG.fnv1a("foobar") == 0x8594_4171_f739_67e8)
    }

    @Test("The same key always yields the same sequence")
    func determinism() {
        let a = DecisionRNG(seed: 42, faultID: "lat", serial: 7, stream: 10)
        let b = DecisionRNG(seed: 42, faultID: "lat", serial: 7, stream: 10)
        #expect(draws(a) == draws(b))
        #expect(Set(draws(a, 1000)).count == 1000)
    }

    @Test("Each part of the key changes the sequence")
    func keysDiffer() {
        let base = draws(DecisionRNG(seed: 42, faultID: "lat", serial: 7, stream: 10))
        let variants = [
            DecisionRNG(seed: 43, faultID: "lat", serial: 7, stream: 10),
            DecisionRNG(seed: 42, faultID: "lat2", serial: 7, stream: 10),
            DecisionRNG(seed: 42, faultID: "la", serial: 7, stream: 10),
            DecisionRNG(seed: 42, faultID: "lat", serial: 8, stream: 10),
            DecisionRNG(seed: 42, faultID: "lat", serial: 7, stream: 11),
            DecisionRNG(seed: 0, faultID: "", serial: 0),
        ]
        var seen: Set<[UInt64]> = [base]
        for variant in variants {
            let sequence = draws(variant)
            // No shared draws at all, not just a different first value.
            #expect(Set(sequence).isDisjoint(with: base))
            seen.insert(sequence)
        }
        #expect(seen.count == variants.count + 1)
    }

    @Test("Serials 0..<10000 give pairwise distinct first draws")
    func serialsDistinct() {
        var firsts = Set<UInt64>()
        for serial in 0..<UInt64(10_000) {
            var rng = DecisionRNG(seed: 1, faultID: "f", serial: serial)
            firsts.insert(rng.next())
        }
        #expect(firsts.count == 10_000)
    }

    @Test("chance(0) never fires and chance(1) always does, without drawing")
    func chanceEdges() {
        var rng = DecisionRNG(seed: 5, faultID: "p", serial: 0)
        let untouched = rng
        var wrong = 0
        for _ in 0..<10_000 {
            if rng.chance(0) || rng.chance(-0.5) || !rng.chance(1) || !rng.chance(1.5) { wrong += 1 }
        }
        #expect(wrong == 0)
        // The edges consume no randomness, so the next event index is unchanged.
        #expect(draws(rng) == draws(untouched))
    }

    @Test("chance(p) fires with frequency p (±0.01 over 100k draws)", arguments: [0.001, 0.1, 0.5, 0.9])
    func chanceFrequency(_ p: Double) {
        var rng = DecisionRNG(seed: 99, faultID: "freq", serial: 3)
        let n = 100_000
        var hits = 0
        for _ in 0..<n where rng.chance(p) { hits += 1 }
        #expect(abs(Double(hits) / Double(n) - p) < 0.01, "p=\(p) got \(hits)/\(n)")
    }

    @Test("nextUnit stays in [0, 1) and is uniform over 20 bins (each within ±6 % of 5000)")
    func unitUniform() {
        var rng = DecisionRNG(seed: 2024, faultID: "u", serial: 1)
        let n = 100_000
        var bins = [Int](repeating: 0, count: 20)
        var sum = 0.0
        var low = 1.0
        var high = 0.0
        var outside = 0
        for _ in 0..<n {
            let u = rng.nextUnit()
            guard u >= 0 && u < 1 else { outside += 1; continue }
            bins[Int(u * 20)] += 1
            sum += u
            low = min(low, u)
            high = max(high, u)
        }
        #expect(outside == 0)
        // Binomial sd per bin ≈ 69; 300 is > 4 sd.
        for (index, count) in bins.enumerated() {
            #expect(abs(count - n / 20) < 300, "bin \(index): \(count)")
        }
        #expect(abs(sum / Double(n) - 0.5) < 0.005)
        #expect(low < 0.0001 && high > 0.9999)
    }

    @Test("nextNormal has mean 0 and sd 1 (±0.02) over 100k draws")
    func normal() {
        var rng = DecisionRNG(seed: 7, faultID: "n", serial: 0)
        let n = 100_000
        var sum = 0.0
        var sumSquares = 0.0
        var withinOne = 0
        var nonFinite = 0
        for _ in 0..<n {
            let x = rng.nextNormal()
            if !x.isFinite { nonFinite += 1; continue }
            sum += x
            sumSquares += x * x
            if abs(x) < 1 { withinOne += 1 }
        }
        #expect(nonFinite == 0)
        let mean = sum / Double(n)
        let sd = (sumSquares / Double(n) - mean * mean).squareRoot()
        #expect(abs(mean) < 0.02, "mean \(mean)")
        #expect(abs(sd - 1) < 0.02, "sd \(sd)")
        // Shape, not just moments: 68.27 % within one sd.
        #expect(abs(Double(withinOne) / Double(n) - 0.6827) < 0.01)
    }
}
