import FaultlineCore
import Testing

/// The bounded per-key counter behind `attempts`.
@Suite("AttemptCounter")
struct AttemptCounterTests {
    @Test("Counts each key from 1")
    func counts() {
        var counter = AttemptCounter(capacity: 10)
        #expect(counter.record("a") == 1)
        #expect(counter.record("a") == 2)
        #expect(counter.record("b") == 1)
        #expect(counter.record("a") == 3)
        #expect(counter.count(of: "a") == 3)
        #expect(counter.count(of: "b") == 1)
        #expect(counter.count(of: "c") == 0)
        #expect(counter.count == 2)
    }

    @Test("At capacity the least recently seen key is forgotten and counts from 1 again")
    func evictsLeastRecentlySeen() {
        var counter = AttemptCounter(capacity: 2)
        _ = counter.record("a")
        _ = counter.record("a")
        _ = counter.record("b")
        #expect(counter.record("c") == 1)
        #expect(counter.count == 2)
        #expect(counter.count(of: "a") == 0, "a was the least recently seen")
        #expect(counter.count(of: "b") == 1)
        #expect(counter.count(of: "c") == 1)
        // a comes back: from 1, and now b (least recent) goes.
        #expect(counter.record("a") == 1)
        #expect(counter.count(of: "b") == 0)
        #expect(counter.count(of: "c") == 1)
        #expect(counter.count == 2)
    }

    @Test("A re-seen key is kept; the one not seen since goes")
    func reSeenKeyIsKept() {
        var counter = AttemptCounter(capacity: 2)
        _ = counter.record("a")
        _ = counter.record("b")
        #expect(counter.record("a") == 2)
        _ = counter.record("c")
        #expect(counter.count(of: "a") == 2)
        #expect(counter.count(of: "b") == 0)
        #expect(counter.record("a") == 3)
    }

    @Test("Capacity 1 keeps only the latest key")
    func capacityOne() {
        var counter = AttemptCounter(capacity: 1)
        #expect(counter.record("a") == 1)
        #expect(counter.record("a") == 2)
        #expect(counter.record("b") == 1)
        #expect(counter.record("a") == 1)
        #expect(counter.count == 1)
    }

    @Test("Agrees with a plain LRU model over a long random sequence")
    func matchesModel() {
        var counter = AttemptCounter(capacity: 4)
        // The model: keys from least to most recently seen, with their counts.
        var model: [(key: String, count: Int)] = []
        var rng = DecisionRNG(seed: 1, faultID: "lru", serial: 0)
        for step in 0..<5000 {
            let key = "k\(rng.next() % 7)"
            var expected = 1
            if let index = model.firstIndex(where: { $0.key == key }) {
                expected = model[index].count + 1
                model.remove(at: index)
            } else if model.count == 4 {
                model.removeFirst()
            }
            model.append((key, expected))
            let got = counter.record(key)
            guard got == expected else {
                Issue.record("step \(step): \(key) counted \(got), model says \(expected)")
                return
            }
        }
        #expect(counter.count == model.count)
        for entry in model { #expect(counter.count(of: entry.key) == entry.count) }
    }
}
