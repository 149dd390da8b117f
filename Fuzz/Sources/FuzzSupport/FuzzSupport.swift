/// What every fuzz target shares: a failed invariant, and split points derived from the input.

/// Stops the run when an invariant does not hold. libFuzzer sees the trap, saves the input as
/// `crash-…` and exits non-zero (Scripts/fuzz and CI fail on it).
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        fatalError("invariant: \(message())", file: file, line: line)
    }
}

/// A small deterministic generator (SplitMix64), seeded from the input so a saved crash input
/// replays the same splits.
public struct SplitMix64 {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (bound > 0).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// FNV-1a of the bytes: the seed of an input's own random splits.
public func fnv1a<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}

/// Ways to cut `count` bytes into pieces, each a list of piece lengths summing to `count`: whole,
/// byte by byte, and two random cuttings (pieces of 1…17 bytes, then 1…count).
public func splitPlans(count: Int, seed: UInt64) -> [[Int]] {
    var plans: [[Int]] = [[count], Array(repeating: 1, count: count)]
    var rng = SplitMix64(seed: seed)
    for maxPiece in [17, max(1, count)] { plans.append(randomPieces(count: count, maxPiece: maxPiece, &rng)) }
    return plans
}

/// `count` bytes cut at random into pieces of 1…`maxPiece` bytes.
public func randomPieces(count: Int, maxPiece: Int, _ rng: inout SplitMix64) -> [Int] {
    var pieces: [Int] = []
    var left = count
    while left > 0 {
        let piece = min(left, 1 + rng.below(maxPiece))
        pieces.append(piece)
        left -= piece
    }
    return pieces
}

/// A harness's split byte applied to `count` bytes: 0 whole, 1 byte by byte, n > 1 random pieces
/// of 1…n (none for no bytes).
public func pieces(count: Int, split: Int, _ rng: inout SplitMix64) -> [Int] {
    switch split {
    case _ where count == 0: return []
    case 0: return [count]
    case 1: return Array(repeating: 1, count: count)
    default: return randomPieces(count: count, maxPiece: split, &rng)
    }
}

/// The input as a byte array.
public func bytes(_ start: UnsafePointer<UInt8>, _ count: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: start, count: count))
}
