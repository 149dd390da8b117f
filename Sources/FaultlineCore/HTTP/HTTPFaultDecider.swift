/// What an HTTP fault does to one request, decided when its head arrives.
public enum HTTPFaultAction: Sendable, Hashable {
    /// Answer with this; no upstream leg.
    case abort(HTTPAbort)
    /// Forward the request only after this long.
    case delayRequest(nanoseconds: UInt64)
    /// Pass the response head on only this long after it arrived.
    case delayResponse(nanoseconds: UInt64)
    /// Forward the request, swallow its answer, then this.
    case dropResponse(DropThen)
    /// Send the request `copies` more times, `spacingNanoseconds` apart; pass on only the first answer.
    case duplicate(copies: Int, spacingNanoseconds: UInt64)
    /// HTTP/2: reset the request's stream with RST_STREAM `errorCode`.
    case rstStream(errorCode: UInt32)
    /// HTTP/2: send the connection GOAWAY `errorCode`; `graceful` lets open streams finish.
    case goaway(errorCode: UInt32, graceful: Bool)
    /// HTTP/2: send no WINDOW_UPDATE for the request's stream.
    case windowStall

    /// The `action` word of the `http.fault` journal event.
    public var label: String {
        switch self {
        case .abort: return "abort"
        case .delayRequest: return "delay_request"
        case .delayResponse: return "delay_response"
        case .dropResponse(let then): return "drop_response_" + then.rawValue
        case .duplicate: return "duplicate"
        case .rstStream: return "rst_stream"
        case .goaway: return "goaway"
        case .windowStall: return "window_stall"
        }
    }
}

/// The fault that acts on a request and what it does.
public struct HTTPFaultDecision: Sendable, Hashable {
    public var faultID: String
    public var type: String
    public var action: HTTPFaultAction
    public var mark: Bool

    public init(faultID: String, type: String, action: HTTPFaultAction, mark: Bool) {
        self.faultID = faultID
        self.type = type
        self.action = action
        self.mark = mark
    }
}

/// Counts requests for `attempts` (shared by every worker of the daemon).
public protocol AttemptCounting {
    /// Records one more request with `key` for `fault`; returns its 1-based ordinal.
    mutating func record(fault: FaultSpec, key: String) -> Int
}

/// Decides which HTTP fault acts on a request: a pure function of the route's faults, the seed,
/// the connection serial, the request index and (for `attempts`) the count so far.
public enum HTTPFaultDecider {
    /// The RNG stream of request `index` (apart from the per-connection streams 0…11).
    public static func requestStream(_ index: UInt64) -> UInt64 { (1 << 32) &+ index }

    /// The HTTP faults of `faults` that could act on any request (most recently applied last).
    public static func httpFaults(_ faults: [FaultSpec]) -> [FaultSpec] {
        faults.filter { $0.kind.isHTTP }
    }

    /// The decision for request `requestIndex` (0-based) of connection `serial`.
    ///
    /// Faults are tried most recently applied first; the first whose `match` holds, whose
    /// `attempts` count (when given) is within `first` and whose probability draw succeeds acts,
    /// and no other fault acts on the request. A fault passed over because of its `match` or a
    /// missing key counts nothing; one tried counts the request even when its draw fails.
    ///
    /// - Parameter http2: whether the request came on an HTTP/2 stream. When false, faults that
    ///   act on HTTP/2 only (`FaultKind.isHTTP2Only`) are passed over before their `match`: no
    ///   attempt is counted and nothing is drawn for them.
    public static func decide<Counter: AttemptCounting>(
        faults: [FaultSpec], request: HTTPRequestFacts, seed: UInt64, serial: UInt64, requestIndex: UInt64,
        attempts: inout Counter, http2: Bool = false
    ) -> HTTPFaultDecision? {
        for fault in faults.reversed() where fault.kind.isHTTP && (http2 || !fault.kind.isHTTP2Only) {
            if let match = fault.http.match, !match.matches(request) { continue }
            if let rule = fault.http.attempts {
                guard let key = rule.key.value(of: request, serial: serial) else { continue }
                if attempts.record(fault: fault, key: key) > rule.first { continue }
            }
            var rng = DecisionRNG(seed: seed, faultID: fault.id, serial: serial, stream: requestStream(requestIndex))
            guard rng.chance(fault.probability) else { continue }
            guard let action = action(fault.kind, &rng) else { continue }
            return HTTPFaultDecision(faultID: fault.id, type: fault.kind.typeName, action: action, mark: fault.http.mark)
        }
        return nil
    }

    static func action(_ kind: FaultKind, _ rng: inout DecisionRNG) -> HTTPFaultAction? {
        switch kind {
        case .abort(let abort):
            return .abort(abort)
        case .delay(let delay, let jitter, let phase):
            let hold = Latency(delay: delay, jitter: jitter, distribution: .uniform).nextHoldNanoseconds(&rng)
            return phase == .request ? .delayRequest(nanoseconds: hold) : .delayResponse(nanoseconds: hold)
        case .dropResponse(let then):
            return .dropResponse(then)
        case .duplicate(let copies, let spacing):
            return .duplicate(copies: copies, spacingNanoseconds: spacing.nanosecondsClamped)
        case .rstStream(let errorCode):
            return .rstStream(errorCode: errorCode)
        case .goaway(let errorCode, let graceful):
            return .goaway(errorCode: errorCode, graceful: graceful)
        case .windowStall:
            return .windowStall
        default:
            return nil
        }
    }
}
