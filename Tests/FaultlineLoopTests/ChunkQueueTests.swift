import FaultlineLoop
import FaultlineSystem
import Testing

/// The latency queue's storage: order and bytes kept across chunk boundaries, chunks taken only
/// while bytes are queued and given back as they drain.
struct ChunkQueueTests {
    /// A small deterministic generator (the tests of this target do not depend on Core).
    private struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    /// Reads `bytes` into `buffer` (as a socket read would), returning how many it took.
    private static func fill(_ buffer: inout RelayBuffer, _ bytes: ArraySlice<UInt8>, pool: BufferPool) -> Int {
        let result = buffer.read(limit: bytes.count, pool: pool) { (room: UnsafeMutableRawBufferPointer) -> IOResult<Int> in
            let n = min(room.count, bytes.count)
            for (index, byte) in bytes.prefix(n).enumerated() { room[index] = byte }
            return .processed(n)
        }
        guard case .processed(let n) = result else { return 0 }
        buffer.didRead(n)
        return n
    }

    /// Takes up to `limit` bytes from the queue's front, as a socket that accepts at most `accept`.
    private static func drain(_ queue: inout ChunkQueue, limit: Int, accept: Int, pool: BufferPool) -> [UInt8] {
        var out: [UInt8] = []
        let result = queue.write(limit: limit, pool: pool) { (bytes: UnsafeRawBufferPointer) -> IOResult<Int> in
            guard accept > 0 else { return .wouldBlock }
            out = Array(bytes.prefix(accept))
            return .processed(out.count)
        }
        if case .wouldBlock = result { #expect(out.isEmpty) }
        return out
    }

    @Test func keepsOrderAndBytesAcrossChunkBoundariesAgainstAModel() {
        // Odd sizes so that reads, chunks and writes never line up.
        let bufferPool = BufferPool(bufferSize: 101)
        let chunkPool = BufferPool(bufferSize: 37)
        var buffer = RelayBuffer()
        var queue = ChunkQueue()
        var rng = Generator(state: 17)
        let input = (0..<200_000).map { _ in UInt8(truncatingIfNeeded: rng.next(256)) }
        var read = 0
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var steps = 0
        while output.count < input.count {
            steps += 1
            if read < input.count && rng.next(3) > 0 {
                let n = Self.fill(&buffer, input[read..<min(input.count, read + 1 + rng.next(150))], pool: bufferPool)
                read += n
                // Sometimes only a prefix moves, as when the queue is nearly full.
                let move = rng.next(4) == 0 ? rng.next(buffer.count + 1) : buffer.count
                queue.append(takingFrom: &buffer, count: move, pool: chunkPool)
                // What stays in the buffer must still leave after the queue: move it next round.
                if !buffer.isEmpty { queue.append(takingFrom: &buffer, count: buffer.count, pool: chunkPool) }
            }
            if !queue.isEmpty {
                #expect(queue.frontCount > 0 && queue.frontCount <= 37)
                let piece = Self.drain(&queue, limit: 1 + rng.next(80), accept: rng.next(60), pool: chunkPool)
                output += piece
            }
            #expect(queue.count == read - output.count)
            #expect(chunkPool.lent == queue.chunkCount)
            #expect(queue.chunkCount == 0 || queue.count > (queue.chunkCount - 2) * 37,
                    "chunks held beyond what the queued bytes fill")
            buffer.releaseIfEmpty(to: bufferPool)
            if steps > 2_000_000 { break }
        }
        #expect(output == input)
        #expect(queue.count == 0)
        #expect(chunkPool.lent == 0, "a drained queue holds no chunk")
        #expect(bufferPool.lent == 0)
    }

    @Test func takesNoChunkUntilBytesArriveAndReleaseGivesEverythingBack() {
        let pool = BufferPool(bufferSize: 4096)
        var buffer = RelayBuffer()
        var queue = ChunkQueue()
        #expect(queue.isEmpty && queue.chunkCount == 0 && queue.frontCount == 0)
        queue.append(takingFrom: &buffer, count: 0, pool: pool)
        #expect(pool.lent == 0, "an empty append takes no chunk")

        let bytes = (0..<4000).map { UInt8($0 % 251) }
        for _ in 0..<5 {
            #expect(Self.fill(&buffer, bytes[...], pool: pool) == 4000)
            queue.append(takingFrom: &buffer, count: 4000, pool: pool)
        }
        #expect(buffer.count == 0)
        #expect(queue.count == 20_000)
        #expect(queue.chunkCount == 5, "20,000 bytes fill 5 chunks of 4096")
        #expect(queue.frontCount == 4096)
        buffer.releaseIfEmpty(to: pool)
        #expect(pool.lent == 5)

        // A partial write leaves the rest of the front chunk in front.
        #expect(Self.drain(&queue, limit: 1000, accept: 1000, pool: pool) == Array(bytes[0..<1000]))
        #expect(queue.frontCount == 3096)
        #expect(Self.drain(&queue, limit: .max, accept: .max, pool: pool).count == 3096)
        #expect(pool.lent == 4, "the drained front chunk went back")

        queue.release(to: pool)
        #expect(queue.isEmpty && queue.chunkCount == 0)
        #expect(pool.lent == 0)
    }

    @Test func aBlockedWriteConsumesNothing() {
        let pool = BufferPool(bufferSize: 64)
        var buffer = RelayBuffer()
        var queue = ChunkQueue()
        _ = Self.fill(&buffer, Array(repeating: 7, count: 50)[...], pool: pool)
        queue.append(takingFrom: &buffer, count: 50, pool: pool)
        #expect(Self.drain(&queue, limit: 50, accept: 0, pool: pool).isEmpty)
        #expect(queue.count == 50)
        queue.release(to: pool)
        buffer.release(to: pool)
        #expect(pool.lent == 0)
    }
}
