import FaultlineConfig
import FaultlineControl
import FaultlineCore
import FaultlineHTTP1
import FaultlineMetrics
import FaultlineSystem
import Glibc
import Testing

/// The server over real sockets: a Unix socket in a temporary directory and TCP on 127.0.0.1:0.
@Suite(.serialized) struct ControlServerTests {
    final class Running {
        let directory: String
        let socketPath: String
        let plane = FakeDataPlane()
        let journal: Journal
        let server: ControlServer
        let addresses: ControlServer.Addresses

        init(token: String? = nil, options: ControlServer.Options = ControlServer.Options(requestTimeout: .milliseconds(300), lingerTimeout: .milliseconds(200)),
             configFile: String? = nil) throws {
            directory = try temporaryDirectory()
            socketPath = directory + "/control.sock"
            var tokenLine = ""
            if let token {
                let tokenPath = directory + "/token"
                try writeFile(tokenPath, token + "\n")
                tokenLine = #", "token_file": "\#(tokenPath)""#
            }
            let json = """
                {"version": 1, "seed": 7,
                 "control": {"unix_socket": "\(socketPath)", "http_listen": "127.0.0.1:0"\(tokenLine)},
                 "metrics_listen": "127.0.0.1:0",
                 "routes": [{"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9001"}],
                 "faults": [{"id": "slow", "route": "a", "type": "latency", "delay": "100ms"}]}
                """
            let configPath = directory + "/config.json"
            try writeFile(configPath, configFile ?? json)
            journal = try Journal(path: directory + "/journal.jsonl", log: Logger(minimumLevel: .error))
            let registry = MetricsRegistry()
            let metrics = ControlMetrics()
            metrics.register(into: registry)
            server = ControlServer(
                config: decodeConfig(json), configPath: configPath, dataPlane: plane, journal: journal, registry: registry,
                metrics: metrics, version: "0.0.1", log: Logger(minimumLevel: .error), options: options
            )
            addresses = try server.start()
        }

        deinit { server.stop() }

        var tcpPort: UInt16 { addresses.http!.port }
        func unixClient() throws -> TestClient { try TestClient(unixPath: socketPath) }
        func tcpClient() throws -> TestClient { try TestClient(port: tcpPort) }
    }

    @Test func theSocketIsPrivateAndRemovedOnStop() throws {
        let running = try Running()
        var info = stat()
        #expect(lstat(running.socketPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        running.server.stop()
        #expect(lstat(running.socketPath, &info) != 0)
    }

    @Test func aStaleSocketFileIsReplacedAndALiveOneIsNot() throws {
        let running = try Running()
        // A second server on the same path must refuse: the first is alive.
        let second = ControlServer(
            config: decodeConfig(#"{"version": 1, "control": {"unix_socket": "\#(running.socketPath)"}}"#), configPath: "/dev/null",
            dataPlane: FakeDataPlane(), journal: try Journal(path: nil, log: Logger(minimumLevel: .error)), registry: MetricsRegistry(),
            metrics: ControlMetrics(), version: "0", log: Logger(minimumLevel: .error)
        )
        #expect(throws: ControlServerError.self) { try second.start() }
        #expect(try running.unixClient().request("GET", "/v1/status")?.status == 200)

        // A leftover socket file with no listener is replaced.
        let stalePath = running.directory + "/stale.sock"
        do {
            let listener = try Posix.listen(at: SocketAddress(unixPath: stalePath), reusePort: false)
            listener.close()
        }
        let third = ControlServer(
            config: decodeConfig(#"{"version": 1, "control": {"unix_socket": "\#(stalePath)"}}"#), configPath: "/dev/null",
            dataPlane: FakeDataPlane(), journal: try Journal(path: nil, log: Logger(minimumLevel: .error)), registry: MetricsRegistry(),
            metrics: ControlMetrics(), version: "0", log: Logger(minimumLevel: .error)
        )
        try third.start()
        #expect(try TestClient(unixPath: stalePath).request("GET", "/v1/status")?.status == 200)
        third.stop()
    }

    @Test func servesTheAPIOnBothListenersWithKeepAlive() throws {
        let running = try Running()
        let unix = try running.unixClient()
        let status = try unix.request("GET", "/v1/status")
        #expect(status?.status == 200)
        #expect(status?.head.headers["Content-Type"] == "application/json")
        let tcp = try running.tcpClient()
        let created = try tcp.request("POST", "/v1/faults", body: #"{"id": "cut", "type": "blackhole", "route": "a"}"#)
        #expect(created?.status == 201)
        #expect(created?.text == #"{"id":"cut","type":"blackhole","route":"a","direction":"both","probability":1.0}"# + "\n")
        // The fault is in force when the answer arrives.
        #expect(running.plane.lastPlan?.route(named: "a")?.faults.map(\.id) == ["slow", "cut"])
        // Same connection, next request.
        #expect(try tcp.request("GET", "/v1/faults/cut")?.status == 200)
        #expect(try unix.request("DELETE", "/v1/faults/cut")?.status == 204)
        #expect(try unix.request("GET", "/v1/faults/cut")?.status == 404)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let running = try Running()
        let client = try running.unixClient()
        try client.send("GET /v1/routes/a HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/faults HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse()?.status == 200)
        #expect(try client.readResponse()?.status == 404)
        #expect(try client.readResponse()?.status == 200)
    }

    @Test func errorCodesOverTheWire() throws {
        let running = try Running()
        let client = try running.unixClient()
        let malformed = try client.request("POST", "/v1/faults", body: "{not json")
        #expect(malformed?.status == 400)
        #expect(malformed?.text.contains("\"code\":\"malformed_json\"") == true)
        let unknown = try client.request("POST", "/v1/faults", body: #"{"type": "stall", "colour": "red"}"#)
        #expect(unknown?.status == 422)
        #expect(unknown?.text.contains(#""path":"colour""#) == true)
        #expect(try client.request("POST", "/v1/faults", body: #"{"id": "slow", "type": "stall"}"#)?.status == 409)
        #expect(try client.request("PUT", "/v1/status")?.head.headers["Allow"] == "GET")
        #expect(try client.request("GET", "/v1/report")?.status == 400)
    }

    @Test func anOversizeBodyGets413AndTheConnectionCloses() throws {
        let running = try Running()
        let client = try running.unixClient()
        try client.send("POST /v1/faults HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
        let response = try client.readResponse()
        #expect(response?.status == 413)
        #expect(response?.head.headers["Connection"] == "close")
        #expect(response?.text.contains("body_too_large") == true)
        #expect(client.waitForClose())
    }

    @Test func anOversizeChunkedBodyGets413() throws {
        let running = try Running()
        let client = try running.tcpClient()
        try client.send("POST /v1/faults HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = [UInt8](repeating: 0x61, count: 600_000)
        var message: [UInt8] = []
        HTTP1Serializer.appendChunk(chunk, to: &message)
        HTTP1Serializer.appendChunk(chunk, to: &message)
        try client.send(message)
        #expect(try client.readResponse()?.status == 413)
    }

    @Test func anOversizeHeadGets431() throws {
        let running = try Running()
        let client = try running.unixClient()
        try client.send("GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 17_000) + "\r\n\r\n")
        #expect(try client.readResponse()?.status == 431)
        #expect(client.waitForClose())
    }

    @Test func bareLineFeedsAre400() throws {
        let running = try Running()
        let client = try running.tcpClient()
        try client.send("GET /v1/status HTTP/1.1\nHost: x\n\n")
        let response = try client.readResponse()
        #expect(response?.status == 400)
        #expect(response?.text.contains("line ends in LF without CR") == true)
    }

    @Test func aSlowDripHeadTimesOutWith408() throws {
        let running = try Running()
        let client = try running.unixClient()
        let started = Linux.monotonicNanoseconds()
        // Ten bytes 20 ms apart end well before the 300 ms head timeout; dripping past it would
        // race the server's close (a send after it fails with EPIPE on a loaded machine).
        for byte in Array("GET /v1/status HTTP/1.1\r\n".utf8).prefix(10) {
            try client.send([byte])
            Linux.sleep(nanoseconds: 20_000_000)
        }
        let response = try client.readResponse(timeoutMilliseconds: 3000)
        let elapsed = Double(Linux.monotonicNanoseconds() - started) / 1e9
        #expect(response?.status == 408)
        #expect(response?.text.contains("request_timeout") == true)
        // Tolerance: 300 ms timeout, the loop's timer fires within a few ms.
        #expect(elapsed >= 0.3 && elapsed < 2.0)
        #expect(client.waitForClose())
    }

    @Test func anIdleKeepAliveConnectionIsNotTimedOutByTheRequestTimer() throws {
        let running = try Running()
        let client = try running.unixClient()
        #expect(try client.request("GET", "/v1/status")?.status == 200)
        Linux.sleep(nanoseconds: 500_000_000)
        #expect(try client.request("GET", "/v1/status")?.status == 200)
    }

    @Test func http10AndConnectionCloseAreHonoured() throws {
        let running = try Running()
        let old = try running.unixClient()
        try old.send("GET /v1/status HTTP/1.0\r\n\r\n")
        #expect(try old.readResponse()?.status == 200)
        #expect(old.waitForClose())
        let closing = try running.unixClient()
        #expect(try closing.request("GET", "/v1/status", headers: ["Connection": "close"])?.head.headers["Connection"] == "close")
        #expect(closing.waitForClose())
    }

    @Test func aBearerTokenGuardsTheTCPListener() throws {
        let running = try Running(token: "s3cret")
        let client = try running.tcpClient()
        let missing = try client.request("GET", "/v1/status")
        #expect(missing?.status == 401)
        #expect(missing?.head.headers["WWW-Authenticate"] == "Bearer")
        #expect(try client.request("GET", "/v1/status", headers: ["Authorization": "Bearer wrong"])?.status == 401)
        #expect(try client.request("GET", "/v1/status", headers: ["Authorization": "Bearer s3cret"])?.status == 200)
        // The Unix socket is guarded by peer credentials instead.
        #expect(try running.unixClient().request("GET", "/v1/status")?.status == 200)
    }

    /// `GET /ui?token=` is exchanged for an HttpOnly, SameSite=Strict cookie (303 to `/ui`, the
    /// token gone from the URL); the cookie opens the GETs the page makes and nothing else: a
    /// POST or DELETE carrying it, or a GET of another endpoint, is 401 and changes nothing.
    @Test func theStatusPageCookieOpensOnlyThePagesReads() throws {
        let running = try Running(token: "s3cret")
        let client = try running.tcpClient()
        #expect(try client.request("GET", "/ui")?.status == 401)
        #expect(try client.request("GET", "/ui?token=wrong")?.status == 401)
        #expect(try client.request("GET", "/v1/ui/snapshot")?.status == 401)
        let exchange = try client.request("GET", "/ui?token=s3cret")
        #expect(exchange?.status == 303)
        #expect(exchange?.head.headers["Location"] == "/ui")
        let setCookie = exchange?.head.headers["Set-Cookie"] ?? ""
        let name = "faultline_ui_\(running.tcpPort)"
        #expect(setCookie.hasPrefix(name + "="))
        #expect(setCookie.hasSuffix("; Path=/; HttpOnly; SameSite=Strict"))
        #expect(!setCookie.contains("s3cret"), "the cookie is not the token")
        let cookie = String(setCookie.prefix { $0 != ";" })
        #expect(cookie.count == name.count + 1 + 64)

        for target in ["/ui", "/ui/app.js", "/ui/app.css", "/v1/ui/snapshot", "/v1/journal?since=0", "/v1/report?route=a"] {
            #expect(try client.request("GET", target, headers: ["Cookie": "other=1; " + cookie])?.status == 200, "\(target)")
        }
        let post = try client.request("POST", "/v1/faults", body: #"{"id": "x", "type": "stall", "route": "a"}"#,
                                      headers: ["Cookie": cookie, "Content-Type": "application/json"])
        #expect(post?.status == 401)
        #expect(post?.text.contains("needs Authorization: Bearer") == true, "\(post?.text ?? "")")
        #expect(try client.request("DELETE", "/v1/faults", headers: ["Cookie": cookie])?.status == 401)
        #expect(try client.request("POST", "/v1/reload", headers: ["Cookie": cookie])?.status == 401)
        #expect(try client.request("GET", "/v1/status", headers: ["Cookie": cookie])?.status == 401)
        #expect(try client.request("GET", "/ui", headers: ["Cookie": name + "=" + String(repeating: "0", count: 64)])?.status == 401)
        #expect(running.plane.plans.count == 1, "no request changed the plan")
        // The bearer header still opens everything, and the Unix socket serves the page as it is.
        #expect(try client.request("GET", "/ui", headers: ["Authorization": "Bearer s3cret"])?.status == 200)
        let unix = try running.unixClient()
        #expect(try unix.request("GET", "/ui")?.status == 200)
        let dropped = try unix.request("GET", "/ui?token=anything")
        #expect(dropped?.status == 303)
        #expect(dropped?.head.headers["Set-Cookie"] == nil)
    }

    @Test func theMetricsListenerServesMetrics() throws {
        let running = try Running()
        let client = try TestClient(port: running.addresses.metrics!.port)
        let metrics = try client.request("GET", "/metrics")
        #expect(metrics?.status == 200)
        #expect(metrics?.head.headers["Content-Type"] == "text/plain; version=0.0.4")
        #expect(metrics?.text.contains("faultline_faults_active{type=\"latency\"} 1") == true)
        #expect(try client.request("GET", "/v1/status")?.status == 404)
    }

    @Test(arguments: ["gzip, chunked", "GZIP,chunked", "gzip", "chunked, gzip"])
    func anUnsupportedTransferCodingGets501NamingIt(transferEncoding: String) throws {
        let running = try Running()
        let client = try running.tcpClient()
        var body: [UInt8] = []
        HTTP1Serializer.appendChunk(Array(#"{"id": "zipped", "type": "blackhole", "route": "a"}"#.utf8), to: &body)
        try HTTP1Serializer.appendLastChunk(to: &body)
        try client.send("POST /v1/faults HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \(transferEncoding)\r\n\r\n")
        try client.send(body)
        let response = try client.readResponse()
        #expect(response?.status == 501)
        #expect(response?.head.headers["Connection"] == "close")
        #expect(response?.text == #"{"error":{"code":"not_implemented","message":"unsupported transfer coding \"gzip\"; the control API decodes chunked only"}}"# + "\n")
        #expect(client.waitForClose())
        // Nothing changed: the body was not read as JSON.
        #expect(running.plane.lastPlan?.route(named: "a")?.faults.map(\.id) == ["slow"])
        // A lone chunked is fine.
        let plain = try running.tcpClient()
        try plain.send("POST /v1/faults HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        try plain.send(body)
        #expect(try plain.readResponse()?.status == 201)
    }

    @Test func atItsLimitAListenerEvictsTheConnectionThatWaitedLongest() throws {
        let running = try Running(options: ControlServer.Options(
            requestTimeout: .seconds(5), lingerTimeout: .milliseconds(200), maxTCPConnections: 3, maxUnixConnections: 2))
        // Oldest: a request head that never finishes; then two idle keep-alive connections.
        let partial = try running.tcpClient()
        try partial.send("GET /v1/sta")
        Linux.sleep(nanoseconds: 20_000_000)
        let idle1 = try running.tcpClient()
        #expect(try idle1.request("GET", "/v1/status")?.status == 200)
        let idle2 = try running.tcpClient()
        #expect(try idle2.request("GET", "/v1/status")?.status == 200)
        // The fourth evicts the incomplete request, the fifth the oldest idle one.
        let fourth = try running.tcpClient()
        #expect(try fourth.request("GET", "/v1/status")?.status == 200)
        #expect(partial.waitForClose(timeoutMilliseconds: 2000))
        #expect(try idle2.request("GET", "/v1/status")?.status == 200)  // now idle2 waited less than idle1
        let fifth = try running.tcpClient()
        #expect(try fifth.request("GET", "/v1/status")?.status == 200)
        #expect(idle1.waitForClose(timeoutMilliseconds: 2000))
        #expect(try idle2.request("GET", "/v1/status")?.status == 200)
        #expect(try fourth.request("GET", "/v1/status")?.status == 200)

        // The Unix socket has its own budget: three TCP connections open change nothing there.
        let unix1 = try running.unixClient()
        #expect(try unix1.request("GET", "/v1/status")?.status == 200)
        let unix2 = try running.unixClient()
        #expect(try unix2.request("GET", "/v1/status")?.status == 200)
        #expect(try fifth.request("GET", "/v1/status")?.status == 200)
    }

    @Test func aConnectionWritingAnAnswerIsNotEvicted() throws {
        let running = try Running(options: ControlServer.Options(
            requestTimeout: .seconds(5), lingerTimeout: .milliseconds(200), maxUnixConnections: 2))
        // The oldest connection pipelines more answers than the socket buffers hold and reads none.
        let busy = try running.unixClient()
        let count = 3000
        try busy.send(Array(repeating: "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n", count: count).joined())
        Linux.sleep(nanoseconds: 100_000_000)
        let idle = try running.unixClient()
        #expect(try idle.request("GET", "/v1/status")?.status == 200)
        let third = try running.unixClient()
        #expect(try third.request("GET", "/v1/status")?.status == 200)
        #expect(idle.waitForClose(timeoutMilliseconds: 2000))
        var answered = 0
        while let response = try busy.readResponse(timeoutMilliseconds: 2000), response.status == 200 { answered += 1 }
        #expect(answered == count)
    }

    @Test func reloadFromAnotherThreadUsesTheFile() throws {
        let running = try Running(configFile: #"{"version": 1, "seed": 7, "routes": [{"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9001"}]}"#)
        let response = running.server.reload()
        #expect(response.status == 200)
        #expect(running.server.currentConfig.faults.isEmpty)
        #expect(running.plane.lastPlan?.route(named: "a")?.faults.isEmpty == true)
        try writeFile(running.directory + "/config.json", "{")
        #expect(running.server.reload().status == 422)
        let journal = try readText(running.directory + "/journal.jsonl")
        #expect(journal.split(separator: "\n").map { $0.contains("\"event\":\"config.reloaded\"") }.filter { $0 }.count == 1)
        #expect(journal.hasPrefix(#"{"seq":1,"#))
    }
}

func writeFile(_ path: String, _ text: String) throws {
    guard let file = fopen(path, "w") else { throw SystemError(errno: errno, call: "fopen") }
    defer { fclose(file) }
    let bytes = Array(text.utf8)
    _ = fwrite(bytes, 1, bytes.count, file)
}
