import FaultlineCore
import FaultlineHTTP2
@testable import FaultlineProxy
import Testing

/// Drives an `H2Bridge` without a worker: a test client session and a test upstream session
/// (both nghttp2) exchange bytes with it through memory, and the clock is the harness's.
final class BridgeHarness {
    let bridge: H2Bridge
    let client: H2Session
    let upstream: H2Session
    var now: UInt64 = 1_000_000_000
    var attempts = SessionHarness.CountingFake()
    /// Events each test peer saw, in order.
    var clientEvents: [H2Event] = []
    var upstreamEvents: [H2Event] = []
    /// When set, the test upstream answers with this many bytes instead of the path.
    var answerSize: Int?
    /// When set, the test upstream sends this 1xx head before each answer.
    var informational: [H2Field]?

    init(faults: [FaultSpec]) throws {
        bridge = try H2Bridge(routeName: "web", serial: 1, faults: faults, logging: true)
        bridge.upstreamPhase = .connected
        client = try H2Session(role: .client)
        upstream = try H2Session(role: .server)
    }

    /// Moves bytes every way until nothing moves.
    func pump() throws {
        for _ in 0..<200 {
            var moved = false
            var bytes: [UInt8] = []
            try client.send(into: &bytes, limit: 1 << 20)
            if !bytes.isEmpty {
                moved = true
                #expect(bytes.withUnsafeBytes { bridge.receiveFromClient($0, now: now) })
            }
            bytes = []
            // The test upstream's connection exists once the bridge dialled it.
            if bridge.upstream != nil { try upstream.send(into: &bytes, limit: 1 << 20) }
            if !bytes.isEmpty {
                moved = true
                #expect(bytes.withUnsafeBytes { bridge.receiveFromUpstream($0, now: now) })
            }
            let faults = bridge.faults
            var counting = attempts
            if bridge.advance(now: now, decide: { facts, index in
                HTTPFaultDecider.decide(
                    faults: faults, request: facts, seed: 7, serial: 1, requestIndex: index, attempts: &counting, http2: true)
            }) { moved = true }
            attempts = counting
            var toClient: [UInt8] = []
            var toUpstream: [UInt8] = []
            bridge.flush(toClient: &toClient, clientLimit: 1 << 20, toUpstream: &toUpstream, upstreamLimit: 1 << 20, now: now)
            if !toClient.isEmpty {
                moved = true
                #expect(client.receive(toClient) == nil)
            }
            if !toUpstream.isEmpty {
                moved = true
                #expect(upstream.receive(toUpstream) == nil)
            }
            let forClient = client.takeEvents()
            clientEvents += forClient
            let fresh = upstream.takeEvents()
            upstreamEvents += fresh
            // Both test peers read at once: they credit every body byte they get.
            for event in forClient { if case .data(let id, let bytes) = event { client.consume(stream: id, count: bytes.count) } }
            for event in fresh { if case .data(let id, let bytes) = event { upstream.consume(stream: id, count: bytes.count) } }
            answerUpstream(fresh)
            if !moved && !bridge.server.hasEvents && !(bridge.upstream?.hasEvents ?? false) { return }
        }
        Issue.record("the harness did not settle")
    }

    /// The test upstream answers every request when it ended: 200 with its path as the body.
    private func answerUpstream(_ events: [H2Event]) {
        for event in events {
            var stream: Int32?
            switch event {
            case .head(let id, _, let endStream) where endStream: stream = id
            case .end(let id): stream = id
            default: break
            }
            guard let stream else { continue }
            let path = pathOf(stream) ?? "?"
            if let informational { try? upstream.submitInformational(stream: stream, informational) }
            try? upstream.submitResponse(stream: stream, [H2Field(":status", "200")], endStream: false)
            upstream.appendBody(stream: stream, answerSize.map { [UInt8](repeating: 7, count: $0) } ?? Array(path.utf8))
            upstream.endBody(stream: stream)
        }
    }

    private func pathOf(_ stream: Int32) -> String? {
        for event in upstreamEvents {
            if case .head(stream, let fields, _) = event { return fields.value(of: ":path") }
        }
        return nil
    }

    /// Sends `GET path` from the test client; its stream id.
    @discardableResult
    func get(_ path: String) throws -> Int32 {
        try client.submitRequest(
            [H2Field(":method", "GET"), H2Field(":scheme", "http"), H2Field(":authority", "x"), H2Field(":path", path)],
            endStream: true)
    }

    /// Paths the upstream received, in order.
    var upstreamPaths: [String] {
        upstreamEvents.compactMap { event in
            if case .head(_, let fields, _) = event { return fields.value(of: ":path") }
            return nil
        }
    }

    func status(_ stream: Int32) -> String? {
        for event in clientEvents {
            if case .head(stream, let fields, _) = event { return fields.value(of: ":status") }
        }
        return nil
    }

    func body(_ stream: Int32) -> String {
        var bytes: [UInt8] = []
        for event in clientEvents {
            if case .data(stream, let chunk) = event { bytes += chunk }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The 1xx heads the client got on `stream`, and where each came among its events.
    func informational(_ stream: Int32) -> [(index: Int, fields: [H2Field])] {
        clientEvents.enumerated().compactMap { index, event in
            if case .informational(stream, let fields) = event { return (index, fields) }
            return nil
        }
    }

    /// Where the client's final head of `stream` came among its events.
    func headIndex(_ stream: Int32) -> Int? {
        clientEvents.firstIndex { event in
            if case .head(stream, _, _) = event { return true }
            return false
        }
    }

    func reset(_ stream: Int32) -> UInt32? {
        for event in clientEvents {
            if case .reset(stream, let code) = event { return code }
        }
        return nil
    }

    /// The timer is due: moves the clock there and lets the bridge act.
    func fireTimer() throws {
        guard let due = bridge.timerAt else { return }
        now = max(now, due)
        bridge.timerFired(now: now)
        try pump()
    }

    var completedCodes: [String] {
        bridge.takeEffects().completed.map(\.code)
    }
}

private func fault(_ id: String, _ kind: FaultKind, path: String) -> FaultSpec {
    FaultSpec(id: id, kind: kind, http: HTTPFaultRule(match: HTTPMatch(path: path)))
}

@Suite struct H2BridgeTests {
    @Test func aDelayedRequestWaitsWhileOtherStreamsGoOn() throws {
        let h = try BridgeHarness(faults: [fault("slow", .delay(delay: .milliseconds(200), jitter: .zero, phase: .request), path: "/slow")])
        let slow = try h.get("/slow")
        let fast = try h.get("/fast")
        try h.pump()
        #expect(h.upstreamPaths == ["/fast"])
        #expect(h.body(fast) == "/fast")
        #expect(h.status(slow) == nil)
        #expect(h.bridge.timerAt == 1_000_000_000 + 200_000_000)
        try h.fireTimer()
        #expect(h.upstreamPaths == ["/fast", "/slow"])
        #expect(h.body(slow) == "/slow")
    }

    @Test func aDelayedAnswerIsHeldFromItsHead() throws {
        let h = try BridgeHarness(faults: [fault("late", .delay(delay: .milliseconds(50), jitter: .zero, phase: .response), path: "/late")])
        let late = try h.get("/late")
        try h.pump()
        #expect(h.upstreamPaths == ["/late"])
        #expect(h.status(late) == nil)
        try h.fireTimer()
        #expect(h.status(late) == "200")
        #expect(h.body(late) == "/late")
    }

    @Test(arguments: [(DropThen.reset, UInt32(2), "reset"), (.close, 0, "closed")])
    func aDroppedAnswerNeverReachesTheClient(then: DropThen, code: UInt32, label: String) throws {
        let h = try BridgeHarness(faults: [fault("lost", .dropResponse(then: then), path: "/pay")])
        let pay = try h.get("/pay")
        let other = try h.get("/other")
        try h.pump()
        #expect(h.upstreamPaths == ["/pay", "/other"])
        #expect(h.status(pay) == nil)
        #expect(h.reset(pay) == code)
        #expect(h.body(other) == "/other")
        #expect(h.completedCodes.sorted() == ["200", label].sorted())
    }

    static let earlyHints = [H2Field(":status", "103"), H2Field("link", "</app.css>; rel=preload")]

    @Test func anInformationalAnswerReachesTheClientBeforeTheFinalOne() throws {
        let h = try BridgeHarness(faults: [])
        h.informational = Self.earlyHints
        let page = try h.get("/page")
        try h.pump()
        let hints = h.informational(page)
        #expect(hints.count == 1)
        #expect(hints.first?.fields.value(of: ":status") == "103")
        #expect(hints.first?.fields.value(of: "link") == "</app.css>; rel=preload")
        let head = try #require(h.headIndex(page))
        #expect(hints.allSatisfy { $0.index < head })
        #expect(h.status(page) == "200")
        #expect(h.body(page) == "/page")
        #expect(h.completedCodes == ["200"])
    }

    /// As on HTTP/1.1, a fault acts on the final answer: the 1xx goes on at once, ahead of a
    /// held answer and of a dropped one that hangs. (With `then: reset` or `close` in the same
    /// turn as the 1xx, nghttp2 drops the stream's queued HEADERS when the RST_STREAM is submitted:
    /// docs/HTTP2.md.)
    @Test func anInformationalAnswerIsNotHeldOrDroppedWithTheFinalOne() throws {
        let h = try BridgeHarness(faults: [
            fault("late", .delay(delay: .milliseconds(50), jitter: .zero, phase: .response), path: "/late"),
            fault("lost", .dropResponse(then: .hang), path: "/lost"),
        ])
        h.informational = Self.earlyHints
        let late = try h.get("/late")
        let lost = try h.get("/lost")
        try h.pump()
        #expect(h.informational(late).count == 1)
        #expect(h.status(late) == nil)
        #expect(h.informational(lost).count == 1)
        #expect(h.status(lost) == nil)
        #expect(h.reset(lost) == nil)
        try h.fireTimer()
        #expect(h.status(late) == "200")
        #expect(h.body(late) == "/late")
    }

    @Test func aHungAnswerLeavesTheStreamSilent() throws {
        let h = try BridgeHarness(faults: [fault("lost", .dropResponse(then: .hang), path: "/pay")])
        let pay = try h.get("/pay")
        try h.pump()
        #expect(h.upstreamPaths == ["/pay"])
        #expect(h.status(pay) == nil && h.reset(pay) == nil)
        #expect(h.completedCodes == ["hang"])
    }

    @Test func duplicateSendsCopiesAndPassesOnTheFirstAnswer() throws {
        let h = try BridgeHarness(faults: [fault("twice", .duplicate(copies: 2, spacing: .zero), path: "/pay")])
        let pay = try h.get("/pay")
        try h.pump()
        #expect(h.upstreamPaths == ["/pay", "/pay", "/pay"])
        #expect(h.body(pay) == "/pay")
        #expect(h.clientEvents.filter { if case .head = $0 { return true } else { return false } }.count == 1)
    }

    @Test func spacedCopiesWaitForTheTimer() throws {
        let h = try BridgeHarness(faults: [fault("twice", .duplicate(copies: 1, spacing: .milliseconds(100)), path: "/pay")])
        try h.get("/pay")
        try h.pump()
        #expect(h.upstreamPaths == ["/pay"])
        try h.fireTimer()
        #expect(h.upstreamPaths == ["/pay", "/pay"])
    }

    @Test func abortAnswersWithoutTheUpstreamAndMarks() throws {
        var spec = fault("down", .abort(HTTPAbort(status: 503, body: "no")), path: "/a")
        spec.http.mark = true
        let h = try BridgeHarness(faults: [spec])
        let a = try h.get("/a")
        try h.pump()
        #expect(h.upstreamPaths.isEmpty)
        #expect(h.status(a) == "503")
        #expect(h.body(a) == "no")
        let marked = h.clientEvents.contains { event in
            if case .head(a, let fields, _) = event { return fields.value(of: "x-faultline-fault") == "down" }
            return false
        }
        #expect(marked)
        // Nothing was forwarded, so nothing was dialled.
        #expect(h.bridge.upstream == nil)
    }

    @Test func aGRPCAbortIsTrailersOnly() throws {
        let h = try BridgeHarness(faults: [fault("outage", .abort(HTTPAbort(status: 200, grpcStatus: 14, grpcMessage: "down 100%")), path: "/pkg.S/M")])
        let call = try h.get("/pkg.S/M")
        try h.pump()
        let head = h.clientEvents.compactMap { event -> ([H2Field], Bool)? in
            if case .head(call, let fields, let end) = event { return (fields, end) }
            return nil
        }.first
        #expect(head?.0.value(of: ":status") == "200")
        #expect(head?.0.value(of: "content-type") == "application/grpc")
        #expect(head?.0.value(of: "grpc-status") == "14")
        #expect(head?.0.value(of: "grpc-message") == "down 100%25")
        #expect(head?.1 == true)
    }

    @Test func windowStallGivesTheCreditBackWhenCleared() throws {
        let stall = fault("stall", .windowStall, path: "/big")
        let h = try BridgeHarness(faults: [stall])
        let big = try h.client.submitRequest(
            [H2Field(":method", "POST"), H2Field(":scheme", "http"), H2Field(":authority", "x"), H2Field(":path", "/big")],
            endStream: false)
        h.client.appendBody(stream: big, [UInt8](repeating: 1, count: 600_000))
        h.client.endBody(stream: big)
        try h.pump()
        let received = { h.upstreamEvents.reduce(0) { total, event in
            if case .data(_, let bytes) = event { return total + bytes.count }
            return total
        } }
        let stalled = received()
        #expect(stalled < 600_000)
        #expect(h.client.pendingBody(stream: big) > 0)
        h.bridge.faultsChanged([])
        try h.pump()
        #expect(received() == 600_000)
        #expect(h.client.pendingBody(stream: big) == 0)
    }

    /// Every body byte is credited back to the upstream connection, also those that reach the
    /// client after the upstream's stream closed: 60 answers of 100 kB on one connection (more
    /// than its 4 MiB window) all arrive whole.
    @Test func theUpstreamConnectionWindowNeverLeaks() throws {
        let h = try BridgeHarness(faults: [])
        h.answerSize = 100_000
        for index in 0..<60 {
            let stream = try h.get("/file/\(index)")
            try h.pump()
            #expect(h.body(stream).utf8.count == 100_000, "answer \(index)")
        }
    }

    @Test func gracefulGoawayRefusesLaterStreams() throws {
        let h = try BridgeHarness(faults: [fault("bye", .goaway(errorCode: 11, graceful: true), path: "/bye")])
        let first = try h.get("/first")
        try h.get("/bye")
        try h.pump()
        let goaway = h.clientEvents.compactMap { event -> (Int32, UInt32)? in
            if case .goaway(let last, let code) = event { return (last, code) }
            return nil
        }.first
        #expect(goaway?.0 == first && goaway?.1 == 11)
        #expect(h.upstreamPaths == ["/first"])
        #expect(h.body(first) == "/first")
        #expect(h.bridge.closeWhenFlushed)
    }
}
