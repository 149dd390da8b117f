import FaultlineConfig
import FaultlineCore
import Testing

@Suite struct FaultEncoderTests {
    static let faults: [FaultSpec] = [
        FaultSpec(id: "l", routes: .names(["a"]), direction: .downstream, probability: 0.5,
                  kind: .latency(delay: .milliseconds(100), jitter: .milliseconds(10), distribution: .normal)),
        FaultSpec(id: "bw", routes: .names(["a", "b"]), kind: .bandwidth(bytesPerSecond: 1_000_000)),
        FaultSpec(id: "s", kind: .slicer(averageSize: 100, sizeVariation: 20, delay: .microseconds(1500))),
        FaultSpec(id: "bh", direction: .upstream, probability: 0, kind: .blackhole),
        FaultSpec(id: "st", kind: .stall),
        FaultSpec(id: "r1", kind: .reset(after: .seconds(90), afterBytes: nil)),
        FaultSpec(id: "r2", kind: .reset(after: .zero, afterBytes: 4096)),
        FaultSpec(id: "t", kind: .timeout(.zero)),
        FaultSpec(id: "ld", kind: .limitData(bytes: 0)),
        FaultSpec(id: "sc", kind: .slowClose(delay: .seconds(3600))),
        FaultSpec(id: "rf", kind: .refuse(existing: .reset)),
        FaultSpec(id: "cd", kind: .connectDelay(.nanoseconds(1_500_000_001))),
        FaultSpec(id: "c", probability: 0.125, kind: .corrupt(bitFlipRate: 1e-6)),
        FaultSpec(id: "p1", kind: .partition(PartitionFault(rule: .groups([["n1"], ["n2", "n3"]]), mode: .reset, oneWay: true))),
        FaultSpec(id: "p2", routes: .names(["a"]), kind: .partition(PartitionFault(rule: .generator(.isolate(node: "n2"))))),
        FaultSpec(id: "p3", kind: .partition(PartitionFault(rule: .generator(.randomHalves)))),
        FaultSpec(id: "ab", routes: .names(["a"]), probability: 0.5,
                  kind: .abort(HTTPAbort(status: 503, body: "nope", headers: [HTTPHeaderPair("Retry-After", "1")])),
                  http: HTTPFaultRule(
                    match: HTTPMatch(methods: ["POST", "PUT"], path: "/pay", headers: [HTTPHeaderMatch(name: "X-Tenant", value: nil)]),
                    attempts: Attempts(key: .header("idempotency-key"), first: 2), mark: true)),
        FaultSpec(id: "dl", kind: .delay(delay: .milliseconds(200), jitter: .milliseconds(5), phase: .response),
                  http: HTTPFaultRule(match: HTTPMatch(pathPrefix: "/slow/"))),
        FaultSpec(id: "dr", kind: .dropResponse(then: .hang), http: HTTPFaultRule(attempts: Attempts(key: .methodAndPath, first: 1))),
        FaultSpec(id: "du", kind: .duplicate(copies: 3, spacing: .milliseconds(10)), http: HTTPFaultRule(mark: true)),
        FaultSpec(id: "rs", routes: .names(["a"]), probability: 0.25, kind: .rstStream(errorCode: 7),
                  http: HTTPFaultRule(match: HTTPMatch(path: "/pkg.Svc/Call"), attempts: Attempts(key: .path, first: 3))),
        FaultSpec(id: "rs2", kind: .rstStream(errorCode: 0xdead_beef)),
        FaultSpec(id: "ga", kind: .goaway(errorCode: 0xb, graceful: false), http: HTTPFaultRule(mark: true)),
        FaultSpec(id: "ws", kind: .windowStall),
        FaultSpec(id: "ag", kind: .abort(HTTPAbort(status: 200, grpcStatus: 14, grpcMessage: "try later"))),
        FaultSpec(id: "ag2", kind: .abort(HTTPAbort(status: 503, grpcStatus: 2))),
    ]

    @Test(arguments: faults)
    func roundTripsThroughJSONText(fault: FaultSpec) throws {
        let text = JSONWriter.render(FaultEncoder.encode(fault))
        let parsed = try JSONParser.parse(text).get()
        let decoded = try FaultDecoder.decodeFault(parsed, path: "", knownRoutes: ["a", "b"]).get()
        #expect(decoded == fault)
    }

    @Test func exactJSON() {
        #expect(JSONWriter.render(FaultEncoder.encode(Self.faults[0]))
            == #"{"id":"l","type":"latency","route":"a","direction":"downstream","probability":0.5,"delay":"100ms","jitter":"10ms","distribution":"normal"}"#)
        #expect(JSONWriter.render(FaultEncoder.encode(Self.faults[1]))
            == #"{"id":"bw","type":"bandwidth","route":["a","b"],"direction":"both","probability":1.0,"bytes_per_second":1000000}"#)
        #expect(JSONWriter.render(FaultEncoder.encode(Self.faults[5]))
            == #"{"id":"r1","type":"reset","route":"*","direction":"both","probability":1.0,"after":"1m30s"}"#)
        #expect(JSONWriter.render(FaultEncoder.encode(Self.faults[6]))
            == #"{"id":"r2","type":"reset","route":"*","direction":"both","probability":1.0,"after":"0s","after_bytes":4096}"#)
        #expect(JSONWriter.render(FaultEncoder.encode(Self.faults[11]))
            == #"{"id":"cd","type":"connect_delay","route":"*","direction":"both","probability":1.0,"delay":"1.500000001s"}"#)
    }

    @Test func partitionJSON() {
        #expect(JSONWriter.render(FaultEncoder.encode(Self.faults[13]))
            == #"{"id":"p1","type":"partition","route":"*","groups":[["n1"],["n2","n3"]],"mode":"reset","one_way":true}"#)
        #expect(JSONWriter.render(FaultEncoder.encode(Self.faults[14]))
            == #"{"id":"p2","type":"partition","route":"a","kind":"isolate","node":"n2","mode":"blackhole","one_way":false}"#)
    }

    @Test func httpJSON() {
        #expect(JSONWriter.render(FaultEncoder.encode(Self.faults[16]))
            == #"{"id":"ab","type":"abort","route":"a","probability":0.5,"status":503,"body":"nope","headers":{"Retry-After":"1"},"match":{"method":["POST","PUT"],"path":"/pay","headers":{"x-tenant":"*"}},"attempts":{"key":"header:idempotency-key","first":2},"mark":true}"#)
        #expect(JSONWriter.render(FaultEncoder.encode(Self.faults[19]))
            == #"{"id":"du","type":"duplicate","route":"*","probability":1.0,"copies":3,"spacing":"10ms","mark":true}"#)
    }

    @Test func http2AndGRPCJSON() {
        func json(_ id: String) -> String {
            JSONWriter.render(FaultEncoder.encode(Self.faults.first { $0.id == id }!))
        }
        #expect(json("rs")
            == #"{"id":"rs","type":"rst_stream","route":"a","probability":0.25,"error_code":"REFUSED_STREAM","match":{"path":"/pkg.Svc/Call"},"attempts":{"key":"path","first":3},"mark":false}"#)
        #expect(json("rs2") == #"{"id":"rs2","type":"rst_stream","route":"*","probability":1.0,"error_code":3735928559,"mark":false}"#,
                "a code without a name is written as its number")
        #expect(json("ga")
            == #"{"id":"ga","type":"goaway","route":"*","probability":1.0,"error_code":"ENHANCE_YOUR_CALM","graceful":false,"mark":true}"#)
        #expect(json("ws") == #"{"id":"ws","type":"window_stall","route":"*","probability":1.0,"mark":false}"#)
        #expect(json("ag")
            == #"{"id":"ag","type":"abort","route":"*","probability":1.0,"status":200,"body":"","headers":{},"grpc_status":"UNAVAILABLE","grpc_message":"try later","mark":false}"#)
        #expect(json("ab").contains("grpc") == false, "a plain abort writes no grpc keys")
    }

    @Test func everyTypeIsInTheRoundTripTable() {
        #expect(Set(Self.faults.map(\.kind.typeName)) == Set(FaultKind.typeNames))
    }
}
