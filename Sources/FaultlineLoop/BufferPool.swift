/// Per-worker pool of fixed-size relay buffers.
///
/// A half-stream takes a buffer when it first has bytes to move and gives it back when it has
/// drained, so an idle connection holds no buffer at all.
public final class BufferPool {
    /// Size of every buffer in bytes.
    public let bufferSize: Int
    private var free: [UnsafeMutableRawPointer] = []
    private let keepAtMost: Int
    /// Buffers currently lent out.
    public private(set) var lent = 0

    public init(bufferSize: Int, keepAtMost: Int = 256) {
        self.bufferSize = bufferSize
        self.keepAtMost = keepAtMost
    }

    deinit {
        for pointer in free { pointer.deallocate() }
    }

    func take() -> UnsafeMutableRawPointer {
        lent += 1
        if let pointer = free.popLast() { return pointer }
        return .allocate(byteCount: bufferSize, alignment: 64)
    }

    func give(_ pointer: UnsafeMutableRawPointer) {
        lent -= 1
        if free.count < keepAtMost {
            free.append(pointer)
        } else {
            pointer.deallocate()
        }
    }
}

@available(*, unavailable)
extension BufferPool: Sendable {}
