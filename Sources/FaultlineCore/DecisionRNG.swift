import Glibc

/// The seeded generator behind every random decision (SPEC §3, determinism).
///
/// A stream is keyed by (seed, fault id, connection serial); `next()` advances the event index.
/// The same key always yields the same sequence, whatever thread or timing asks.
public struct DecisionRNG: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64, faultID: String, serial: UInt64, stream: UInt64 = 0) {
        var h = DecisionRNG.mix(seed ^ 0x9E37_79B9_7F4A_7C15)
        h = DecisionRNG.mix(h ^ DecisionRNG.fnv1a(faultID))
        h = DecisionRNG.mix(h ^ serial)
        h = DecisionRNG.mix(h ^ stream)
        state = h
    }

    /// SplitMix64 step.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return DecisionRNG.mix(state)
    }

    /// A double in [0, 1) with 53 bits of randomness.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// True with the given probability; 1 never draws false and 0 never draws true.
    public mutating func chance(_ probability: Double) -> Bool {
        if probability >= 1 { return true }
        if probability <= 0 { return false }
        return nextUnit() < probability
    }

    /// A standard normal draw (Box–Muller).
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUnit(), 1e-300)
        let u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }
}
