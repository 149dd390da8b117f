import FaultlineCore
import Testing

/// Which HTTP fault acts on a request: `match`, order, probability per request, `attempts`.
@Suite("HTTPFaultDecider")
struct HTTPFaultDeciderTests {
    /// Counts per (fault id, key) and remembers every call, so a test sees what was counted.
    struct CountingFake: AttemptCounting {
        var counts: [String: Int] = [:]
        var recorded: [String] = []

        mutating func record(fault: FaultSpec, key: String) -> Int {
            let slot = fault.id + " " + key
            counts[slot, default: 0] += 1
            recorded.append(slot)
            return counts[slot]!
        }
    }

    static func request(_ method: String = "GET", _ path: String = "/", _ headers: [(String, String)] = []) -> HTTPRequestFacts {
        HTTPRequestFacts(method: method, path: path, headers: headers.map { HTTPHeaderPair($0.0, $0.1) })
    }

    static func abort(
        _ id: String, status: Int = 503, match: HTTPMatch? = nil, attempts: Attempts? = nil, probability: Double = 1
    ) -> FaultSpec {
        FaultSpec(
            id: id, probability: probability, kind: .abort(HTTPAbort(status: status)),
            http: HTTPFaultRule(match: match, attempts: attempts))
    }

    static func decide(
        _ faults: [FaultSpec], _ request: HTTPRequestFacts, seed: UInt64 = 42, serial: UInt64 = 0, index: UInt64 = 0,
        counter: inout CountingFake, http2: Bool = false
    ) -> HTTPFaultDecision? {
        HTTPFaultDecider.decide(
            faults: faults, request: request, seed: seed, serial: serial, requestIndex: index, attempts: &counter, http2: http2)
    }

    /// The id of the fault that acts, or nil; with a fresh counter.
    static func actor(_ faults: [FaultSpec], _ request: HTTPRequestFacts) -> String? {
        var counter = CountingFake()
        return decide(faults, request, counter: &counter)?.faultID
    }

    // MARK: match

    @Test("No match acts on every request")
    func noMatchActsOnEverything() {
        let faults = [Self.abort("all")]
        #expect(Self.actor(faults, Self.request("GET", "/")) == "all")
        #expect(Self.actor(faults, Self.request("DELETE", "/x/y", [("a", "b")])) == "all")
    }

    @Test("method: any of a list, compared case-sensitively")
    func methodList() {
        let faults = [Self.abort("w", match: HTTPMatch(methods: ["POST", "PUT"]))]
        #expect(Self.actor(faults, Self.request("POST")) == "w")
        #expect(Self.actor(faults, Self.request("PUT")) == "w")
        #expect(Self.actor(faults, Self.request("GET")) == nil)
        #expect(Self.actor(faults, Self.request("post")) == nil, "HTTP methods are case-sensitive")
    }

    @Test("path is exact, path_prefix a prefix, both on the path without the query")
    func pathAndPrefix() {
        let exact = [Self.abort("p", match: HTTPMatch(path: "/pay"))]
        #expect(Self.actor(exact, Self.request("GET", "/pay")) == "p")
        #expect(Self.actor(exact, Self.request("GET", "/pay/1")) == nil)
        #expect(Self.actor(exact, Self.request("GET", "/payx")) == nil)
        #expect(Self.actor(exact, Self.request("GET", "/")) == nil)

        let prefix = [Self.abort("pp", match: HTTPMatch(pathPrefix: "/api/"))]
        #expect(Self.actor(prefix, Self.request("GET", "/api/")) == "pp")
        #expect(Self.actor(prefix, Self.request("GET", "/api/v1/users")) == "pp")
        #expect(Self.actor(prefix, Self.request("GET", "/api")) == nil)
        #expect(Self.actor(prefix, Self.request("GET", "/v1/api/")) == nil)
    }

    @Test("A header condition: present (\"*\") or an exact value; names case-insensitive")
    func headers() {
        let present = [Self.abort("h", match: HTTPMatch(headers: [HTTPHeaderMatch(name: "X-Debug", value: nil)]))]
        #expect(Self.actor(present, Self.request("GET", "/", [("x-debug", "")])) == "h")
        #expect(Self.actor(present, Self.request("GET", "/", [("X-DEBUG", "anything")])) == "h")
        #expect(Self.actor(present, Self.request("GET", "/", [("x-debugger", "1")])) == nil)
        #expect(Self.actor(present, Self.request("GET", "/")) == nil)

        let valued = [Self.abort("v", match: HTTPMatch(headers: [HTTPHeaderMatch(name: "x-tenant", value: "a")]))]
        #expect(Self.actor(valued, Self.request("GET", "/", [("X-Tenant", "a")])) == "v")
        #expect(Self.actor(valued, Self.request("GET", "/", [("x-other", "1"), ("x-TENANT", "a")])) == "v")
        #expect(Self.actor(valued, Self.request("GET", "/", [("x-tenant", "b")])) == nil)
        #expect(Self.actor(valued, Self.request("GET", "/", [("x-tenant", "A")])) == nil, "values are compared exactly")
        #expect(Self.actor(valued, Self.request("GET", "/")) == nil)
    }

    @Test("Every given field must match")
    func allFieldsMustMatch() {
        let faults = [Self.abort("all", match: HTTPMatch(
            methods: ["POST"], path: "/pay", headers: [HTTPHeaderMatch(name: "x-tenant", value: "a"), HTTPHeaderMatch(name: "x-k", value: nil)]))]
        #expect(Self.actor(faults, Self.request("POST", "/pay", [("x-tenant", "a"), ("x-k", "1")])) == "all")
        #expect(Self.actor(faults, Self.request("GET", "/pay", [("x-tenant", "a"), ("x-k", "1")])) == nil)
        #expect(Self.actor(faults, Self.request("POST", "/pax", [("x-tenant", "a"), ("x-k", "1")])) == nil)
        #expect(Self.actor(faults, Self.request("POST", "/pay", [("x-tenant", "a")])) == nil)
        #expect(Self.actor(faults, Self.request("POST", "/pay", [("x-k", "1")])) == nil)
    }

    // MARK: order

    @Test("The most recently applied fault that matches acts; the others do not")
    func mostRecentWins() {
        let older = Self.abort("older", status: 500)
        let newer = Self.abort("newer", status: 503, match: HTTPMatch(methods: ["POST"]))
        var counter = CountingFake()
        let post = Self.decide([older, newer], Self.request("POST"), counter: &counter)
        #expect(post == HTTPFaultDecision(faultID: "newer", type: "abort", action: .abort(HTTPAbort(status: 503)), mark: false))
        #expect(Self.actor([older, newer], Self.request("GET")) == "older", "the newer one does not match, so the older acts")
        #expect(Self.actor([newer, older], Self.request("POST")) == "older")
    }

    @Test("Byte-stream faults in the list are not HTTP decisions")
    func streamFaultsAreSkipped() {
        let latency = FaultSpec(id: "lat", kind: .latency(delay: .milliseconds(5), jitter: .zero, distribution: .uniform))
        #expect(Self.actor([latency], Self.request()) == nil)
        #expect(Self.actor([Self.abort("a"), latency], Self.request()) == "a")
        #expect(HTTPFaultDecider.httpFaults([latency, Self.abort("a"), latency]).map(\.id) == ["a"])
    }

    // MARK: actions

    @Test("Each kind's action, its type and mark")
    func actions() {
        func decision(_ kind: FaultKind, mark: Bool = false) -> HTTPFaultDecision? {
            var counter = CountingFake()
            return Self.decide([FaultSpec(id: "f", kind: kind, http: HTTPFaultRule(mark: mark))], Self.request(), counter: &counter)
        }
        let abort = HTTPAbort(status: 429, body: "slow down", headers: [HTTPHeaderPair("Retry-After", "2")])
        #expect(decision(.abort(abort), mark: true) == HTTPFaultDecision(faultID: "f", type: "abort", action: .abort(abort), mark: true))
        #expect(decision(.delay(delay: .milliseconds(200), jitter: .zero, phase: .request))?.action
            == .delayRequest(nanoseconds: 200_000_000))
        #expect(decision(.delay(delay: .milliseconds(200), jitter: .zero, phase: .response))?.action
            == .delayResponse(nanoseconds: 200_000_000))
        #expect(decision(.dropResponse(then: .hang))?.action == .dropResponse(.hang))
        #expect(decision(.dropResponse(then: .hang))?.action.label == "drop_response_hang")
        #expect(decision(.duplicate(copies: 3, spacing: .milliseconds(10))) == HTTPFaultDecision(
            faultID: "f", type: "duplicate", action: .duplicate(copies: 3, spacingNanoseconds: 10_000_000), mark: false))
    }

    @Test("A delay's jitter is drawn per request, within delay ± jitter, the same for the same request")
    func delayJitter() {
        let fault = FaultSpec(id: "j", kind: .delay(delay: .milliseconds(100), jitter: .milliseconds(50), phase: .request))
        var holds: [UInt64] = []
        for index in UInt64(0)..<200 {
            var counter = CountingFake()
            guard case .delayRequest(let hold)? = Self.decide([fault], Self.request(), index: index, counter: &counter)?.action else {
                Issue.record("no delay for request \(index)")
                return
            }
            #expect((50_000_000...150_000_000).contains(hold))
            var again = CountingFake()
            #expect(Self.decide([fault], Self.request(), index: index, counter: &again)?.action == .delayRequest(nanoseconds: hold))
            holds.append(hold)
        }
        #expect(Set(holds).count > 150, "the hold varies from request to request")
    }

    // MARK: probability

    @Test("probability is keyed by (seed, fault id, serial, request index)")
    func probabilityIsKeyed() {
        let fault = Self.abort("flaky", probability: 0.5)
        func pattern(seed: UInt64 = 42, id: String = "flaky", serial: UInt64 = 3) -> [Bool] {
            var fault = fault
            fault.id = id
            return (UInt64(0)..<1000).map { index in
                var counter = CountingFake()
                return Self.decide([fault], Self.request(), seed: seed, serial: serial, index: index, counter: &counter) != nil
            }
        }
        let base = pattern()
        #expect(pattern() == base, "same inputs, same decisions")
        // Exactly the draw SPEC §3.3 names: the generator of (seed, fault id, serial, request index).
        let expected = (UInt64(0)..<1000).map { index in
            var rng = DecisionRNG(seed: 42, faultID: "flaky", serial: 3, stream: HTTPFaultDecider.requestStream(index))
            return rng.chance(0.5)
        }
        #expect(base == expected)
        let hits = base.filter { $0 }.count
        // Binomial(1000, 0.5): σ ≈ 15.8; ±70 is beyond 4σ.
        #expect((430...570).contains(hits), "got \(hits) of 1000")
        #expect(pattern(seed: 43) != base)
        #expect(pattern(id: "flaky2") != base)
        #expect(pattern(serial: 4) != base)
    }

    @Test("probability 0 never acts and lets an older fault act instead")
    func probabilityZeroFallsThrough() {
        let faults = [Self.abort("older"), Self.abort("never", probability: 0)]
        for index in UInt64(0)..<50 {
            var counter = CountingFake()
            #expect(Self.decide(faults, Self.request(), index: index, counter: &counter)?.faultID == "older")
        }
    }

    // MARK: attempts

    @Test("attempts first:2 faults the first two requests of each key, then lets the rest through")
    func attemptsPerKey() {
        let fault = Self.abort("twice", attempts: Attempts(key: .header("idempotency-key"), first: 2))
        var counter = CountingFake()
        func outcome(_ key: String, index: UInt64) -> String {
            let request = Self.request("POST", "/pay", [("Idempotency-Key", key)])
            return Self.decide([fault], request, index: index, counter: &counter) == nil ? "pass" : "fault"
        }
        let keys = ["k1", "k2", "k1", "k2", "k1", "k2", "k1"]
        let outcomes = keys.enumerated().map { outcome($1, index: UInt64($0)) }
        #expect(outcomes == ["fault", "fault", "fault", "fault", "pass", "pass", "pass"])
        #expect(counter.counts == ["twice k1": 4, "twice k2": 3])
    }

    @Test("A request without the key header is neither faulted nor counted")
    func missingKeyIsNotCounted() {
        let fault = Self.abort("twice", attempts: Attempts(key: .header("idempotency-key"), first: 2))
        var counter = CountingFake()
        #expect(Self.decide([fault], Self.request("POST", "/pay", [("x-request-id", "r1")]), counter: &counter) == nil)
        #expect(counter.recorded.isEmpty)
        // It does not use up an attempt of anyone else's key either.
        let keyed = Self.request("POST", "/pay", [("idempotency-key", "k")])
        #expect(Self.decide([fault], keyed, counter: &counter) != nil)
        #expect(Self.decide([fault], Self.request("POST", "/pay"), counter: &counter) == nil)
        #expect(Self.decide([fault], keyed, counter: &counter) != nil)
        #expect(Self.decide([fault], keyed, counter: &counter) == nil)
        #expect(counter.recorded == ["twice k", "twice k", "twice k"])
    }

    @Test("A request the match passes over is not counted")
    func unmatchedIsNotCounted() {
        let fault = Self.abort("posts", match: HTTPMatch(methods: ["POST"]), attempts: Attempts(key: .path, first: 1))
        var counter = CountingFake()
        #expect(Self.decide([fault], Self.request("GET", "/a"), counter: &counter) == nil)
        #expect(counter.recorded.isEmpty)
        #expect(Self.decide([fault], Self.request("POST", "/a"), counter: &counter) != nil)
        #expect(Self.decide([fault], Self.request("POST", "/a"), counter: &counter) == nil)
        #expect(Self.decide([fault], Self.request("POST", "/b"), counter: &counter) != nil)
    }

    @Test("Attempt keys: path, method+path, connection")
    func attemptKeys() {
        let request = Self.request("PUT", "/items/7", [("X-Request-Id", "r-1")])
        #expect(AttemptKey.path.value(of: request, serial: 9) == "/items/7")
        #expect(AttemptKey.methodAndPath.value(of: request, serial: 9) == "PUT /items/7")
        #expect(AttemptKey.connection.value(of: request, serial: 9) == "9")
        #expect(AttemptKey.header("x-request-id").value(of: request, serial: 9) == "r-1")
        #expect(AttemptKey.header("idempotency-key").value(of: request, serial: 9) == nil)

        // By connection: each connection gets its own first attempt.
        let fault = Self.abort("once", attempts: Attempts(key: .connection, first: 1))
        var counter = CountingFake()
        #expect(Self.decide([fault], request, serial: 1, counter: &counter) != nil)
        #expect(Self.decide([fault], request, serial: 1, index: 1, counter: &counter) == nil)
        #expect(Self.decide([fault], request, serial: 2, counter: &counter) != nil)
    }

    @Test("AttemptKey's written forms parse back; others do not")
    func attemptKeyText() {
        for key in [AttemptKey.header("idempotency-key"), .path, .methodAndPath, .connection] {
            #expect(AttemptKey(text: key.text) == key)
        }
        #expect(AttemptKey(text: "header:X-Request-Id") == .header("x-request-id"))
        #expect(AttemptKey(text: "header:") == nil)
        #expect(AttemptKey(text: "header:a b") == nil)
        #expect(AttemptKey(text: "cookie") == nil)
        #expect(AttemptKey(text: "Path") == nil)
    }
}
