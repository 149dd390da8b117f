import FaultlineCore
import FaultlineLoop
@testable import FaultlineProxy
import Testing

/// Drives an `HTTPSession` without a worker: bytes go into two relay buffers as the relay would
/// read them, and the session's output queues are carried out into byte arrays, one per side.
final class SessionHarness {
    let pool = BufferPool(bufferSize: 64 * 1024)
    let clientPair: SocketPair
    let upstreamPair: SocketPair
    var clientBuffer = RelayBuffer()
    var upstreamBuffer = RelayBuffer()
    var session: HTTP1SessionStateMachine
    /// What the upstream and the client received.
    var toUpstream: [UInt8] = []
    var toClient: [UInt8] = []
    var clientEnded = false
    var upstreamEnded = false
    var now: UInt64 = 1_000_000_000
    var attempts = CountingFake()

    struct CountingFake: AttemptCounting {
        var counts: [String: Int] = [:]
        mutating func record(fault: FaultSpec, key: String) -> Int {
            counts[fault.id + "/" + key, default: 0] += 1
            return counts[fault.id + "/" + key]!
        }
    }

    init(faults: [FaultSpec] = [], seed: UInt64 = 1) throws {
        clientPair = try SocketPair()
        upstreamPair = try SocketPair()
        session = HTTP1SessionStateMachine(routeName: "web", serial: 0, faults: faults)
        self.seed = seed
    }

    let seed: UInt64

    func client(_ text: String) throws {
        _ = try clientPair.fill(&clientBuffer, with: Array(text.utf8), pool: pool)
        step()
    }

    func upstream(_ text: String) throws {
        _ = try upstreamPair.fill(&upstreamBuffer, with: Array(text.utf8), pool: pool)
        step()
    }

    /// Advances both directions and carries out every op, as the worker would with sockets that
    /// always take everything.
    func step() {
        var moved = true
        while moved {
            moved = false
            let faults = session.faults
            let seed = self.seed
            var attempts = self.attempts
            if session.advanceRequests(clientBuffer, ended: clientEnded, now: now, decide: { facts, index in
                HTTPFaultDecider.decide(
                    faults: faults, request: facts, seed: seed, serial: 0, requestIndex: index, attempts: &attempts)
            }) { moved = true }
            self.attempts = attempts
            if session.advanceResponses(upstreamBuffer, ended: upstreamEnded, now: now) { moved = true }
            if session.effects.dial {
                session.effects.dial = false
                session.upstream = .connected
            }
            if carryOut(&session.toUpstream, &clientBuffer, clientPair, into: &toUpstream) { moved = true }
            if carryOut(&session.toClient, &upstreamBuffer, upstreamPair, into: &toClient) { moved = true }
        }
    }

    private func carryOut(
        _ queue: inout OutputQueue, _ buffer: inout RelayBuffer, _ pair: borrowing SocketPair, into out: inout [UInt8]
    ) -> Bool {
        var moved = false
        while let op = queue.first {
            switch op {
            case .relay(let n):
                out += (try? pair.drain(&buffer, count: n)) ?? []
                queue.consumed(n)
            case .discard(let n):
                buffer.discard(n)
                queue.consumed(n)
            case .inject(let bytes, let offset):
                out += bytes[offset...]
                queue.injected(bytes.count - offset)
            }
            moved = true
        }
        return moved
    }

    var upstreamText: String { String(decoding: toUpstream, as: UTF8.self) }
    var clientText: String { String(decoding: toClient, as: UTF8.self) }
}

@Suite("HTTP1SessionStateMachine")
struct HTTPSessionTests {
    static let get = "GET /a HTTP/1.1\r\nHost: x\r\nX-Mixed-Case:  spaced \r\n\r\n"
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"

    static func fault(_ id: String, _ kind: FaultKind, match: HTTPMatch? = nil, attempts: Attempts? = nil, mark: Bool = false) -> FaultSpec {
        FaultSpec(id: id, kind: kind, http: HTTPFaultRule(match: match, attempts: attempts, mark: mark))
    }

    @Test("Unfaulted keep-alive exchange: bytes pass unchanged both ways; a pipelined request waits its turn")
    func passthrough() throws {
        let h = try SessionHarness()
        try h.client(Self.get + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h.upstreamText == Self.get, "only the first request goes before its answer")
        #expect(h.session.exchange != nil)
        try h.upstream(Self.ok)
        #expect(h.clientText == Self.ok)
        #expect(h.upstreamText == Self.get + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n", "the second follows the first answer")
        try h.upstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nT: v\r\n\r\n")
        #expect(h.clientText == Self.ok + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nT: v\r\n\r\n")
        #expect(h.session.exchange == nil)
        #expect(h.session.effects.completed.map(\.code) == ["200", "200"])
    }

    @Test("abort: the upstream sees nothing and is not dialled; the reply has status, body, headers and the mark")
    func abort() throws {
        let h = try SessionHarness(faults: [
            Self.fault("nope", .abort(HTTPAbort(status: 503, body: "down", headers: [HTTPHeaderPair("retry-after", "1")])), mark: true),
        ])
        try h.client("POST /pay HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        #expect(h.toUpstream.isEmpty)
        #expect(h.session.upstream == .none)
        #expect(h.clientText == "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 4\r\nx-faultline-fault: nope\r\n\r\ndown")
        #expect(h.session.exchange == nil, "the body was read and dropped; the connection is ready for more")
        #expect(h.session.effects.injections.map(\.faultID) == ["nope"])
        #expect(h.session.effects.journal.first?.event == "http.fault")
    }

    @Test("match: only POST /pay is aborted; a GET passes")
    func matching() throws {
        let h = try SessionHarness(faults: [
            Self.fault("pay", .abort(HTTPAbort(status: 500)), match: HTTPMatch(methods: ["POST"], path: "/pay")),
        ])
        try h.client(Self.get)
        #expect(h.upstreamText == Self.get)
        try h.upstream(Self.ok)
        try h.client("POST /pay HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(h.upstreamText == Self.get)
        #expect(h.clientText.hasSuffix("HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n"))
    }

    @Test("duplicate: the upstream sees 1 + copies requests; the client gets only the first answer, then its next own answer")
    func duplicate() throws {
        let h = try SessionHarness(faults: [Self.fault("dup", .duplicate(copies: 2, spacing: .zero))])
        let post = "POST /pay HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        try h.client(post)
        #expect(h.upstreamText == post + post + post)
        try h.upstream("HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n1")
        try h.upstream("HTTP/1.1 409 Conflict\r\nContent-Length: 1\r\n\r\n2HTTP/1.1 409 Conflict\r\nContent-Length: 1\r\n\r\n3")
        #expect(h.clientText == "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n1")
        #expect(h.session.exchange == nil)
    }

    @Test("drop_response close: the answer is dropped and the session asks to close after flushing")
    func dropResponse() throws {
        let h = try SessionHarness(faults: [Self.fault("drop", .dropResponse(then: .close))])
        try h.client(Self.get)
        #expect(h.upstreamText == Self.get)
        try h.upstream(Self.ok)
        #expect(h.toClient.isEmpty)
        #expect(h.session.effects.close == .afterFlush)
        #expect(h.session.effects.completed.map(\.code) == ["closed"])
    }

    @Test("delay request: nothing goes upstream until the timer fires; response delay holds the head")
    func delays() throws {
        let h = try SessionHarness(faults: [Self.fault("slow", .delay(delay: .milliseconds(200), jitter: .zero, phase: .request))])
        try h.client(Self.get)
        #expect(h.toUpstream.isEmpty)
        #expect(h.session.timerAt == h.now + 200_000_000)
        h.now += 200_000_000
        h.session.timerFired(now: h.now, h.clientBuffer)
        h.step()
        #expect(h.upstreamText == Self.get)

        let r = try SessionHarness(faults: [Self.fault("late", .delay(delay: .milliseconds(50), jitter: .zero, phase: .response), mark: true)])
        try r.client(Self.get)
        try r.upstream(Self.ok)
        #expect(r.toClient.isEmpty)
        r.now += 50_000_000
        r.session.timerFired(now: r.now, r.clientBuffer)
        r.step()
        #expect(r.clientText == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-faultline-fault: late\r\n\r\nhi")
    }

    @Test("A client that leaves while a delay holds its request: nothing goes upstream, aborted_by_client, close")
    func clientLeavesDuringHold() throws {
        let h = try SessionHarness(faults: [Self.fault("slow", .delay(delay: .seconds(30), jitter: .zero, phase: .request))])
        try h.client(Self.get)
        let left = h.session.clientLeftDuringHold(now: h.now + 1_000_000)
        #expect(left)
        #expect(h.session.effects.completed.map(\.code) == ["aborted_by_client"])
        #expect(h.session.effects.close == .afterFlush)
        #expect(h.session.timerAt == nil)
        h.step()
        #expect(h.toUpstream.isEmpty)
        let again = h.session.clientLeftDuringHold(now: h.now)
        #expect(!again, "once")
    }

    @Test("Smuggling attempts get 400 and reach nothing upstream")
    func smuggling() throws {
        for attack in [
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "GET / HTTP/1.1\nHost: x\r\n\r\n",
        ] {
            let h = try SessionHarness()
            try h.client(attack)
            #expect(h.toUpstream.isEmpty, "\(attack.debugDescription)")
            #expect(h.clientText.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
            #expect(h.session.effects.journal.map(\.event) == ["http.rejected"])
            #expect(h.session.effects.close == .afterFlush)
        }
    }

    @Test("attempts first 2: fail, fail, pass per key")
    func attempts() throws {
        let fault = Self.fault("flaky", .abort(HTTPAbort(status: 503)), attempts: Attempts(key: .header("idempotency-key"), first: 2))
        let h = try SessionHarness(faults: [fault])
        for round in 0..<3 {
            try h.client("POST /pay HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k1\r\n\r\n")
            if round == 2 { try h.upstream("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") }
        }
        let statuses = h.session.effects.completed.map(\.code)
        #expect(statuses == ["503", "503", "200"])
    }

    @Test("101 Switching Protocols turns both directions into a byte relay")
    func upgrade() throws {
        let h = try SessionHarness()
        let request = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        try h.client(request)
        try h.upstream("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{1}\u{2}")
        try h.client("raw \r\n not http")
        #expect(h.upstreamText == request + "raw \r\n not http")
        #expect(h.clientText.hasSuffix("\r\n\r\n\u{1}\u{2}"))
        #expect(h.session.tunnel)
    }
}
