import FaultlineCore
import FaultlineLoop

/// One direction of a connection: bytes read from one socket, held, written to the other.
///
/// The relay only moves bytes and tracks end of stream; what faults do to the bytes in between
/// is asked of `faults` (a `StreamFaults`), so new stages never touch the relay code.
struct HalfStream: ~Copyable {
    let flow: Flow
    var buffer = RelayBuffer()
    /// The source reported end of stream (read returned 0).
    var sourceEnded = false
    /// The FIN was passed on to the destination.
    var finSent = false
    /// Bytes read from the source and kept (blackholed bytes are not kept).
    var bytesIn: UInt64 = 0
    /// Bytes written to the destination.
    var bytesOut: UInt64 = 0
    /// The faults acting on this direction; nil for a clean relay (most connections), so an
    /// idle connection carries no fault state at all.
    var faults: StreamFaultsBox?

    init(flow: Flow) {
        self.flow = flow
    }

    /// Nothing more will move in this direction.
    var isFinished: Bool { finSent }
}

/// Heap storage for a half-stream's fault state, allocated only while a fault acts on it.
final class StreamFaultsBox {
    var state = StreamFaults()
    /// Bytes a latency fault holds, in order before those still in the relay buffer; read into
    /// the buffer, then moved here, so the buffer stays free for reading and the delay does not
    /// cap throughput at `buffer_bytes / delay`. Bounded by `limits.latency_queue_bytes`
    /// (reading stops while it is full); it holds no chunk while empty.
    var delayed = ChunkQueue()
    /// Read bytes move to `delayed`: a latency fault acts on a tcp route's direction. (On an
    /// http route the codec parses the relay buffer in place, so held bytes stay there.)
    var queuesDelayed = false
}

@available(*, unavailable)
extension StreamFaultsBox: Sendable {}
