public import FaultlineCore

/// HTTP faults (SPEC §3.3, §3.5), for `http` and `grpc` routes:
///
/// ```swift
/// // fail the first two attempts of every idempotency key, let the third through
/// try client.apply(.abort(route: "pay", status: 503, match: HTTPMatch(methods: ["POST"], path: "/pay"),
///                         attempts: Attempts(key: .header("idempotency-key"), first: 2), mark: true))
/// ```
///
/// `match` nil acts on every request; `probability` is drawn per request; `mark` adds
/// `x-faultline-fault: <id>` to the answers the fault touched.
extension FaultSpec {
    private static func http(
        _ kind: FaultKind, route: String, match: HTTPMatch?, attempts: Attempts?, mark: Bool, probability: Double, id: String,
        lifetime: Duration?
    ) -> FaultSpec {
        FaultSpec(
            id: id, routes: selector(route), probability: probability, kind: kind,
            http: HTTPFaultRule(match: match, attempts: attempts, mark: mark), lifetime: lifetime)
    }

    /// The proxy answers `status` with `body` and `headers`; the upstream never sees the request.
    /// On a grpc route, `grpcStatus` (0–16, see `GRPCStatusCode`) makes it a trailers-only gRPC
    /// answer with `grpcMessage`; a gRPC answer's HTTP status is normally 200.
    public static func abort(
        route: String = "*", status: Int, body: String = "", headers: [HTTPHeaderPair] = [],
        grpcStatus: Int? = nil, grpcMessage: String = "", match: HTTPMatch? = nil,
        attempts: Attempts? = nil, mark: Bool = false, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        let abort = HTTPAbort(status: status, body: body, headers: headers, grpcStatus: grpcStatus, grpcMessage: grpcMessage)
        return http(.abort(abort), route: route, match: match,
                    attempts: attempts, mark: mark, probability: probability, id: id, lifetime: lifetime)
    }

    /// The request is forwarded (`phase: .request`), or its response passed on (`.response`),
    /// only after `delay ± jitter`.
    public static func httpDelay(
        route: String = "*", delay: Duration, jitter: Duration = .zero, phase: DelayPhase = .request,
        match: HTTPMatch? = nil, attempts: Attempts? = nil, mark: Bool = false, probability: Double = 1,
        id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        http(.delay(delay: delay, jitter: jitter, phase: phase), route: route, match: match, attempts: attempts,
             mark: mark, probability: probability, id: id, lifetime: lifetime)
    }

    /// The upstream handles the request; its answer is dropped and the client gets `then`.
    public static func dropResponse(
        route: String = "*", then: DropThen = .reset, match: HTTPMatch? = nil, attempts: Attempts? = nil,
        probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        http(.dropResponse(then: then), route: route, match: match, attempts: attempts, mark: false,
             probability: probability, id: id, lifetime: lifetime)
    }

    /// The request reaches the upstream `1 + copies` times, `spacing` apart; the client gets the first answer.
    public static func duplicate(
        route: String = "*", copies: Int = 1, spacing: Duration = .zero, match: HTTPMatch? = nil,
        attempts: Attempts? = nil, mark: Bool = false, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        http(.duplicate(copies: copies, spacing: spacing), route: route, match: match, attempts: attempts,
             mark: mark, probability: probability, id: id, lifetime: lifetime)
    }

    /// HTTP/2: the request's stream is reset with RST_STREAM `errorCode` (see `HTTP2ErrorCode`).
    /// HTTP/1.1 requests pass it over.
    public static func rstStream(
        route: String = "*", errorCode: UInt32 = HTTP2ErrorCode.internalError, match: HTTPMatch? = nil,
        attempts: Attempts? = nil, mark: Bool = false, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        http(.rstStream(errorCode: errorCode), route: route, match: match, attempts: attempts,
             mark: mark, probability: probability, id: id, lifetime: lifetime)
    }

    /// HTTP/2: the request's connection is sent GOAWAY `errorCode`; `graceful` lets the streams
    /// already open finish. HTTP/1.1 requests pass it over.
    public static func goaway(
        route: String = "*", errorCode: UInt32 = HTTP2ErrorCode.noError, graceful: Bool = true, match: HTTPMatch? = nil,
        attempts: Attempts? = nil, mark: Bool = false, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        http(.goaway(errorCode: errorCode, graceful: graceful), route: route, match: match, attempts: attempts,
             mark: mark, probability: probability, id: id, lifetime: lifetime)
    }

    /// HTTP/2: no WINDOW_UPDATE is sent for the request's stream, so the peer's flow control
    /// stalls. HTTP/1.1 requests pass it over.
    public static func windowStall(
        route: String = "*", match: HTTPMatch? = nil, attempts: Attempts? = nil, mark: Bool = false, probability: Double = 1,
        id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        http(.windowStall, route: route, match: match, attempts: attempts, mark: mark, probability: probability, id: id,
             lifetime: lifetime)
    }
}
