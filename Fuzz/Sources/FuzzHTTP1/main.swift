import FaultlineHTTP1
import FuzzSupport

// Input: one flags byte, then the bytes one side of a connection sends.
//   bit 0     response side (else request side)
//   bit 1     the peer closes after the last byte (finish / atEnd)
//   bit 2     request side: Host not required
//   bits 3-5  response side: the request methods the responses answer (`methodSets`)
//   bit 6     small limits (so head, header-count, body and chunk-line limits are reached)
// Every input is fed whole, byte by byte and at two random cuttings seeded from the input, to
// the buffering parser (HTTPRequestParser / HTTPResponseParser) and to the zero-copy scanner the
// proxy uses (HTTP1MessageScanner). Invariants:
//   - each of the two gives the same events for every cutting (body bytes merged; the parser's
//     promise "feeding the same bytes in any split gives the same events"), the same error included
//     (how much of a body that ends in an error came out first depends on the split: `beforeError`);
//   - parser and scanner agree (unless Host is not required, which the scanner always requires): the same heads, the same body length for non-chunked bodies, the
//     same message ends and the same error;
//   - the scanner never claims more bytes than it was given, and a decoded body is never longer
//     than maxBodyBytes.

let methodSets: [[String]] = [
    [], ["HEAD"], ["CONNECT"], ["GET", "HEAD", "GET"], ["HEAD", "HEAD"], ["POST"], ["CONNECT", "GET"], ["OPTIONS", "HEAD"],
]
let smallLimits = HTTPParserLimits(maxHeadBytes: 96, maxHeaderCount: 4, maxBodyBytes: 64, maxChunkLineBytes: 12)

/// One thing seen, with body bytes merged so different cuttings compare equal.
enum Seen: Hashable {
    case request(HTTPRequestHead)
    case response(HTTPResponseHead)
    /// Decoded body bytes (parser) or raw body bytes covered (scanner: `bodyLength`).
    case body([UInt8])
    case bodyLength(Int)
    case end(HTTPHeaders)
    case endLength(Int)
    case error(HTTPParseError)
}

struct Setup {
    var response: Bool
    var finish: Bool
    var requireHost: Bool
    var methods: [String]
    var limits: HTTPParserLimits
}

extension Array where Element == Seen {
    mutating func add(_ seen: Seen) {
        switch (last, seen) {
        case (.body(let a)?, .body(let b)): self[count - 1] = .body(a + b)
        case (.bodyLength(let a)?, .bodyLength(let b)): self[count - 1] = .bodyLength(a + b)
        default: append(seen)
        }
    }
}

/// Feeds `input` in `pieces` to the buffering parser, draining events after each piece.
func parse(_ input: [UInt8], pieces: [Int], _ setup: Setup) -> [Seen] {
    if setup.response {
        var parser = HTTPResponseParser(limits: setup.limits)
        for method in setup.methods { parser.expectResponse(toMethod: method) }
        return feedAndDrain(input, pieces: pieces, finish: setup.finish,
                            feed: { parser.feed($0) }, finishInput: { parser.finish() }) { () throws(HTTPParseError) -> Seen? in
            try parser.next().map { event -> Seen in
                switch event {
                case .head(let head): return .response(head)
                case .body(let bytes): return .body(Array(bytes))
                case .end(let trailers): return .end(trailers)
                }
            }
        }
    }
    var parser = HTTPRequestParser(limits: setup.limits, requireHost: setup.requireHost)
    return feedAndDrain(input, pieces: pieces, finish: setup.finish,
                        feed: { parser.feed($0) }, finishInput: { parser.finish() }) { () throws(HTTPParseError) -> Seen? in
        try parser.next().map { event -> Seen in
            switch event {
            case .head(let head): return .request(head)
            case .body(let bytes): return .body(Array(bytes))
            case .end(let trailers): return .end(trailers)
            }
        }
    }
}

/// The loop both parsers share: feed each piece, then take events (`next`, nil when none is
/// ready) until none is left or one throws; the error ends the input. With `finish`, end the
/// input and drain once more.
func feedAndDrain(
    _ input: [UInt8], pieces: [Int], finish: Bool,
    feed: (ArraySlice<UInt8>) -> Void, finishInput: () -> Void, next: () throws(HTTPParseError) -> Seen?
) -> [Seen] {
    var seen: [Seen] = []
    func drain() -> Bool {
        do {
            while let event = try next() { seen.add(event) }
            return true
        } catch {
            seen.add(.error(error))
            return false
        }
    }
    var offset = 0
    for piece in pieces {
        feed(input[offset..<offset + piece])
        offset += piece
        if !drain() { return seen }
    }
    if finish {
        finishInput()
        _ = drain()
    }
    return seen
}

/// Walks `input` with the scanner as the proxy does: every call gets the bytes no event has
/// covered yet, plus those that have arrived.
func scan(_ input: [UInt8], pieces: [Int], _ setup: Setup) -> [Seen] {
    var scanner = HTTP1MessageScanner(role: setup.response ? .response : .request, limits: setup.limits)
    for method in setup.methods { scanner.expectResponse(toMethod: method) }
    var seen: [Seen] = []
    var start = 0
    var available = 0
    func drain(atEnd: Bool) -> Bool {
        var emptyEvents = 0
        while true {
            let event: HTTP1MessageScanner.Event
            do {
                event = try scanner.next(input[start..<available], atEnd: atEnd)
            } catch {
                seen.add(.error(error))
                return false
            }
            let length: Int
            switch event {
            case .needMore: return true
            case .requestHead(let head, let l):
                require(!setup.response, "request head on the response side")
                seen.add(.request(head))
                length = l
            case .responseHead(let head, let l):
                require(setup.response, "response head on the request side")
                seen.add(.response(head))
                length = l
            case .body(let l):
                seen.add(.bodyLength(l))
                length = l
            case .end(let l):
                seen.add(.endLength(l))
                length = l
            }
            require(length >= 0 && start + length <= available, "event covers \(length) bytes, \(available - start) given")
            start += length
            // Only an end may cover no bytes, and never twice in a row without input.
            if length == 0 {
                emptyEvents += 1
                require(emptyEvents < 3, "scanner makes no progress: \(event)")
            } else {
                emptyEvents = 0
            }
        }
    }
    for piece in pieces {
        available += piece
        if !drain(atEnd: false) { return seen }
    }
    if setup.finish { _ = drain(atEnd: true) }
    return seen
}

/// The events with a body run that ends in an error left out. Body bytes are handed out as they
/// arrive (a proxy cannot hold them back), so where the bytes were cut decides how much of a body
/// that turns out bad (a broken chunk, one past maxBodyBytes) came out before the error showed;
/// the heads, the ends and the error itself do not depend on it.
func beforeError(_ seen: [Seen]) -> [Seen] {
    guard seen.count >= 2, case .error = seen[seen.count - 1] else { return seen }
    switch seen[seen.count - 2] {
    case .body, .bodyLength: break
    default: return seen
    }
    var trimmed = seen
    trimmed.remove(at: seen.count - 2)
    return trimmed
}

/// What parser and scanner must agree on: heads, message ends, errors, and the body length of
/// messages whose body is not chunked (chunk framing is in the scanner's count, not the parser's).
func skeleton(_ seen: [Seen]) -> [Seen] {
    var out: [Seen] = []
    var chunked = false
    var pendingBody = 0
    func flushBody() {
        if pendingBody > 0 { out.append(.bodyLength(pendingBody)) }
        pendingBody = 0
    }
    for event in seen {
        switch event {
        case .request(let head):
            flushBody()
            chunked = head.framing == .chunked
            out.append(event)
        case .response(let head):
            flushBody()
            chunked = head.framing == .chunked
            out.append(event)
        case .body(let bytes):
            if !chunked { pendingBody += bytes.count }
        case .bodyLength(let length):
            if !chunked { pendingBody += length }
        case .end, .endLength:
            flushBody()
            out.append(.endLength(0))
        case .error:
            flushBody()
            out.append(event)
        }
    }
    flushBody()
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let flags = data[0]
    let input = bytes(data + 1, size - 1)
    let setup = Setup(
        response: flags & 1 != 0, finish: flags & 2 != 0, requireHost: flags & 4 == 0,
        methods: methodSets[Int(flags >> 3) & 7], limits: flags & 64 != 0 ? smallLimits : .defaults
    )
    let plans = splitPlans(count: input.count, seed: fnv1a(input))
    let parsed = plans.map { parse(input, pieces: $0, setup) }
    let scanned = plans.map { scan(input, pieces: $0, setup) }
    for index in 1..<plans.count {
        require(beforeError(parsed[index]) == beforeError(parsed[0]), "parser: pieces \(plans[index]) gave \(parsed[index]), whole input gave \(parsed[0])")
        require(beforeError(scanned[index]) == beforeError(scanned[0]), "scanner: pieces \(plans[index]) gave \(scanned[index]), whole input gave \(scanned[0])")
    }
    for events in parsed {
        for event in events {
            if case .body(let body) = event {
                require(body.count <= setup.limits.maxBodyBytes, "body of \(body.count) bytes over the limit")
            }
        }
    }
    // The scanner always requires Host on requests; the parser can be told not to.
    guard setup.response || setup.requireHost else { return 0 }
    let parserSkeleton = skeleton(beforeError(parsed[0]))
    let scannerSkeleton = skeleton(beforeError(scanned[0]))
    require(parserSkeleton == scannerSkeleton, "parser saw \(parserSkeleton), scanner saw \(scannerSkeleton)")
    return 0
}
