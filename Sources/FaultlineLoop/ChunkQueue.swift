public import FaultlineSystem

/// Bytes in order, beyond one relay buffer: a FIFO of fixed-size chunks taken from a
/// `BufferPool` as it fills and given back as it drains.
///
/// A latency fault parks the bytes it holds here, so the relay buffer stays free for reading and
/// a long delay no longer caps throughput at `buffer_bytes / delay`. The queue owns no chunk
/// while it is empty: a direction that never queues costs nothing but this struct.
public struct ChunkQueue: ~Copyable {
    /// The chunks in order; those before `first` were given back (their slots are reused).
    private var chunks: [UnsafeMutableRawPointer] = []
    private var first = 0
    /// Where the unwritten bytes of the front chunk start.
    private var readOffset = 0
    /// Where the free space of the back chunk starts.
    private var writeOffset = 0
    private var chunkSize = 0
    /// Bytes queued.
    public private(set) var count = 0

    public init() {}

    deinit {
        // Chunks go back to their pool through `release`; a queue dropped while holding chunks
        // frees them rather than leak.
        for index in first..<chunks.count { chunks[index].deallocate() }
    }

    /// Nothing is queued (and no chunk is held).
    public var isEmpty: Bool { count == 0 }

    /// Chunks taken from the pool now.
    public var chunkCount: Int { chunks.count - first }

    /// Bytes at the front that one write can take (the rest of the front chunk).
    public var frontCount: Int {
        guard count > 0 else { return 0 }
        return chunkCount == 1 ? writeOffset - readOffset : chunkSize - readOffset
    }

    /// Moves the first `n` held bytes of `buffer` to the back of the queue (copying them into
    /// chunks from `pool`); `buffer` no longer holds them.
    public mutating func append(takingFrom buffer: inout RelayBuffer, count n: Int, pool: BufferPool) {
        precondition(n >= 0 && n <= buffer.count, "append of more bytes than the buffer holds")
        var moved = 0
        while moved < n {
            if chunkCount == 0 || writeOffset == chunkSize {
                if chunkCount == 0 { readOffset = 0 }
                chunks.append(pool.take())
                chunkSize = pool.bufferSize
                writeOffset = 0
            }
            let piece = min(chunkSize - writeOffset, n - moved)
            buffer.copyHeld(from: moved, count: piece, to: chunks[chunks.count - 1] + writeOffset)
            writeOffset += piece
            moved += piece
        }
        buffer.discard(n)
        count += n
    }

    /// Writes at most `limit` bytes from the front to `fd` (one contiguous piece, at most
    /// `frontCount`); consumes what was written and gives drained chunks back to `pool`.
    public mutating func write(to fd: borrowing FileDescriptor, limit: Int, pool: BufferPool) throws(SystemError) -> IOResult<Int> {
        let n = min(frontCount, limit)
        precondition(n > 0, "write from an empty queue")
        let result = try Posix.write(fd, from: UnsafeRawBufferPointer(start: chunks[first] + readOffset, count: n))
        if case .processed(let written) = result { consume(written, pool: pool) }
        return result
    }

    /// Like `write(to:limit:pool:)`, with `sink` taking the bytes (into a TLS session) instead of
    /// a descriptor; consumes what it took.
    public mutating func write<E: Error>(
        limit: Int, pool: BufferPool, _ sink: (UnsafeRawBufferPointer) throws(E) -> IOResult<Int>
    ) throws(E) -> IOResult<Int> {
        let n = min(frontCount, limit)
        precondition(n > 0, "write from an empty queue")
        let result = try sink(UnsafeRawBufferPointer(start: chunks[first] + readOffset, count: n))
        if case .processed(let written) = result { consume(written, pool: pool) }
        return result
    }

    /// Drops whatever is queued and gives every chunk back to `pool`.
    public mutating func release(to pool: BufferPool) {
        for index in first..<chunks.count { pool.give(chunks[index]) }
        chunks.removeAll(keepingCapacity: true)
        first = 0
        readOffset = 0
        writeOffset = 0
        count = 0
    }

    private mutating func consume(_ n: Int, pool: BufferPool) {
        precondition(n <= frontCount)
        readOffset += n
        count -= n
        if count == 0 {
            // Drained: every chunk goes back, the slot array keeps its capacity for the next fill.
            release(to: pool)
        } else if readOffset == chunkSize {
            pool.give(chunks[first])
            first += 1
            readOffset = 0
            if first > 64 && first * 2 > chunks.count {
                chunks.removeFirst(first)
                first = 0
            }
        }
    }
}

@available(*, unavailable)
extension ChunkQueue: Sendable {}
