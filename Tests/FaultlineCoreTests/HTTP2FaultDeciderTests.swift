import FaultlineCore
import Testing

/// The HTTP/2-only faults (`rst_stream`, `goaway`, `window_stall`): passed over on HTTP/1.1,
/// decided like any other HTTP fault on HTTP/2.
extension HTTPFaultDeciderTests {
    static func http2Fault(_ id: String, _ kind: FaultKind, attempts: Attempts? = nil, probability: Double = 1) -> FaultSpec {
        FaultSpec(id: id, probability: probability, kind: kind, http: HTTPFaultRule(attempts: attempts))
    }

    @Test("On HTTP/1.1 an HTTP/2-only fault is passed over: the fault below it acts, no attempt is counted")
    func http2OnlySkippedOnHTTP1() {
        let counted = Attempts(key: .connection, first: 5)
        for kind in [FaultKind.rstStream(errorCode: 7), .goaway(errorCode: 0, graceful: true), .windowStall] {
            let faults = [Self.abort("below", attempts: counted), Self.http2Fault("h2", kind, attempts: counted)]
            var counter = CountingFake()
            let decision = Self.decide(faults, Self.request(), serial: 3, counter: &counter)
            #expect(decision?.faultID == "below", "\(kind.typeName)")
            #expect(counter.recorded == ["below 3"], "the HTTP/2-only fault counted nothing")

            var alone = CountingFake()
            #expect(Self.decide([Self.http2Fault("h2", kind, attempts: counted)], Self.request(), counter: &alone) == nil)
            #expect(alone.recorded.isEmpty)
        }
    }

    @Test("On HTTP/2 the same faults act, are counted, and map to their actions")
    func http2OnlyActsOnHTTP2() {
        let cases: [(FaultKind, HTTPFaultAction, String)] = [
            (.rstStream(errorCode: 7), .rstStream(errorCode: 7), "rst_stream"),
            (.goaway(errorCode: 0xb, graceful: false), .goaway(errorCode: 0xb, graceful: false), "goaway"),
            (.windowStall, .windowStall, "window_stall"),
        ]
        for (kind, action, label) in cases {
            let faults = [Self.abort("below"), Self.http2Fault("h2", kind, attempts: Attempts(key: .connection, first: 1))]
            var counter = CountingFake()
            let first = Self.decide(faults, Self.request(), serial: 9, counter: &counter, http2: true)
            #expect(first == HTTPFaultDecision(faultID: "h2", type: label, action: action, mark: false))
            #expect(action.label == label)
            // The second request of the connection is past `first: 1`, so the abort below acts.
            #expect(Self.decide(faults, Self.request(), serial: 9, index: 1, counter: &counter, http2: true)?.faultID == "below")
            #expect(counter.recorded == ["h2 9", "h2 9"])
        }
    }

    @Test("On HTTP/2 the other HTTP faults act as on HTTP/1.1, draws included")
    func otherFaultsUnchangedOnHTTP2() {
        let faults = (0..<20).map { Self.abort("a\($0)", probability: 0.3) }
        for index in UInt64(0)..<50 {
            var one = CountingFake()
            var two = CountingFake()
            #expect(Self.decide(faults, Self.request(), index: index, counter: &one)
                == Self.decide(faults, Self.request(), index: index, counter: &two, http2: true))
        }
    }

    @Test("Only the three HTTP/2 kinds are HTTP/2-only; all three are HTTP faults")
    func http2OnlyKinds() {
        #expect(FaultKind.rstStream(errorCode: 2).isHTTP2Only && FaultKind.rstStream(errorCode: 2).isHTTP)
        #expect(FaultKind.goaway(errorCode: 0, graceful: true).isHTTP2Only && FaultKind.goaway(errorCode: 0, graceful: true).isHTTP)
        #expect(FaultKind.windowStall.isHTTP2Only && FaultKind.windowStall.isHTTP)
        #expect(!FaultKind.abort(HTTPAbort(status: 503)).isHTTP2Only)
        #expect(!FaultKind.stall.isHTTP2Only && !FaultKind.stall.isHTTP)
        #expect(FaultKind.http2TypeNames == ["rst_stream", "goaway", "window_stall"])
        #expect(FaultKind.typeNames.suffix(3) == ["rst_stream", "goaway", "window_stall"])
    }
}

@Suite("HTTP/2 error codes and gRPC status codes")
struct ProtocolCodeTests {
    @Test("RFC 9113 §7 names and values, both ways")
    func http2ErrorCodes() {
        #expect(HTTP2ErrorCode.names.count == 14)
        #expect(HTTP2ErrorCode.value(named: "NO_ERROR") == 0)
        #expect(HTTP2ErrorCode.value(named: "INTERNAL_ERROR") == HTTP2ErrorCode.internalError)
        #expect(HTTP2ErrorCode.value(named: "REFUSED_STREAM") == 7)
        #expect(HTTP2ErrorCode.value(named: "ENHANCE_YOUR_CALM") == 0xb)
        #expect(HTTP2ErrorCode.value(named: "HTTP_1_1_REQUIRED") == 0xd)
        #expect(HTTP2ErrorCode.value(named: "refused_stream") == nil, "names are case-sensitive")
        #expect(HTTP2ErrorCode.name(of: 8) == "CANCEL")
        #expect(HTTP2ErrorCode.name(of: 0xe) == nil)
        #expect(HTTP2ErrorCode.name(of: UInt32.max) == nil)
    }

    @Test("gRPC status names and values, both ways")
    func grpcStatusCodes() {
        #expect(GRPCStatusCode.names.count == 17)
        #expect(GRPCStatusCode.value(named: "OK") == 0)
        #expect(GRPCStatusCode.value(named: "UNAVAILABLE") == 14)
        #expect(GRPCStatusCode.value(named: "UNAUTHENTICATED") == 16)
        #expect(GRPCStatusCode.value(named: "Unavailable") == nil)
        #expect(GRPCStatusCode.name(of: 4) == "DEADLINE_EXCEEDED")
        #expect(GRPCStatusCode.name(of: 17) == nil)
        #expect(GRPCStatusCode.name(of: -1) == nil)
    }
}
