/// `bandwidth`: a token bucket that meters bytes onto the wire at `bytesPerSecond`.
///
/// Starts empty so the measured rate over any window matches the configured one; holds at most
/// 20 ms worth of tokens, so a stream that pauses cannot burst far ahead of the rate.
public struct TokenBucket: Sendable, Hashable {
    public let bytesPerSecond: Int
    /// Most tokens the bucket holds.
    public let capacity: Int
    private var tokens: Double = 0
    private var lastRefill: UInt64

    public init(bytesPerSecond: Int, now: UInt64) {
        precondition(bytesPerSecond > 0)
        self.bytesPerSecond = bytesPerSecond
        capacity = max(1, bytesPerSecond / 50)
        lastRefill = now
    }

    /// Whole bytes that may be sent at `now`.
    public mutating func available(now: UInt64) -> Int {
        refill(now: now)
        return Int(tokens)
    }

    /// Records that `bytes` were sent.
    public mutating func consume(_ bytes: Int) {
        tokens -= Double(bytes)
    }

    /// When at least `wanted` bytes (capped to a useful batch) will be available.
    public func readyTime(forBytes wanted: Int, now: UInt64) -> UInt64 {
        let batch = Double(min(max(1, wanted), max(1, capacity / 4)))
        let missing = batch - tokens
        if missing <= 0 { return now }
        return now &+ UInt64((missing / Double(bytesPerSecond) * 1e9).rounded(.up))
    }

    private mutating func refill(now: UInt64) {
        guard now > lastRefill else { return }
        tokens = min(Double(capacity), tokens + Double(now - lastRefill) * Double(bytesPerSecond) / 1e9)
        lastRefill = now
    }
}
