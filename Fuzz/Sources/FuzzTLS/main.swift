@testable import FaultlineTLS
import CFuzzCounters
import CFuzzTLS
import FuzzSupport
import Glibc

// The TLS record path as the daemon runs it (Sources/FaultlineProxy/TLS/Worker+TLS.swift): a
// fresh TLSSession per input over memory BIOs, fed the input's bytes as a socket would deliver
// them, the handshake driven and the pending ciphertext flushed after every step, as
// `continueHandshake` and `flushCiphertext` do.
//
// Input: a flags byte, a split byte, then the bytes the peer sends.
//   flags bit 0     the session is a client (origination: the bytes come from an upstream "server");
//                   else a server (termination: the bytes come from a "client")
//   flags bit 1     the peer closes after the last byte (`feedEOF`, as on a socket's EOF)
//   flags bits 2-3  the context: server with ALPN h2/http1.1 or without ALPN; client without
//                   verification (ALPN h2/http1.1), verifying against the fuzz-only certificate,
//                   or without verification and at most TLS 1.2
//   flags bits 4-5  how much of the pending ciphertext the "socket" takes after each step: all, a
//                   random part, at most 64 bytes, nothing until the end (a blocked socket)
//   flags bit 6     still waiting at the end: `shutdown()` (close_notify during the handshake)
//   split byte      0 the bytes arrive whole, 1 byte by byte, n > 1 in random pieces of 1…n
//                   (seeded from the input, so a saved input replays the same pieces)
//
// Invariants, for every input:
//   - no trap and no sanitizer report;
//   - the session never reports `.complete`: completing needs the peer's Finished (and, for a
//     client, a CertificateVerify), both keyed by this run's fresh ephemeral key, which no input
//     can know — a completion would be an authentication bypass;
//   - it ends waiting for more bytes, or failed with a reason from TLSError's closed set (a
//     metric label) and a message; a failure is sticky (`handshake`, `read` and `write` give the
//     same error again and queue no more output) and leaves this thread's OpenSSL error queue
//     empty (`ERR_peek_error() == 0`: one connection's error never shows up on another);
//   - after EOF the session fails instead of asking for input again (the worker's handshake loop
//     would spin: it reads EOF again and calls `handshake()` again);
//   - the pending output is bounded (≤ 16 KiB queued by one step, ≤ 64 KiB in all), what
//     `withPendingOutput` lends is `pendingOutputCount` bytes and starts with what was left
//     unconsumed last time (`consumeOutput` moves the read position, then OpenSSL appends), and
//     the whole output is a sequence of complete TLS records, version 3.x except an alert that
//     answers a hello in the peer's own version (a client's output starting with its ClientHello);
//   - the error queue is empty once the session is gone;
//   - on the first input and every 1,000th, fresh sessions of every context still complete a
//     real handshake with a real peer in memory and carry bytes both ways: no global OpenSSL or
//     context state was corrupted by what came before.
//
// OpenSSL is not instrumented, so libFuzzer would see nothing of how far an input gets inside it.
// The harness feeds it features instead (libFuzzer's extra counters, CFuzzTLS): every handshake
// state transition (`SSL_get_state` before and after a step), each distinct error message, and
// the kind of every record the session sent (alert descriptions and handshake message types).

// MARK: Contexts, made once

struct Contexts {
    /// Termination: ALPN h2/http1.1, and none.
    let servers: [TLSContext]
    /// Origination: no verification (ALPN h2/http1.1); verifying (the fuzz-only certificate is
    /// the trust anchor); no verification, TLS 1.2 at most.
    let clients: [TLSContext]
}

func writeFile(_ path: String, _ text: String) {
    guard let file = fopen(path, "w") else { fatalError("cannot write \(path): \(String(cString: strerror(errno)))") }
    fputs(text, file)
    fclose(file)
}

func makeContexts() -> Contexts {
    var template = Array("/tmp/faultline-fuzz-tls-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        fatalError("mkdtemp: \(String(cString: strerror(errno)))")
    }
    let directory = String(cString: made)
    let certificate = directory + "/cert.pem", key = directory + "/key.pem"
    writeFile(certificate, fuzzOnlyCertificatePEM)
    writeFile(key, fuzzOnlyPrivateKeyPEM)
    defer {
        unlink(certificate)
        unlink(key)
        rmdir(directory)
    }
    do {
        let servers = [
            try TLSContext.server(certificatePath: certificate, keyPath: key, alpn: ["h2", "http/1.1"]),
            try TLSContext.server(certificatePath: certificate, keyPath: key, alpn: []),
        ]
        let clients = [
            try TLSContext.client(caPath: nil, verify: false, alpn: ["h2", "http/1.1"]),
            try TLSContext.client(caPath: certificate, verify: true, alpn: []),
            try TLSContext.client(caPath: nil, verify: false, alpn: [], capAtTLS12: true),
        ]
        atexit { printSummary() }
        return Contexts(servers: servers, clients: clients)
    } catch {
        fatalError("cannot make the fuzz contexts: \(error)")
    }
}

let contexts = makeContexts()

// MARK: What the run saw (printed at exit)

var inputs = 0
var reasons: [String: Int] = [:]
var endedWaiting = 0
var largestStepOutput = 0
var largestOutput = 0
var healthChecks = 0

func printSummary() {
    let counted = reasons.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    fputs("[tls] \(inputs) inputs: failed \(counted); waiting \(endedWaiting); largest output of one step \(largestStepOutput) B, "
          + "of one input \(largestOutput) B; \(healthChecks) health checks passed\n", stderr)
}

// MARK: Limits and labels

/// Ciphertext one handshake step may queue: a server's whole first flight here is under 2 KiB.
let stepOutputLimit = 16 * 1024
/// Ciphertext one input may make the session queue in all.
let outputLimit = 64 * 1024
/// TLSError's labels a handshake can fail with (`file` and `key_mismatch` are context errors).
let handshakeReasons: Set<String> = [
    "not_tls", "wrong_version", "no_shared_cipher", "certificate_verify_failed", "hostname_mismatch",
    "unexpected_eof", "bad_certificate", "unknown_ca", "alert", "protocol", "internal",
]

// MARK: Features

enum Feature: UInt64 {
    case transition = 1, message, record, end
}

func feature(_ kind: Feature, _ side: UInt64, _ a: UInt64, _ b: UInt64 = 0) {
    fuzz_feature(kind.rawValue << 60 | side << 56 | (a & 0xFF_FFFF_FFFF) << 16 | (b & 0xFFFF))
}

func state(_ session: TLSSession) -> UInt64 {
    UInt64(UInt32(bitPattern: fuzz_tls_state(UnsafeMutableRawPointer(session.ssl))))
}

func queueIsEmpty(_ context: @autoclosure () -> String) {
    let code = fuzz_tls_error_queue_peek()
    if code != 0 {
        fuzz_tls_error_queue_clear()
        require(false, "OpenSSL's error queue holds 0x\(String(code, radix: 16)) \(context()): it would show up on this thread's next connection")
    }
}

// MARK: One session, driven as the worker drives it

struct Setup {
    var clientSide: Bool
    var eof: Bool
    var variant: Int
    var drain: Int
    var shutdownWhileWaiting: Bool
    var split: Int

    init(flags: UInt8, split: UInt8) {
        clientSide = flags & 1 != 0
        eof = flags & 2 != 0
        variant = Int(flags >> 2) & 3
        drain = Int(flags >> 4) & 3
        shutdownWhileWaiting = flags & 64 != 0
        self.split = Int(split)
    }

    var side: UInt64 { clientSide ? 1 : 0 }
}

/// The "socket" side of a session: takes pending ciphertext as `drain` says and keeps all of it.
final class Socket {
    let session: TLSSession
    let setup: Setup
    var random: SplitMix64
    /// Every byte taken from the session, in order.
    var sent: [UInt8] = []
    /// What was pending but not taken last time: the next lending must start with it.
    var left: [UInt8] = []

    init(session: TLSSession, setup: Setup, random: SplitMix64) {
        self.session = session
        self.setup = setup
        self.random = random
    }

    func flush(all: Bool) {
        let pending = session.pendingOutputCount
        let lent = session.withPendingOutput { Array($0) }
        require(lent.count == pending, "withPendingOutput lends \(lent.count) bytes, pendingOutputCount is \(pending)")
        require(lent.starts(with: left), "the pending output no longer starts with the \(left.count) bytes left unconsumed")
        let take: Int
        switch all ? 0 : setup.drain {
        case 0: take = pending
        case 1: take = random.below(pending + 1)
        case 2: take = min(pending, 1 + random.below(64))
        default: take = 0
        }
        sent += lent[0..<take]
        left = Array(lent[take...])
        session.consumeOutput(take)
        require(session.pendingOutputCount == pending - take, "consumeOutput(\(take)) of \(pending) left \(session.pendingOutputCount)")
        require(sent.count + left.count <= outputLimit, "\(sent.count + left.count) bytes of output for one input")
    }

    /// Everything sent is whole TLS records; each one's kind is a feature.
    func checkRecords() {
        var offset = 0
        while offset < sent.count {
            require(sent.count - offset >= 5, "the output ends inside a record header at \(offset)")
            let type = sent[offset], major = sent[offset + 1]
            let length = Int(sent[offset + 3]) << 8 | Int(sent[offset + 4])
            // A server refusing a ClientHello's version answers in that version, whatever it is
            // (OpenSSL, tls_early_post_process_client_hello: "send alert using remote version
            // number"); every other record is 3.x.
            require((20...23).contains(type) && (major == 3 || type == 21) && length <= 16 * 1024 + 2048,
                    "not a TLS record header at \(offset): \(Array(sent[offset..<offset + 5]))")
            require(offset + 5 + length <= sent.count, "the output ends inside a record at \(offset)")
            // Plaintext alerts are 2 bytes (level, description); a plaintext handshake record starts
            // with its message type. Encrypted records (23) say nothing more.
            let body = sent[(offset + 5)..<(offset + 5 + length)]
            let detail = type == 21 && length == 2 ? UInt64(body.last!) : type == 22 && length > 0 ? UInt64(body.first!) : 0
            feature(.record, setup.side, UInt64(type) << 8 | detail)
            offset += 5 + length
        }
        if setup.clientSide {
            require(sent.count > 5 && sent[0] == 22 && sent[5] == 1, "a client session's output does not start with a ClientHello")
        }
    }
}

enum Ending {
    case failed(TLSError)
    case waiting
}

func drive(_ payload: [UInt8], _ setup: Setup) {
    var random = SplitMix64(seed: fnv1a(payload) ^ UInt64(setup.split) << 8)
    let context = setup.clientSide ? contexts.clients[setup.variant % 3] : contexts.servers[setup.variant % 2]
    let session: TLSSession
    do {
        session = try TLSSession(context: context, serverName: setup.clientSide ? "localhost" : nil)
    } catch {
        require(false, "cannot make a session: \(error)")
        return
    }
    let pieces = FuzzSupport.pieces(count: payload.count, split: setup.split, &random)
    let socket = Socket(session: session, setup: setup, random: random)
    var offset = 0, next = 0
    var eofFed = false, callsAfterEOF = 0
    var ending = Ending.waiting
    steps: while true {
        let before = state(session)
        let pendingBefore = session.pendingOutputCount
        let step = session.handshake()
        let queued = session.pendingOutputCount - pendingBefore
        largestStepOutput = max(largestStepOutput, queued)
        require(queued <= stepOutputLimit, "one handshake step queued \(queued) bytes")
        let kind: UInt64
        switch step {
        case .complete: kind = 0
        case .wantInput: kind = 1
        case .failed: kind = 2
        }
        feature(.transition, setup.side, before << 8 | state(session), kind)
        switch step {
        case .complete:
            require(false, "the handshake completed on the input alone (\(session.protocolVersion))")
            return
        case .failed(let error):
            socket.flush(all: false)  // the alert, if the socket takes it
            ending = .failed(error)
            break steps
        case .wantInput:
            socket.flush(all: false)
            if eofFed {
                callsAfterEOF += 1
                require(callsAfterEOF < 3, "the session still wants input after EOF: the worker's handshake loop would spin")
                continue
            }
            if next < pieces.count {
                let piece = pieces[next]
                next += 1
                payload.withUnsafeBytes { raw in
                    let fed = session.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + piece]))
                    require(fed == piece, "feed took \(fed) of \(piece) bytes")
                }
                offset += piece
                continue
            }
            if setup.eof {
                session.feedEOF()
                eofFed = true
                continue
            }
            break steps  // waits for bytes that do not come (a real connection: its handshake timeout)
        }
    }

    switch ending {
    case .failed(let error):
        reasons[error.reason, default: 0] += 1
        require(handshakeReasons.contains(error.reason), "failure with an unknown reason: \(error)")
        require(!error.message.isEmpty, "failure \(error.reason) without a message")
        queueIsEmpty("after a failed handshake (\(error))")
        feature(.message, setup.side, fnv1a(Array(error.message.utf8)), state(session))
        let pending = session.pendingOutputCount
        require(session.handshake() == .failed(error), "handshake() after \(error) says \(session.handshake())")
        var buffer = [UInt8](repeating: 0, count: 64)
        let read = buffer.withUnsafeMutableBytes { session.read(into: $0) }
        require(read == .failed(error), "read after \(error) says \(read)")
        let write = [UInt8]("GET / HTTP/1.1\r\n\r\n".utf8).withUnsafeBytes { session.write($0) }
        require(write == .failed(error), "write after \(error) says \(write)")
        session.shutdown()
        require(session.pendingOutputCount == pending, "calls after the failure queued output")
        queueIsEmpty("after calls on a failed session")
    case .waiting:
        endedWaiting += 1
        require(!eofFed, "waiting after EOF")
        feature(.end, setup.side, state(session))
        if setup.shutdownWhileWaiting {
            session.shutdown()
            queueIsEmpty("after shutdown() during the handshake")
            let write = [UInt8]("x".utf8).withUnsafeBytes { session.write($0) }
            if case .written = write { require(false, "write after shutdown() was accepted") }
            queueIsEmpty("after a write after shutdown()")
        } else {
            queueIsEmpty("while waiting for input")
        }
    }
    socket.flush(all: true)
    largestOutput = max(largestOutput, socket.sent.count)
    socket.checkRecords()
}

// MARK: Health check: real handshakes still work

/// Moves all of `from`'s pending output into `to`.
func move(_ from: TLSSession, _ to: TLSSession) {
    let count = from.withPendingOutput { to.feed($0) }
    from.consumeOutput(count)
}

func readAll(_ session: TLSSession) -> [UInt8] {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while case .bytes(let n) = buffer.withUnsafeMutableBytes({ session.read(into: $0) }) {
        received += buffer[0..<n]
    }
    return received
}

func realHandshake(client clientContext: TLSContext, server serverContext: TLSContext, _ what: String) {
    do {
        let client = try TLSSession(context: clientContext, serverName: "localhost")
        let server = try TLSSession(context: serverContext)
        var steps = (client: TLSStep.wantInput, server: TLSStep.wantInput)
        for _ in 0..<8 where steps != (.complete, .complete) {
            steps.client = client.handshake()
            move(client, server)
            steps.server = server.handshake()
            move(server, client)
        }
        require(steps == (.complete, .complete), "a real handshake (\(what)) no longer completes: client \(steps.client), server \(steps.server)")
        let request = [UInt8]("ping \(inputs)".utf8), reply = [UInt8]("pong \(inputs)".utf8)
        require(request.withUnsafeBytes { client.write($0) } == .written(request.count), "the client cannot write (\(what))")
        move(client, server)
        require(readAll(server) == request, "the server did not read what the client wrote (\(what))")
        require(reply.withUnsafeBytes { server.write($0) } == .written(reply.count), "the server cannot write (\(what))")
        move(server, client)
        require(readAll(client) == reply, "the client did not read what the server wrote (\(what))")
        queueIsEmpty("after a real handshake (\(what))")
    } catch {
        require(false, "cannot make sessions for a real handshake (\(what)): \(error)")
    }
}

func healthCheck() {
    for (index, server) in contexts.servers.enumerated() {
        realHandshake(client: contexts.clients[1], server: server, "verifying client, server \(index)")
    }
    for (index, client) in contexts.clients.enumerated() {
        realHandshake(client: client, server: contexts.servers[0], "client \(index), server 0")
    }
    healthChecks += 1
}

// MARK: Entry point

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTLS(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if inputs % 1000 == 0 { healthCheck() }
    inputs += 1
    guard size >= 2 else { return 0 }
    let input = bytes(data, size)
    drive(Array(input[2...]), Setup(flags: input[0], split: input[1]))
    queueIsEmpty("once the session is gone")
    return 0
}
