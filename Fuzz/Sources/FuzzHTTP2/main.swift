import CFuzzCounters
import FaultlineCore
import FaultlineHTTP2
import FuzzSupport
import Glibc

// The HTTP/2 session wrapper (Sources/FaultlineHTTP2) as H2Bridge drives it
// (Sources/FaultlineProxy/HTTP2/H2Bridge.swift): a fresh H2Session per input, fed the peer's
// bytes in pieces; after each piece `takeEvents()`, act on them as the bridge does, then
// `send(into:limit:)` until nothing is left.
//
// Input: a flags byte, a split byte, then the bytes the peer sends.
//   flags bit 0     the session is a client (the bytes are an upstream's answer to one POST the
//                   harness submitted first); else a server (the bytes are a client's)
//   flags bit 1     the bytes go in as they are; else they are prefixed with the side's preface
//                   (server: the 24-byte client magic; client: an empty SETTINGS frame), so that
//                   most inputs reach frame parsing
//   flags bits 2-3  what the server does with the n-th request head: always answer (a small body,
//                   sometimes trailers), reset every 2nd, reset every 3rd, or every 3rd alternately
//                   RST_STREAM and a graceful GOAWAY
//   flags bit 4     small settings (2 concurrent streams, a 100-byte stream window)
//   flags bit 5     withhold flow-control credit (never `consume`: window_stall)
//   flags bits 6-7  how much `send` may add per call: all, 1 byte, 100 bytes, 16 KiB
//   split byte      0 the bytes arrive whole, 1 byte by byte, n > 1 in random pieces of 1…n
//                   (seeded from the input, so a saved input replays the same pieces)
//
// Invariants, for every input:
//   - no trap and no sanitizer report; `send` ends (its loop is bounded);
//   - once `receive` returned an error, every later call returns the same error (H2Session's
//     failure is sticky: nghttp2 alone would read on, see H2SessionTests
//     .aFailureIsStickyEvenWhenBytesKeepComing) and never traps; the error has a message; output
//     after it is bounded (≤ 64 KiB);
//   - a server session with raw bytes that do not start with the client magic fails with
//     bad_preface (-903) and hands on nothing;
//   - server: every stream event is on an odd stream id (clients open odd streams; push is off);
//     request heads come in strictly increasing stream ids, one per stream; client: every stream
//     event is on the stream the harness opened;
//   - every `.data`, `.trailers` and `.end` has its stream's `.head` before it (server: the
//     request; client: the final response), none comes after the stream's `.end` or `.trailers`,
//     and no event but `.reset` names a stream after its `.closed`;
//   - the body bytes received on a stream never pass the window it was given (the larger of the
//     announced window and the default 65,535, before the SETTINGS ACK) plus the credit returned
//     with `consume`; the connection's likewise;
//   - no request head after this session sent a GOAWAY with an error (nghttp2's own, for a
//     protocol error) and none above the last stream id of a graceful GOAWAY it sent;
//   - the output is whole frames of at most 16,384 bytes (a client's after the magic), a server's
//     starting with SETTINGS; HEADERS and DATA go out only on streams that were handed on
//     (server: a request head came; client: the harness's stream); output is at most
//     16 × input + 64 KiB (no amplification).

// MARK: Features (nghttp2 is not instrumented: what it did becomes libFuzzer extra counters)

enum Feature: UInt64 {
    case event = 1, eventPair, receiveError, outputFrame, outputPair, submitError
}

func feature(_ kind: Feature, _ side: UInt64, _ a: UInt64, _ b: UInt64 = 0) {
    fuzz_feature(kind.rawValue << 60 | side << 56 | (a & 0xFF_FFFF_FFFF) << 16 | (b & 0xFFFF))
}

func kind(_ event: H2Event) -> (UInt64, UInt64) {
    switch event {
    case .head(_, let fields, let endStream): return (1, UInt64(min(fields.count, 15)) << 1 | (endStream ? 1 : 0))
    case .informational: return (2, 0)
    case .trailers(_, let fields): return (3, UInt64(min(fields.count, 15)))
    case .data(_, let bytes): return (4, UInt64(min(bytes.count, 64) / 8))
    case .end: return (5, 0)
    case .reset(_, let code): return (6, UInt64(code & 0xFF))
    case .closed(_, let code): return (7, UInt64(code & 0xFF))
    case .goaway(_, let code): return (8, UInt64(code & 0xFF))
    case .goawaySent(let code): return (9, UInt64(code & 0xFF))
    case .sent(_, let bytes): return (10, UInt64(min(bytes, 64) / 8))
    }
}

func streamOf(_ event: H2Event) -> Int32? {
    switch event {
    case .head(let s, _, _), .informational(let s, _), .trailers(let s, _), .data(let s, _), .end(let s),
         .reset(let s, _), .closed(let s, _), .sent(let s, _):
        return s
    case .goaway, .goawaySent:
        return nil
    }
}

// MARK: What the run saw (printed at exit)

var inputs = 0
var errors: [String: Int] = [:]
var headsSeen = 0
var protocolGoaways = 0
var largestOutput = 0
let summaryInstalled: Bool = {
    atexit {
        let counted = errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        fputs("[http2] \(inputs) inputs: receive failed \(counted.isEmpty ? "never" : counted); \(headsSeen) heads; "
              + "nghttp2's own GOAWAY \(protocolGoaways) times; largest output of one input \(largestOutput) B\n", stderr)
    }
    return true
}()

/// FUZZ_HTTP2_TRACE=1: print every event and error (for `Scripts/fuzz http2 --replay FILE`).
let trace = getenv("FUZZ_HTTP2_TRACE") != nil

// MARK: Setup

struct Setup {
    var client: Bool
    var raw: Bool
    var actions: Int
    var small: Bool
    var withhold: Bool
    var sendLimit: Int
    var split: Int

    init(flags: UInt8, split: UInt8) {
        client = flags & 1 != 0
        raw = flags & 2 != 0
        actions = Int(flags >> 2) & 3
        small = flags & 16 != 0
        withhold = flags & 32 != 0
        sendLimit = [Int.max, 1, 100, 16_384][Int(flags >> 6)]
        self.split = Int(split)
    }

    var side: UInt64 { client ? 1 : 0 }

    var settings: H2Settings {
        small ? H2Settings(maxConcurrentStreams: 2, streamWindow: 100, connectionWindow: 65_535) : H2Settings()
    }
}

/// An empty SETTINGS frame: the server's preface.
let emptySettings: [UInt8] = [0, 0, 0, 4, 0, 0, 0, 0, 0]
let maxFrame = 16_384
let defaultWindow = 65_535

// MARK: One session, driven as the bridge drives it

final class Driver {
    let setup: Setup
    let session: H2Session
    var output: [UInt8] = []
    var outputAfterError = 0
    var sendFailed = false
    var firstError: H2Error?
    var previousKind: UInt64 = 0

    /// Per stream: a head came, the peer's side ended, the stream closed; body bytes received and
    /// credit given back.
    var heads: Set<Int32> = []
    var ended: Set<Int32> = []
    var closed: Set<Int32> = []
    var received: [Int32: Int] = [:]
    var credited: [Int32: Int] = [:]
    var receivedTotal = 0
    var creditedTotal = 0
    var lastHead: Int32 = 0
    var headCount = 0
    /// The streams this session may send HEADERS or DATA on.
    var answerable: Set<Int32> = []
    /// GOAWAYs this session submitted: the last stream id of each, in order; nghttp2 reports them
    /// sent with `.goawaySent(0)`.
    var goawaysSubmitted: [Int32] = []
    var goawaysSentCount = 0
    /// The lowest last stream id of a GOAWAY that went out; heads above it are refused.
    var goawayBound: Int32?
    var protocolGoawaySent = false

    init(setup: Setup) {
        self.setup = setup
        do {
            session = try H2Session(role: setup.client ? .client : .server, settings: setup.settings)
        } catch {
            fatalError("invariant: cannot make a session: \(error)")
        }
    }

    func flush() {
        var calls = 0
        while true {
            calls += 1
            require(calls < 100_000, "send does not run dry")
            var chunk: [UInt8] = []
            let added: Int
            do {
                added = try session.send(into: &chunk, limit: setup.sendLimit)
            } catch {
                feature(.submitError, setup.side, UInt64(UInt32(bitPattern: error.code)), 1)
                sendFailed = true
                return
            }
            require(added == chunk.count, "send says \(added) bytes, added \(chunk.count)")
            if added == 0 { return }
            output += chunk
            if firstError != nil {
                outputAfterError += added
                require(outputAfterError <= 64 * 1024, "\(outputAfterError) bytes of output after \(firstError!)")
            }
        }
    }

    func receive(_ piece: ArraySlice<UInt8>) {
        let error = piece.withUnsafeBytes { session.receive($0) }
        if let error {
            require(!error.message.isEmpty, "an error without a message: \(error.code)")
            feature(.receiveError, setup.side, UInt64(UInt32(bitPattern: error.code)), firstError == nil ? 0 : 1)
            if trace { fputs("[http2] receive: \(error.reason) \(error)\n", stderr) }
            if firstError == nil {
                firstError = error
                errors[error.reason, default: 0] += 1
            }
        }
        if let first = firstError, !piece.isEmpty {
            require(error == first, "receive after \(first) gave \(error.map { "\($0)" } ?? "nil"): a failure is sticky")
            require(session.failure == first, "the session's failure is \(String(describing: session.failure)), receive gave \(first)")
        }
    }

    /// Checks each event and acts on it (before a failure) as the bridge does.
    func handle(_ events: [H2Event]) {
        for event in events {
            if trace { fputs("[http2] \(event)\n", stderr) }
            let (k, detail) = kind(event)
            feature(.event, setup.side, k << 8 | detail, firstError == nil ? 0 : 1)
            feature(.eventPair, setup.side, previousKind << 8 | k)
            previousKind = k
            if let stream = streamOf(event) {
                require(stream > 0, "\(event) on stream \(stream)")
                if setup.client {
                    require(stream == 1, "\(event) on stream \(stream); the client opened only stream 1")
                } else {
                    require(stream & 1 == 1, "\(event) on the even stream \(stream): clients open odd streams")
                }
                // RST_STREAM on a closed stream is legal (RFC 9113 §5.1, the peer may not know yet)
                // and nghttp2 reports it; nothing else may name a closed stream.
                if case .reset = event {} else {
                    require(!closed.contains(stream), "\(event) after stream \(stream) closed")
                }
            }
            switch event {
            case .head(let stream, _, let endStream):
                require(!heads.contains(stream), "a second head on stream \(stream)")
                if !setup.client {
                    require(stream > lastHead, "request head on stream \(stream) after one on \(lastHead)")
                    require(!protocolGoawaySent, "request head on stream \(stream) after nghttp2 sent its GOAWAY for a protocol error")
                    if let bound = goawayBound {
                        require(stream <= bound, "request head on stream \(stream) after a GOAWAY naming \(bound)")
                    }
                    lastHead = stream
                }
                heads.insert(stream)
                headsSeen += 1
                if endStream { ended.insert(stream) }
                if !setup.client && firstError == nil { answer(stream) }
            case .informational(let stream, _):
                require(setup.client, "a 1xx head on the server side")
                require(!heads.contains(stream), "a 1xx head after the final head on stream \(stream)")
            case .trailers(let stream, _):
                require(heads.contains(stream), "trailers on stream \(stream) before its head")
                require(!ended.contains(stream), "trailers on stream \(stream) after it ended")
                ended.insert(stream)
            case .data(let stream, let bytes):
                require(heads.contains(stream), "data on stream \(stream) before its head")
                require(!ended.contains(stream), "data on stream \(stream) after it ended")
                require(!bytes.isEmpty, "an empty data event on stream \(stream)")
                received[stream, default: 0] += bytes.count
                receivedTotal += bytes.count
                let window = max(Int(setup.settings.streamWindow), defaultWindow)
                require(received[stream]! <= window + credited[stream, default: 0],
                        "\(received[stream]!) body bytes on stream \(stream), window \(window) + credit \(credited[stream, default: 0])")
                let connectionWindow = max(Int(setup.settings.connectionWindow), defaultWindow)
                require(receivedTotal <= connectionWindow + creditedTotal,
                        "\(receivedTotal) body bytes on the connection, window \(connectionWindow) + credit \(creditedTotal)")
                if !setup.withhold {
                    session.consume(stream: stream, count: bytes.count)
                    credited[stream, default: 0] += bytes.count
                    creditedTotal += bytes.count
                }
            case .end(let stream):
                require(heads.contains(stream), "end of stream \(stream) before its head")
                require(!ended.contains(stream), "stream \(stream) ended twice")
                ended.insert(stream)
            case .closed(let stream, _):
                closed.insert(stream)
            case .goawaySent(let code):
                if code == 0 && goawaysSentCount < goawaysSubmitted.count {
                    let last = goawaysSubmitted[goawaysSentCount]
                    goawaysSentCount += 1
                    goawayBound = min(goawayBound ?? last, last)
                } else if code != 0 {
                    if !protocolGoawaySent { protocolGoaways += 1 }
                    protocolGoawaySent = true
                }
            case .reset, .goaway, .sent:
                break
            }
        }
    }

    /// What the bridge does with a request head: answer it (head, a small body, sometimes
    /// trailers), or reset it, or send a graceful GOAWAY, as the flags say.
    func answer(_ stream: Int32) {
        headCount += 1
        let n = headCount
        switch setup.actions {
        case 1 where n % 2 == 0, 2 where n % 3 == 0, 3 where n % 6 == 3:
            session.submitReset(stream: stream, errorCode: n % 4 == 0 ? HTTP2ErrorCode.refusedStream : HTTP2ErrorCode.internalError)
            return
        case 3 where n % 6 == 0:
            let last = session.lastProcessedStreamID
            goawaysSubmitted.append(last)
            session.submitGoaway(errorCode: HTTP2ErrorCode.noError, lastStreamID: last)
            session.submitReset(stream: stream, errorCode: HTTP2ErrorCode.refusedStream)
            return
        default:
            break
        }
        let trailers = n % 5 == 0
        let fields = [H2Field(":status", n % 7 == 0 ? "503" : "200")]
            + (trailers ? [H2Field("content-type", "application/grpc")] : [H2Field("content-length", String(n % 33))])
        do {
            try session.submitResponse(stream: stream, fields, endStream: false)
        } catch {
            feature(.submitError, setup.side, UInt64(UInt32(bitPattern: error.code)))
            return
        }
        answerable.insert(stream)
        session.appendBody(stream: stream, [UInt8](repeating: UInt8(ascii: "a") &+ UInt8(n % 26), count: n % 33))
        session.endBody(stream: stream, trailers: trailers ? [H2Field("grpc-status", "0")] : nil)
    }

    /// The client's one request, sent before the upstream's bytes.
    func openRequest() {
        let fields = [H2Field(":method", "POST"), H2Field(":scheme", "http"), H2Field(":path", "/fuzz"),
                      H2Field(":authority", "upstream"), H2Field("content-type", "application/grpc")]
        do {
            let id = try session.submitRequest(fields, endStream: false)
            require(id == 1, "the first request got stream \(id)")
            answerable.insert(id)
        } catch {
            require(false, "cannot submit the request: \(error)")
        }
        session.appendBody(stream: 1, Array("ping".utf8))
        session.endBody(stream: 1)
        flush()
        handle(session.takeEvents())
    }

    /// The output is whole frames; HEADERS and DATA only on streams the session may answer on.
    func checkOutput() {
        var offset = 0
        if setup.client {
            require(output.starts(with: H2Preface.bytes), "a client's output does not start with the magic")
            offset = H2Preface.bytes.count
        }
        var first = true
        var previousType: UInt64 = 0xFF
        while offset < output.count {
            require(output.count - offset >= 9, "the output ends inside a frame header at \(offset)")
            let length = Int(output[offset]) << 16 | Int(output[offset + 1]) << 8 | Int(output[offset + 2])
            let type = output[offset + 3], flags = output[offset + 4]
            let stream = Int32(output[offset + 5] & 0x7F) << 24 | Int32(output[offset + 6]) << 16
                | Int32(output[offset + 7]) << 8 | Int32(output[offset + 8])
            require(length <= maxFrame, "a frame of \(length) bytes at \(offset)")
            require(offset + 9 + length <= output.count, "the output ends inside a frame at \(offset)")
            if first {
                require(type == 4 && flags & 1 == 0, "the output starts with frame type \(type), not SETTINGS")
                first = false
            }
            let payload = output[(offset + 9)..<(offset + 9 + length)]
            var code: UInt64 = 0
            if type == 3 && length == 4 { code = UInt64(payload.last!) }  // RST_STREAM
            if type == 7 && length >= 8 { code = UInt64(payload[payload.startIndex + 7]) }  // GOAWAY
            if type == 0 || type == 1 {
                require(answerable.contains(stream), "frame type \(type) on stream \(stream), which was not answered")
            }
            feature(.outputFrame, setup.side, UInt64(type) << 16 | UInt64(flags) << 8 | code)
            feature(.outputPair, setup.side, previousType << 8 | UInt64(type))
            previousType = UInt64(type)
            offset += 9 + length
        }
    }
}

func drive(_ peer: [UInt8], _ setup: Setup) {
    let input = setup.raw ? peer : (setup.client ? emptySettings : H2Preface.bytes) + peer
    let driver = Driver(setup: setup)
    if setup.client { driver.openRequest() } else { driver.flush() }

    var random = SplitMix64(seed: fnv1a(input) ^ UInt64(setup.split) << 8)
    let pieces = FuzzSupport.pieces(count: input.count, split: setup.split, &random)
    var offset = 0
    for piece in pieces {
        driver.receive(input[offset..<offset + piece])
        offset += piece
        driver.handle(driver.session.takeEvents())
        driver.flush()
        // Events the sends queued (body sent, streams closed, GOAWAY sent).
        driver.handle(driver.session.takeEvents())
    }

    if !setup.client && setup.raw && H2Preface.match(input.prefix(H2Preface.bytes.count)) == .no {
        require(driver.firstError?.code == -903, "bytes that are not the client magic gave \(driver.firstError.map { "\($0)" } ?? "no error")")
        require(driver.heads.isEmpty, "a request head without the client magic")
    }
    largestOutput = max(largestOutput, driver.output.count)
    require(driver.output.count <= 16 * input.count + 64 * 1024, "\(driver.output.count) bytes of output for \(input.count) of input")
    if !driver.sendFailed { driver.checkOutput() }
}

// MARK: Entry point

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP2(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = summaryInstalled
    inputs += 1
    guard size >= 2 else { return 0 }
    let input = bytes(data, size)
    drive(Array(input[2...]), Setup(flags: input[0], split: input[1]))
    return 0
}
