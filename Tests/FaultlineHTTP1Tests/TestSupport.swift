import FaultlineHTTP1
import Testing

/// A parser event with body slices merged, so runs that split bytes differently compare equal.
enum Seen<Head: Hashable>: Hashable {
    case head(Head)
    case body([UInt8])
    case end(HTTPHeaders)
    case error(HTTPParseError)
}

extension Array {
    mutating func appendBody<Head>(_ bytes: ArraySlice<UInt8>) where Element == Seen<Head> {
        if case .body(let previous)? = last {
            self[count - 1] = .body(previous + [UInt8](bytes))
        } else {
            append(.body([UInt8](bytes)))
        }
    }
}

/// Feeds `input` in the given pieces (then EOF when `finish`), draining events after each piece.
func requestEvents(_ input: [UInt8], pieces: [Int]? = nil, finish: Bool = false,
                   limits: HTTPParserLimits = .defaults, requireHost: Bool = true) -> [Seen<HTTPRequestHead>] {
    var parser = HTTPRequestParser(limits: limits, requireHost: requireHost)
    var seen: [Seen<HTTPRequestHead>] = []
    func drain() -> Bool {
        do {
            while let event = try parser.next() {
                switch event {
                case .head(let head): seen.append(.head(head))
                case .body(let bytes): seen.appendBody(bytes)
                case .end(let trailers): seen.append(.end(trailers))
                }
            }
            return true
        } catch {
            seen.append(.error(error))
            return false
        }
    }
    var offset = 0
    for size in pieces ?? [input.count] where offset < input.count {
        let end = min(input.count, offset + size)
        parser.feed(input[offset..<end])
        offset = end
        if !drain() { return seen }
    }
    if offset < input.count {
        parser.feed(input[offset...])
        if !drain() { return seen }
    }
    if finish {
        parser.finish()
        _ = drain()
    }
    return seen
}

func responseEvents(_ input: [UInt8], pieces: [Int]? = nil, finish: Bool = false, methods: [String] = [],
                    limits: HTTPParserLimits = .defaults) -> [Seen<HTTPResponseHead>] {
    var parser = HTTPResponseParser(limits: limits)
    for method in methods { parser.expectResponse(toMethod: method) }
    var seen: [Seen<HTTPResponseHead>] = []
    func drain() -> Bool {
        do {
            while let event = try parser.next() {
                switch event {
                case .head(let head): seen.append(.head(head))
                case .body(let bytes): seen.appendBody(bytes)
                case .end(let trailers): seen.append(.end(trailers))
                }
            }
            return true
        } catch {
            seen.append(.error(error))
            return false
        }
    }
    var offset = 0
    for size in pieces ?? [input.count] where offset < input.count {
        let end = min(input.count, offset + size)
        parser.feed(input[offset..<end])
        offset = end
        if !drain() { return seen }
    }
    if offset < input.count {
        parser.feed(input[offset...])
        if !drain() { return seen }
    }
    if finish {
        parser.finish()
        _ = drain()
    }
    return seen
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Split sizes from a fixed linear congruential sequence (deterministic "random" splits).
func pseudoRandomPieces(count: Int, seed: UInt64) -> [Int] {
    var state = seed
    var pieces: [Int] = []
    var total = 0
    while total < count {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let size = Int(state >> 59) + 1
        pieces.append(size)
        total += size
    }
    return pieces
}

/// What a scanner reported when driven like a relay: the caller keeps `input`, offers the bytes
/// no event has covered yet, and moves on by each event's length.
struct ScanRun {
    /// Every event but `.needMore`, in order.
    var events: [HTTP1MessageScanner.Event] = []
    var error: HTTPParseError?
    /// Bytes covered by the events (the sum of their lengths).
    var covered = 0
    var scanner: HTTP1MessageScanner

    /// The events with consecutive body events merged (splits may cut bodies differently).
    var merged: [HTTP1MessageScanner.Event] {
        var out: [HTTP1MessageScanner.Event] = []
        for event in events {
            if case .body(let length) = event, case .body(let previous)? = out.last {
                out[out.count - 1] = .body(length: previous + length)
            } else {
                out.append(event)
            }
        }
        return out
    }

    var heads: [HTTP1MessageScanner.Event] {
        events.filter {
            switch $0 {
            case .requestHead, .responseHead: return true
            default: return false
            }
        }
    }
}

/// Offers `input` to a scanner in the given pieces (then as ended when `atEnd`), draining events
/// after each piece.
func scan(_ input: [UInt8], role: HTTP1MessageScanner.Role, pieces: [Int]? = nil, atEnd: Bool = false,
          methods: [String] = [], limits: HTTPParserLimits = .defaults) -> ScanRun {
    var run = ScanRun(scanner: HTTP1MessageScanner(role: role, limits: limits))
    for method in methods { run.scanner.expectResponse(toMethod: method) }
    var available = 0
    func drain(ended: Bool) -> Bool {
        // Bounded: a scanner that never stops reporting is a failure, not a hang.
        for _ in 0..<10_000 {
            let event: HTTP1MessageScanner.Event
            do {
                event = try run.scanner.next(input.span.extracting(run.covered..<available), atEnd: ended)
            } catch {
                run.error = error
                return false
            }
            let length: Int
            switch event {
            case .needMore: return true
            case .requestHead(_, let n), .responseHead(_, let n), .body(let n), .end(let n): length = n
            }
            run.events.append(event)
            run.covered += length
            if run.covered > available {
                Issue.record("an event covered bytes that were not given: \(event)")
                return false
            }
        }
        Issue.record("the scanner kept reporting events")
        return false
    }
    for size in pieces ?? [input.count] where available < input.count {
        available = min(input.count, available + size)
        if !drain(ended: false) { return run }
    }
    if available < input.count {
        available = input.count
        if !drain(ended: false) { return run }
    }
    if atEnd { _ = drain(ended: true) }
    return run
}
