/// The buffering front of `HTTP1FramingStateMachine` that both parsers share.
///
/// Bytes are buffered here; `next` hands out one event at a time, so a caller can stop between
/// pipelined messages, and body bytes are returned as slices of the buffer (chunk framing left
/// out), not copies.
struct HTTP1Framer: Sendable {
    typealias Role = HTTP1FramingStateMachine.Role
    typealias StartLine = HTTP1FramingStateMachine.StartLine

    enum RawEvent: Sendable {
        case head(StartLine, HTTPHeaders, HTTPBodyFraming)
        case body(ArraySlice<UInt8>)
        case end(trailers: HTTPHeaders)
    }

    private var machine: HTTP1FramingStateMachine
    private var buffer: [UInt8] = []
    /// Where the machine's region starts: bytes before it were handed out as events.
    private var position = 0
    private var eof = false

    init(role: Role, limits: HTTPParserLimits) {
        machine = HTTP1FramingStateMachine(role: role, limits: limits, coalescesChunks: false)
    }

    var limits: HTTPParserLimits { machine.limits }

    // MARK: Input

    mutating func feed(_ bytes: ArraySlice<UInt8>) {
        if machine.isFailed { return }
        if position > 0 && (position == buffer.count || position >= 64 * 1024) {
            buffer.removeFirst(position)
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    mutating func finish() { eof = true }

    mutating func expectResponse(toMethod method: String) {
        machine.expectResponse(toMethod: method)
    }

    /// Between messages with nothing buffered but empty lines already skipped.
    var isIdle: Bool { machine.isIdle && bufferedByteCount == machine.consumed }

    var isStopped: Bool { machine.isStopped }

    var bufferedByteCount: Int { buffer.count - position }

    mutating func takeRemainingBytes() -> [UInt8] {
        let rest = Array(buffer[position...])
        buffer.removeAll()
        position = 0
        return rest
    }

    // MARK: Events

    /// The next event, or nil when more bytes are needed (or the framer stopped).
    /// - Throws: `HTTPParseError`, and again on every later call.
    mutating func next() throws(HTTPParseError) -> RawEvent? {
        while true {
            // A second reference (no copy) so the span's borrow does not overlap `machine`'s.
            let held = buffer
            switch try machine.next(held.span.extracting(droppingFirst: position), atEnd: eof) {
            case .needMore:
                return nil
            case .head(let startLine, let headers, let framing, let length):
                position += length
                return .head(startLine, headers, framing)
            case .body(let length, let data):
                let slice = buffer[(position + data.lowerBound)..<(position + data.upperBound)]
                position += length
                // A run of chunk framing alone is not an event.
                if !slice.isEmpty { return .body(slice) }
            case .end(let trailers, let length):
                position += length
                return .end(trailers: trailers)
            }
        }
    }
}
