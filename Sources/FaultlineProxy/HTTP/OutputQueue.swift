/// What an HTTP connection writes to one side, in order: bytes of the relay buffer passed on
/// unchanged, bytes of it dropped, and bytes the proxy made (replies, marks, replayed requests).
///
/// The codec appends; the relay carries the front out as the destination takes it. Relay and
/// discard ops cover the front of the relay buffer in order, so `covered` bytes of it are spoken
/// for and the codec scans from there.
struct OutputQueue {
    enum Op {
        case relay(Int)
        case discard(Int)
        case inject([UInt8], offset: Int)
    }

    private var ops: [Op] = []
    private var head = 0
    /// Buffer bytes covered by queued relay/discard ops.
    private(set) var covered = 0
    /// Bytes of queued inject ops not yet written.
    private(set) var pendingInjectedBytes = 0

    var isEmpty: Bool { head == ops.count }
    var first: Op? { isEmpty ? nil : ops[head] }

    mutating func relay(_ count: Int) {
        guard count > 0 else { return }
        covered += count
        if head < ops.count, case .relay(let n) = ops[ops.count - 1] {
            ops[ops.count - 1] = .relay(n + count)
        } else {
            ops.append(.relay(count))
        }
    }

    mutating func discard(_ count: Int) {
        guard count > 0 else { return }
        covered += count
        if head < ops.count, case .discard(let n) = ops[ops.count - 1] {
            ops[ops.count - 1] = .discard(n + count)
        } else {
            ops.append(.discard(count))
        }
    }

    mutating func inject(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        pendingInjectedBytes += bytes.count
        if head < ops.count, case .inject(var last, let offset) = ops[ops.count - 1] {
            // Joined to the bytes still waiting, so that they go out in one write.
            ops[ops.count - 1] = .discard(0)
            last.append(contentsOf: bytes)
            ops[ops.count - 1] = .inject(last, offset: offset)
            return
        }
        ops.append(.inject(bytes, offset: 0))
    }

    /// `count` buffer bytes of the front relay/discard op were carried out.
    mutating func consumed(_ count: Int) {
        covered -= count
        switch ops[head] {
        case .relay(let n): replaceFront(n == count ? nil : .relay(n - count))
        case .discard(let n): replaceFront(n == count ? nil : .discard(n - count))
        default: preconditionFailure("consumed on a non-buffer op")
        }
    }

    /// `count` more bytes of the front inject op were written.
    mutating func injected(_ count: Int) {
        guard case .inject(let bytes, let offset) = ops[head] else { preconditionFailure("not an inject op") }
        pendingInjectedBytes -= count
        replaceFront(offset + count == bytes.count ? nil : .inject(bytes, offset: offset + count))
    }

    private mutating func replaceFront(_ op: Op?) {
        if let op {
            ops[head] = op
            return
        }
        head += 1
        if head == ops.count {
            ops.removeAll(keepingCapacity: true)
            head = 0
        }
    }
}
