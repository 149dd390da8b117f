public import FaultlineCore

/// HTTP faults (SPEC §3.3), for `http` routes:
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
    public static func abort(
        route: String = "*", status: Int, body: String = "", headers: [HTTPHeaderPair] = [], match: HTTPMatch? = nil,
        attempts: Attempts? = nil, mark: Bool = false, probability: Double = 1, id: String = generatedID, for lifetime: Duration? = nil
    ) -> FaultSpec {
        http(.abort(HTTPAbort(status: status, body: body, headers: headers)), route: route, match: match,
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
}
