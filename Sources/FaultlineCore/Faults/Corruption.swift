import Glibc

/// `corrupt`: flips each bit passing through with probability `bitFlipRate`.
///
/// Instead of a draw per bit, the distance to the next flip is drawn from the geometric
/// distribution, so a clean stretch costs one draw however long it is.
public struct Corruption: Sendable, Hashable {
    public let bitFlipRate: Double
    /// Bits to let through before the next flip.
    private var bitsUntilFlip: UInt64

    public init(bitFlipRate: Double, rng: inout DecisionRNG) {
        self.bitFlipRate = bitFlipRate
        bitsUntilFlip = 0
        bitsUntilFlip = nextGap(&rng)
    }

    /// Calls `flip(byteOffset, bit)` for every bit to flip in the next `count` bytes, in order.
    public mutating func forEachFlip(inBytes count: Int, rng: inout DecisionRNG, _ flip: (Int, Int) -> Void) {
        guard bitFlipRate > 0 else { return }
        let totalBits = UInt64(count) * 8
        var position: UInt64 = 0
        while true {
            let remaining = totalBits - position
            if bitsUntilFlip >= remaining {
                bitsUntilFlip -= remaining
                return
            }
            position += bitsUntilFlip
            flip(Int(position / 8), Int(position % 8))
            position += 1
            bitsUntilFlip = nextGap(&rng)
        }
    }

    private func nextGap(_ rng: inout DecisionRNG) -> UInt64 {
        if bitFlipRate >= 1 { return 0 }
        if bitFlipRate <= 0 { return .max }
        let u = max(rng.nextUnit(), 1e-300)
        let gap = (log(u) / log1p(-bitFlipRate)).rounded(.down)
        return gap >= 1.8e19 ? .max : UInt64(gap)
    }
}
