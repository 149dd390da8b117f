import FaultlineTLS

/// A client and a server session wired to each other in memory.
final class SessionPair {
    let client: TLSSession
    let server: TLSSession
    var random: SplitMix64
    /// The most ciphertext moved in one go (1 = byte by byte).
    var largestMove: Int

    init(client: TLSContext, server: TLSContext, serverName: String? = "localhost",
         seed: UInt64 = 1, largestMove: Int = .max) throws {
        self.client = try TLSSession(context: client, serverName: serverName)
        self.server = try TLSSession(context: server)
        random = SplitMix64(seed: seed)
        self.largestMove = largestMove
    }

    /// Moves every pending byte of `from` to `to`, in pieces of random size up to `largestMove`.
    func move(from: TLSSession, to: TLSSession) {
        while from.pendingOutputCount > 0 {
            let limit = largestMove == .max ? Int.max : Int(random.next(below: UInt64(largestMove))) + 1
            let moved = from.withPendingOutput { pending in
                let count = min(pending.count, limit)
                return to.feed(UnsafeRawBufferPointer(rebasing: pending[0..<count]))
            }
            from.consumeOutput(moved)
        }
    }

    /// Runs both handshakes until both complete or one fails (then once more on the other side so
    /// it sees the alert). Returns the last step of each.
    @discardableResult
    func handshake() -> (client: TLSStep, server: TLSStep) {
        var clientStep = TLSStep.wantInput
        var serverStep = TLSStep.wantInput
        for _ in 0..<20 {
            clientStep = client.handshake()
            move(from: client, to: server)
            serverStep = server.handshake()
            move(from: server, to: client)
            if case .failed = serverStep {
                clientStep = client.handshake()
                break
            }
            if case .failed = clientStep {
                serverStep = server.handshake()
                break
            }
            if clientStep == .complete && serverStep == .complete { break }
        }
        return (clientStep, serverStep)
    }

    /// Reads everything `session` can give now (until `.wantInput`, `.closed` or `.failed`).
    func readAvailable(_ session: TLSSession, into received: inout [UInt8], bufferSize: Int = 4096) -> TLSRead {
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        while true {
            let result = buffer.withUnsafeMutableBytes { session.read(into: $0) }
            guard case .bytes(let count) = result else { return result }
            received.append(contentsOf: buffer[0..<count])
        }
    }

    /// Lets the client process what the server sent after the handshake (TLS 1.3 tickets).
    func settle() {
        move(from: server, to: client)
        var ignored: [UInt8] = []
        _ = readAvailable(client, into: &ignored)
        move(from: client, to: server)
    }
}

/// Writes all of `bytes` (expects the handshake complete).
func writeAll(_ session: TLSSession, _ bytes: [UInt8]) -> TLSWrite {
    bytes.withUnsafeBytes { session.write($0) }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A small seeded generator, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: UInt64) -> UInt64 { next() % bound }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        result.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < count {
                var word = next()
                let take = min(8, count - offset)
                withUnsafeBytes(of: &word) { raw.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: take) }
                offset += take
            }
        }
        return result
    }
}

/// Contexts used by most tests.
enum Contexts {
    static let certificates = TestCertificates.shared

    static func server(alpn: [String] = []) throws -> TLSContext {
        try TLSContext.server(certificatePath: certificates.serverCertificate, keyPath: certificates.serverKey, alpn: alpn)
    }

    static func client(alpn: [String] = [], verify: Bool = true, capAtTLS12: Bool = false) throws -> TLSContext {
        try TLSContext.client(caPath: certificates.caCertificate, verify: verify, alpn: alpn, capAtTLS12: capAtTLS12)
    }
}

extension TLSSession {
    /// Feeds `bytes` (tests only: the library takes raw buffers).
    func feed(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { feed($0) }
    }
}
