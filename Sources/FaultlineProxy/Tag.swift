/// The 64-bit tag that epoll registrations and timers carry: what it is about and which slot.
///
/// Layout: bits 0–7 kind, bits 8–31 slot, bits 32–63 the slot's generation, so a timer that
/// outlives its connection is recognised when it fires.
struct Tag: Equatable {
    enum Kind: UInt8 {
        case listener = 1
        case client = 2
        case upstream = 3
        case connectTimeout = 10
        case upstreamStreamTimer = 11
        case downstreamStreamTimer = 12
        case connectionFaultTimer = 13
        case acceptRetry = 14
        /// An http connection's session timer (delays, spaced copies, lingering close).
        case httpTimer = 15
        /// A connection's TLS handshake deadline (either side).
        case tlsHandshakeTimer = 16
        case drainDeadline = 20
    }

    var kind: Kind
    var slot: UInt32
    var generation: UInt32

    init(kind: Kind, slot: UInt32, generation: UInt32) {
        precondition(slot < 1 << 24)
        self.kind = kind
        self.slot = slot
        self.generation = generation
    }

    init?(rawValue: UInt64) {
        guard let kind = Kind(rawValue: UInt8(truncatingIfNeeded: rawValue)) else { return nil }
        self.kind = kind
        slot = UInt32(truncatingIfNeeded: rawValue >> 8) & 0xFF_FFFF
        generation = UInt32(truncatingIfNeeded: rawValue >> 32)
    }

    var rawValue: UInt64 {
        UInt64(generation) << 32 | UInt64(slot) << 8 | UInt64(kind.rawValue)
    }
}
