import FaultlineHTTP1

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
