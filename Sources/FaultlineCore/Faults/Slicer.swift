/// `slicer`: chunks leave in small writes of `averageSize ± sizeVariation` bytes, `delay` apart.
public struct Slicer: Sendable, Hashable {
    public var averageSize: Int
    public var sizeVariation: Int
    public var delay: Duration

    public init(averageSize: Int, sizeVariation: Int, delay: Duration) {
        self.averageSize = averageSize
        self.sizeVariation = sizeVariation
        self.delay = delay
    }

    /// The size of the next slice (at least 1 byte).
    public func nextSliceSize(_ rng: inout DecisionRNG) -> Int {
        guard sizeVariation > 0 else { return max(1, averageSize) }
        let span = UInt64(2 * sizeVariation + 1)
        let offset = Int(rng.next() % span) - sizeVariation
        return max(1, averageSize + offset)
    }
}
