import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import Synchronization
import XCTest

/// An `http` route with no fault (SPEC §3.3, docs/HTTP.md): keep-alive, pipelining, bodies in
/// both framings, interim answers, bodiless answers, upgrades and tunnels, all byte-exact.
final class HTTPRouteTests: HTTPRouteTestCase {
    /// Issue acceptance: 1,000 keep-alive requests on 20 connections, random bodies (every third
    /// chunked, 25 of 1–4 MB, most small): each request body's SHA-256 at the upstream and each
    /// `/echo` answer's at the client equal what the client sent; each client connection is one
    /// upstream connection carrying its 50 requests in order.
    func testThousandKeepAliveRequestsOnTwentyConnectionsByteExact() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let web = try daemon.route()
        let connections = 20
        let perConnection = 50
        let plan = KeepAlivePlan(connections: connections, perConnection: perConnection, seed: 2026)
        XCTAssertEqual(plan.items.filter { $0.size >= 1 << 20 }.count, 25)
        XCTAssertGreaterThan(plan.items.filter { $0.size < 2000 }.count, 600, "most bodies are small")
        let failures = Mutex<[String]>([])
        let sentSHA = Mutex<[String: String]>([:])

        let (_, seconds) = timed {
            let handles = (0..<connections).map { conn in
                Threads.spawn(name: "ka-\(conn)") {
                    do {
                        let client = try HTTPTestConnection(to: web)
                        for item in plan.items where item.connection == conn {
                            let body = SplitMix64.bytes(count: item.size, seed: item.seed)
                            let sha = SHA256.hex(body)
                            sentSHA.withLock { $0[item.id] = sha }
                            let request = HTTPTestRequest(item.method, "/echo", fields: [HTTPField("X-Req", item.id)], body: body, chunked: item.chunkSizes)
                            let answer = try client.exchange(request, timeout: .seconds(60))
                            if answer.status != 200 || answer.bodySHA256 != sha || answer.header("x-body-sha256") != sha {
                                failures.withLock { $0.append("\(item.id): \(answer.status), \(answer.body.count) of \(item.size) bytes, sha match \(answer.bodySHA256 == sha), header \(answer.header("x-body-sha256") ?? "nil")") }
                            }
                        }
                    } catch {
                        failures.withLock { $0.append("connection \(conn): \(error)") }
                    }
                }
            }
            for handle in handles { handle.join() }
        }
        let failed = failures.withLock { $0 }
        XCTAssertEqual(failed.count, 0, "\(failed.count) failures, the first: \(failed.prefix(5))")
        let seen = upstream.requests
        XCTAssertEqual(seen.count, connections * perConnection)
        guard seen.count == connections * perConnection else { return }
        let expected = sentSHA.withLock { $0 }
        var mismatched: [String] = []
        for request in seen {
            guard let id = request.header("x-req"), let item = plan.byID[id] else {
                mismatched.append("unknown request \(request)")
                continue
            }
            if request.bodySHA256 != expected[id] || request.bodyLength != item.size { mismatched.append("\(id): body differs at the upstream") }
            if request.chunked != (item.chunkSizes != nil) { mismatched.append("\(id): framing changed (chunked \(request.chunked))") }
        }
        XCTAssertEqual(mismatched.count, 0, "the first: \(mismatched.prefix(5))")
        for conn in 0..<connections {
            let mine = seen.filter { $0.header("x-req")?.hasPrefix("c\(conn)-") == true }
            XCTAssertEqual(Set(mine.map(\.connection)).count, 1, "client connection \(conn) used more than one upstream connection")
            XCTAssertEqual(mine.map { $0.header("x-req") ?? "" }, (0..<perConnection).map { "c\(conn)-\($0)" }, "order on connection \(conn)")
        }
        XCTAssertEqual(upstream.connectionsAccepted, connections)
        XCTAssertEqual(upstream.rejections.count, 0, "\(upstream.rejections)")
        XCTAssertLessThan(seconds, 120, "1,000 requests took \(seconds) s")
        let total = plan.items.map(\.size).reduce(0, +)
        print("[http] 1000 keep-alive requests on 20 connections, \(total) body bytes each way, \(String(format: "%.1f", seconds)) s")
    }

    /// Ten requests written in one go on one socket (bodies, chunked, HEAD, 204, 304, a chunked
    /// answer among them): ten answers, in request order, each its own.
    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let client = try HTTPTestConnection(to: try daemon.route())
        let bodies = (0..<10).map { SplitMix64.bytes(count: [0, 10_000, 5_000, 0, 0, 0, 0, 300_000, 0, 0][$0], seed: UInt64(100 + $0)) }
        let requests = [
            HTTPTestRequest("GET", "/p/0"),
            HTTPTestRequest("POST", "/p/1", body: bodies[1]),
            HTTPTestRequest("POST", "/echo", body: bodies[2], chunked: [100, 1000]),
            HTTPTestRequest("HEAD", "/big?size=5000"),
            HTTPTestRequest("GET", "/status/204"),
            HTTPTestRequest("GET", "/chunked?size=30000"),
            HTTPTestRequest("GET", "/status/304"),
            HTTPTestRequest("PUT", "/echo", body: bodies[7]),
            HTTPTestRequest("GET", "/p/8"),
            HTTPTestRequest("GET", "/p/9"),
        ]
        let sender = BackgroundSender(client.socket, requests.flatMap(\.serialized))
        var answers: [HTTPTestResponse] = []
        for request in requests {
            answers.append(try client.readResponse(to: request.method, timeout: .seconds(20)))
        }
        XCTAssertNil(sender.finish())
        XCTAssertEqual(answers.map(\.status), [200, 200, 200, 200, 204, 200, 304, 200, 200, 200])
        XCTAssertEqual(answers.map { $0.header("x-upstream-req") }, (0..<10).map { String($0) }, "answers out of order")
        XCTAssertEqual(answers[0].text, "GET /p/0\n")
        XCTAssertEqual(answers[1].text, "POST /p/1\n")
        XCTAssertEqual(answers[2].body, bodies[2])
        XCTAssertEqual(answers[3].header("content-length"), "5000")
        XCTAssertEqual(answers[3].body, [])
        XCTAssertEqual(answers[5].body, SplitMix64.bytes(count: 30000, seed: 30000))
        XCTAssertEqual(answers[7].bodySHA256, SHA256.hex(bodies[7]))
        XCTAssertEqual(answers[9].text, "GET /p/9\n")
        XCTAssertEqual(client.next(timeout: .milliseconds(300)), .timedOut, "no stray bytes after the last answer")
        XCTAssertEqual(upstream.requests.map(\.target), requests.map(\.target))
        XCTAssertEqual(Set(upstream.requests.map(\.connection)), [0])
    }

    /// Issue acceptance: after `101 Switching Protocols` the connection is a byte relay: 1 MiB of
    /// random bytes sent comes back byte-exact (SHA-256), and the client's FIN ends it cleanly.
    func testWebSocketUpgradeIsRelayedByteExactAfterThe101() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let client = try HTTPTestConnection(to: try daemon.route())
        let upgrade = try client.exchange(HTTPTestRequest("GET", "/ws", fields: [
            HTTPField("Upgrade", "websocket"), HTTPField("Connection", "Upgrade"),
            HTTPField("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), HTTPField("Sec-WebSocket-Version", "13"),
        ]))
        XCTAssertEqual(upgrade.status, 101)
        XCTAssertEqual(upgrade.header("upgrade"), "websocket")
        let payload = SplitMix64.bytes(count: 1 << 20, seed: 77)
        let sender = BackgroundSender(client.socket, payload)
        let back = try client.readBytes(payload.count, timeout: .seconds(30))
        XCTAssertNil(sender.finish())
        XCTAssertEqual(back.count, payload.count)
        XCTAssertEqual(SHA256.hex(back), SHA256.hex(payload))
        try client.socket.shutdownWrite()
        XCTAssertEqual(client.next(timeout: .seconds(3)), .eof, "the upstream's FIN after the client's")
        XCTAssertEqual(upstream.requests.count, 1)
        XCTAssertEqual(try daemon.metric("faultline_http_requests_total", ["route": "web", "code": "101"], settlesAt: 1), 1)
    }

    /// CONNECT: after the upstream's 200 the connection is a byte relay.
    func testConnectTunnelIsRelayedByteExact() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let client = try HTTPTestConnection(to: try daemon.route())
        let connect = try client.exchange(HTTPTestRequest("CONNECT", "db.internal:5432", fields: [HTTPField("Host", "db.internal:5432")]))
        XCTAssertEqual(connect.status, 200)
        let payload = SplitMix64.bytes(count: 200_000, seed: 78)
        let sender = BackgroundSender(client.socket, payload)
        XCTAssertEqual(SHA256.hex(try client.readBytes(payload.count)), SHA256.hex(payload))
        XCTAssertNil(sender.finish())
    }

    /// Bytes no fault touched are forwarded unchanged: a request head with odd case, spacing and
    /// a repeated field reaches the upstream byte for byte, and so does `/raw`'s answer head.
    func testUntouchedHeadsAreForwardedByteForByte() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let client = try HTTPTestConnection(to: try daemon.route())
        let head = Array("GET /odd?q=1&r=%20 HTTP/1.1\r\nhOsT: 127.0.0.1\r\nX-Spaced:    a  b   \t\r\nx-rep: 1\r\nX-REP:2\r\nX-Empty:\r\n\r\n".utf8)
        try client.send(raw: head)
        let answer = try client.readResponse()
        XCTAssertEqual(answer.text, "GET /odd?q=1&r=%20\n")
        XCTAssertEqual(upstream.requests.first.map { String(decoding: $0.rawHead, as: UTF8.self) }, String(decoding: head, as: UTF8.self))
        let raw = try client.exchange(HTTPTestRequest("GET", "/raw"))
        XCTAssertEqual(String(decoding: raw.rawHead, as: UTF8.self),
                       "HTTP/1.1 200 Quite OK\r\nX-MiXeD-CaSe:   spaced   value \t\r\nx-dup: 1\r\nX-Dup:2\r\nX-Empty:\r\nContent-Length: 4\r\n\r\n")
        XCTAssertEqual(raw.text, "raw!")
    }

    /// `Expect: 100-continue`: the upstream's `100 Continue` reaches the client before it sends
    /// the body; the final answer follows on the same connection, which stays usable.
    func testExpectContinueInterimAnswerIsPassedOn() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let client = try HTTPTestConnection(to: try daemon.route())
        let body = SplitMix64.bytes(count: 200_000, seed: 79)
        let request = HTTPTestRequest("POST", "/echo", fields: [HTTPField("Expect", "100-continue")], body: body)
        try client.send(raw: request.head)
        let interim = try client.readResponse(to: "POST", timeout: .seconds(3), stopAtInterim: true)
        XCTAssertEqual(interim.status, 100)
        try client.send(raw: request.framedBody)
        let final = try client.readResponse(to: "POST")
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.bodySHA256, SHA256.hex(body))
        XCTAssertEqual(try client.exchange(HTTPTestRequest("GET", "/after")).text, "GET /after\n")
        XCTAssertEqual(upstream.requests.first?.bodySHA256, SHA256.hex(body))
    }

    /// A chunked answer passes with its chunking and trailer; an EOF-delimited one ends at the
    /// upstream's close; HTTP/1.0 without keep-alive closes after its answer.
    func testChunkedTrailersEOFDelimitedAndHTTP10Answers() throws {
        let upstream = try HTTPUpstream()
        let daemon = try startHTTPDaemon(upstream: upstream.endpoint)
        let client = try HTTPTestConnection(to: try daemon.route())
        let chunked = try client.exchange(HTTPTestRequest("GET", "/chunked?size=1500000&seed=5"))
        XCTAssertTrue(chunked.chunked)
        XCTAssertEqual(chunked.body.count, 1_500_000)
        XCTAssertEqual(chunked.bodySHA256, SHA256.hex(SplitMix64.bytes(count: 1_500_000, seed: 5)))
        XCTAssertEqual(chunked.trailers, [HTTPField("x-checksum", chunked.bodySHA256)])
        let untilClose = try client.exchange(HTTPTestRequest("GET", "/eof?size=100000"))
        XCTAssertEqual(untilClose.bodySHA256, SHA256.hex(SplitMix64.bytes(count: 100_000, seed: 100_000)))

        let old = try HTTPTestConnection(to: try daemon.route())
        let answer = try old.exchange(HTTPTestRequest("GET", "/old", version: "HTTP/1.0"))
        XCTAssertEqual(answer.text, "GET /old\n")
        XCTAssertEqual(old.next(timeout: .seconds(3)), .eof)
    }
}

/// The requests of the 1,000-request run, drawn from a seed.
struct KeepAlivePlan: Sendable {
    struct Item: Sendable {
        var connection: Int
        var index: Int
        var method: String
        var size: Int
        var seed: UInt64
        /// nil: Content-Length.
        var chunkSizes: [Int]?
        var id: String { "c\(connection)-\(index)" }
    }

    let items: [Item]
    let byID: [String: Item]

    init(connections: Int, perConnection: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var items: [Item] = []
        for connection in 0..<connections {
            for index in 0..<perConnection {
                let k = connection * perConnection + index
                let size: Int
                if k % 40 == 17 {
                    size = (1 << 20) + Int(rng.next() % UInt64(3 << 20))
                } else if rng.nextUnit() < 0.15 {
                    size = 2000 + Int(rng.next() % 200_000)
                } else {
                    size = Int(rng.next() % 2000)
                }
                let chunked = k % 3 == 1 && size > 0
                let chunkSizes = chunked ? (0..<4).map { _ in 1 + Int(rng.next() % 40_000) } : nil
                let method = size == 0 ? "GET" : (k % 2 == 0 ? "POST" : "PUT")
                items.append(Item(connection: connection, index: index, method: method, size: size, seed: seed &+ UInt64(k), chunkSizes: chunkSizes))
            }
        }
        self.items = items
        byID = Dictionary(uniqueKeysWithValues: items.map { ($0.id, $0) })
    }
}
