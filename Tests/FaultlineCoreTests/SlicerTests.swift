import FaultlineCore
import Testing

@Suite("Slicer sizes")
struct SlicerTests {
    private func sizes(_ slicer: Slicer, count: Int = 50_000) -> [Int] {
        var rng = DecisionRNG(seed: 8, faultID: "slice", serial: 2, stream: 10)
        return (0..<count).map { _ in slicer.nextSliceSize(&rng) }
    }

    @Test("Sizes lie in average ± variation, reach both ends, and average out (±0.5 %)")
    func range() {
        let values = sizes(Slicer(averageSize: 100, sizeVariation: 30, delay: .milliseconds(1)))
        #expect(values.min() == 70)
        #expect(values.max() == 130)
        let mean = Double(values.reduce(0, +)) / Double(values.count)
        #expect(abs(mean - 100) < 0.5, "mean \(mean)")
        // Every size in the range occurs (61 values, ~820 each).
        let counts = Dictionary(grouping: values, by: { $0 }).mapValues(\.count)
        #expect(counts.count == 61)
        #expect(counts.values.allSatisfy { $0 > 600 && $0 < 1_050 })
    }

    @Test("No variation: exactly the average")
    func exact() {
        #expect(Set(sizes(Slicer(averageSize: 64, sizeVariation: 0, delay: .zero), count: 100)) == [64])
    }

    @Test("Never below one byte")
    func atLeastOne() {
        let wide = sizes(Slicer(averageSize: 3, sizeVariation: 10, delay: .zero), count: 10_000)
        #expect(wide.min() == 1)
        #expect(wide.max() == 13)
        #expect(Set(sizes(Slicer(averageSize: 0, sizeVariation: 0, delay: .zero), count: 10)) == [1])
        #expect(sizes(Slicer(averageSize: 1, sizeVariation: 1, delay: .zero), count: 1_000).allSatisfy { $0 == 1 || $0 == 2 })
    }
}
