extension SplitMix64 {
    /// `count` bytes from a generator seeded with `seed`: each `next()` word gives 8 bytes, low
    /// byte first (the same stream the integration tests' `randomBytes` builds byte by byte), so
    /// a test can rebuild what the upstream sent from the seed alone. Word-wise for speed in debug
    /// builds, where megabytes are made per test.
    public static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var index = 0
            let raw = UnsafeMutableRawBufferPointer(buffer)
            while index + 8 <= count {
                raw.storeBytes(of: rng.next().littleEndian, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            if index < count {
                var word = rng.next()
                while index < count {
                    buffer[index] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    index += 1
                }
            }
            initialized = count
        }
    }
}
