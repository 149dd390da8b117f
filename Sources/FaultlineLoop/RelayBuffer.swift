public import FaultlineSystem

/// The bytes one half-stream holds between reading and writing.
///
/// Linear: reads append at `tail`, writes consume from `head`; when both meet the buffer resets
/// to the start, and when the tail reaches the end with a consumed head the live bytes move down.
/// It owns storage only while it holds bytes (see `BufferPool`).
public struct RelayBuffer: ~Copyable {
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0
    private var head = 0
    private var tail = 0
    /// How many bytes the last `read` asked for.
    public private(set) var lastReadRequest = 0

    public init() {}

    deinit {
        // Storage must go back to its pool through `releaseIfEmpty`/`release`; a buffer that is
        // dropped while holding storage frees it rather than leak.
        storage?.deallocate()
    }

    /// Bytes held, waiting to be written.
    public var count: Int { tail - head }
    public var isEmpty: Bool { tail == head }
    /// Whether storage is attached.
    public var hasStorage: Bool { storage != nil }
    /// Bytes that can be read in before the buffer is full.
    public var space: Int { storage == nil ? Int.max : capacity - count }

    /// Reads at most `limit` bytes from `fd`. Takes storage from `pool` if none is attached.
    public mutating func read(from fd: borrowing FileDescriptor, limit: Int, pool: BufferPool) throws(SystemError) -> IOResult<Int> {
        if storage == nil {
            storage = pool.take()
            capacity = pool.bufferSize
            head = 0
            tail = 0
        }
        if tail == capacity && head > 0 { compact() }
        let room = min(capacity - tail, limit)
        precondition(room > 0, "read into a full buffer")
        lastReadRequest = room
        return try Posix.read(fd, into: UnsafeMutableRawBufferPointer(start: storage! + tail, count: room))
    }

    /// Records that `n` bytes were read in (after a successful `read`).
    public mutating func didRead(_ n: Int) {
        tail += n
    }

    /// Writes at most `limit` held bytes to `fd`; consumes what was written.
    public mutating func write(to fd: borrowing FileDescriptor, limit: Int) throws(SystemError) -> IOResult<Int> {
        let n = min(count, limit)
        precondition(n > 0, "write from an empty buffer")
        let result = try Posix.write(fd, from: UnsafeRawBufferPointer(start: storage! + head, count: n))
        if case .processed(let written) = result {
            head += written
            if head == tail {
                head = 0
                tail = 0
            }
        }
        return result
    }

    /// Like `read(from:limit:pool:)`, with `source` producing the bytes (a TLS session's
    /// plaintext) instead of a descriptor.
    public mutating func read<E: Error>(
        limit: Int, pool: BufferPool, _ source: (UnsafeMutableRawBufferPointer) throws(E) -> IOResult<Int>
    ) throws(E) -> IOResult<Int> {
        if storage == nil {
            storage = pool.take()
            capacity = pool.bufferSize
            head = 0
            tail = 0
        }
        if tail == capacity && head > 0 { compact() }
        let room = min(capacity - tail, limit)
        precondition(room > 0, "read into a full buffer")
        lastReadRequest = room
        return try source(UnsafeMutableRawBufferPointer(start: storage! + tail, count: room))
    }

    /// Like `write(to:limit:)`, with `sink` taking the bytes (into a TLS session) instead of a
    /// descriptor; consumes what it took.
    public mutating func write<E: Error>(
        limit: Int, _ sink: (UnsafeRawBufferPointer) throws(E) -> IOResult<Int>
    ) throws(E) -> IOResult<Int> {
        let n = min(count, limit)
        precondition(n > 0, "write from an empty buffer")
        let result = try sink(UnsafeRawBufferPointer(start: storage! + head, count: n))
        if case .processed(let written) = result {
            head += written
            if head == tail {
                head = 0
                tail = 0
            }
        }
        return result
    }

    /// Drops `n` held bytes without writing them (blackhole).
    public mutating func discard(_ n: Int) {
        precondition(n <= count)
        head += n
        if head == tail {
            head = 0
            tail = 0
        }
    }

    /// Flips bit `bit` (0–7) of the held byte at `offset` from the head (corrupt).
    public mutating func flipBit(atOffset offset: Int, bit: Int) {
        precondition(offset < count)
        let pointer = storage!.advanced(by: head + offset).assumingMemoryBound(to: UInt8.self)
        pointer.pointee ^= UInt8(1) << UInt8(bit & 7)
    }

    /// Lends the held bytes from `offset` (from the head) to the end as a span, for a codec that
    /// scans them in place. Empty when nothing is held past `offset`.
    public func withBytes<R, E: Error>(from offset: Int, _ body: (Span<UInt8>) throws(E) -> R) throws(E) -> R {
        guard let storage, offset < count else {
            let empty = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
            return try body(empty.span)
        }
        let start = (storage + head + offset).assumingMemoryBound(to: UInt8.self)
        let bytes = UnsafeBufferPointer(start: start, count: count - offset)
        return try body(bytes.span)
    }

    /// A copy of `length` held bytes starting `offset` bytes after the head.
    public func copyBytes(from offset: Int, count length: Int) -> [UInt8] {
        precondition(offset + length <= count)
        guard let storage, length > 0 else { return [] }
        let start = (storage + head + offset).assumingMemoryBound(to: UInt8.self)
        return Array(UnsafeBufferPointer(start: start, count: length))
    }

    /// Copies `length` held bytes starting `offset` bytes after the head to `destination`
    /// (a `ChunkQueue` taking them over).
    func copyHeld(from offset: Int, count length: Int, to destination: UnsafeMutableRawPointer) {
        precondition(offset >= 0 && length >= 0 && offset + length <= count)
        guard let storage, length > 0 else { return }
        destination.copyMemory(from: storage + head + offset, byteCount: length)
    }

    /// Gives the storage back to `pool` when nothing is held; returns true if it did.
    @discardableResult
    public mutating func releaseIfEmpty(to pool: BufferPool) -> Bool {
        guard let pointer = storage, head == tail else { return false }
        pool.give(pointer)
        storage = nil
        capacity = 0
        head = 0
        tail = 0
        return true
    }

    /// Drops whatever is held and gives the storage back.
    public mutating func release(to pool: BufferPool) {
        head = 0
        tail = 0
        releaseIfEmpty(to: pool)
    }

    private mutating func compact() {
        let live = tail - head
        storage!.copyMemory(from: storage! + head, byteCount: live)
        head = 0
        tail = live
    }
}

@available(*, unavailable)
extension RelayBuffer: Sendable {}
