import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// The live status page (SPEC §4 `GET /ui`, `GET /v1/ui/snapshot`) of a real daemon, in a real
/// browser: headless Chromium driven through its DevTools pipe by `statusPageDriver` (a Python
/// stdlib script), so the page runs in real time while the test sends traffic through the routes.
final class StatusPageTests: DaemonTestCase {
    private var started: [StatusPageDaemon] = []

    override func tearDown() {
        for daemon in started where daemon.process.exitedUnexpectedly {
            XCTFail("faultlined exited unexpectedly; log:\n\(daemon.process.logText)")
        }
        started.removeAll()
        super.tearDown()
    }

    private func start(_ echo: Endpoint, _ http: Endpoint) throws -> StatusPageDaemon {
        let daemon = try StatusPageDaemon(echo: echo, http: http)
        started.append(daemon)
        return daemon
    }

    /// Three nodes and a one-way partition, opened as an operator would — the URL with `?token=`
    /// on the tokened TCP listener: the token is exchanged for the cookie and leaves the address
    /// bar; the map shows the three nodes and the cut links (one-way, in the direction the
    /// partition drops); the fault table lists the four active faults with the schedule's time
    /// left; the traffic sparkline of a route moves within 3 s of traffic starting; a POST and a
    /// DELETE sent from the page's own origin with its cookie are refused and change nothing. The
    /// screenshot is kept (`.build/test-artifacts/status-page.png`, and `$STATUS_PAGE_SCREENSHOT`).
    func testThePageShowsTheClusterTheFaultsAndLiveTraffic() throws {
        let chromium = try Chromium()
        let echo = try EchoServer(threads: 2)
        let upstream = try HTTPUpstream()
        let daemon = try start(echo.endpoint, upstream.endpoint)
        let feed = try daemon.process.route("feed")
        let pay = try daemon.process.route("pay")
        let artifacts = try StatusPageDaemon.artifactDirectory()
        let screenshot = artifacts + "/status-page.png"
        try? FileManager.default.removeItem(atPath: screenshot)

        let result = try runStatusPageDriver(chromium: chromium, directory: daemon.directory, [
            "url": "http://\(daemon.http)/ui?token=\(StatusPageDaemon.token)",
            "tcp": [[feed.address.description, Int(feed.port)]],
            "http": [[pay.address.description, Int(pay.port), "/echo"]],
            "watch": "feed", "hold": 14, "post": true,
            "screenshot": screenshot, "dom": artifacts + "/status-page.html",
        ])
        XCTAssertNil(result["error"], "\(result)")
        XCTAssertEqual(result["location"] as? String, "http://\(daemon.http)/ui", "the token left the URL")

        // The map: three nodes, four links, the one-way cut drawn broken with one blocked arrow.
        let before = try XCTUnwrap(result["before"] as? [String: Any])
        XCTAssertEqual(before["nodes"] as? [String], ["n1", "n2", "n3"])
        let links = (before["links"] as? [[String: Any]] ?? []).map {
            "\($0["route"]!) \($0["from"]!)>\($0["to"]!) cut=\($0["cut"]!) by=\($0["partitions"]!) arrows=\($0["arrows"]!) segments=\($0["segments"]!)"
        }
        XCTAssertEqual(links.sorted(), [
            "feed n3>n2 cut=none by= arrows=0 segments=1",
            "ledger n3>n1 cut=downstream by=cut-n1 arrows=1 segments=2",
            "orders n1>n2 cut=upstream by=cut-n1 arrows=1 segments=2",
            "pay n2>n3 cut=none by= arrows=0 segments=1",
        ])
        XCTAssertEqual(before["partitions"] as? [String], ["cut-n1"])
        let stats = before["stats"] as? [String: Int] ?? [:]
        XCTAssertEqual(stats["nodes"], 3)
        XCTAssertEqual(stats["links cut"], 2, "as faultline_partition_links_blocked counts them")
        XCTAssertEqual(try daemon.metric("faultline_partition_links_blocked"), 2)
        XCTAssertEqual(before["reports"] as? [String], ["/v1/report?route=pay"])
        XCTAssertEqual(before["schedule"] as? String, "running")

        // The faults, in apply order, with what the table says about each.
        let faults = before["faults"] as? [[String: Any]] ?? []
        XCTAssertEqual(faults.map { $0["id"] as? String }, ["slow-orders", "flaky-pay", "cut-n1", "throttle-ledger"])
        let cells = Dictionary(faults.map { ($0["id"] as? String ?? "", $0["cells"] as? [String] ?? []) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(cells["slow-orders"]?.prefix(6), ["slow-orders", "latency", "orders", "—",
                                                          "direction=downstream  delay=20ms  jitter=5ms  distribution=uniform", "always"])
        XCTAssertEqual(cells["flaky-pay"]?.prefix(6), ["flaky-pay", "abort", "pay", "GET /echo", "status=503", "20 %"])
        XCTAssertEqual(cells["cut-n1"]?[4], "groups=n1  |  n2, n3  mode=blackhole  one_way")
        XCTAssertEqual(cells["cut-n1"]?[7], "until cleared")
        let left = cells["throttle-ledger"]?[7] ?? ""
        XCTAssertTrue(left.hasPrefix("9 min ") && left.hasSuffix("step 0's for"), left)

        // Traffic: the feed route's bytes/s sparkline moved within 3 s of the first byte sent, and kept
        // moving; the http route shows request rates.
        let seconds = try XCTUnwrap(result["update_seconds"] as? Double, "the sparkline never moved: \(result)")
        XCTAssertLessThan(seconds, 3.0)
        print("status page: the feed sparkline moved \(seconds) s after its first byte")
        let after = try XCTUnwrap(result["after"] as? [String: Any])
        func series(_ route: String, _ name: String) -> [String: Any]? {
            let sparks = (after["sparks"] as? [[String: Any]] ?? []).first { $0["route"] as? String == route }
            return (sparks?["series"] as? [[String: Any]] ?? []).first { $0["name"] as? String == name }
        }
        XCTAssertGreaterThan(series("feed", "bytes")?["points"] as? Int ?? 0, 10)
        XCTAssertGreaterThan(series("feed", "bytes")?["last"] as? Double ?? 0, 10_000, "16 KiB each way every ~20 ms")
        XCTAssertGreaterThan(series("pay", "http")?["last"] as? Double ?? 0, 1)
        XCTAssertEqual(series("orders", "bytes")?["last"] as? Double, 0)
        XCTAssertTrue((after["journal"] as? [String] ?? []).contains("http.fault"), "the journal tail shows the 503s as they happen")
        XCTAssertEqual(after["live"] as? String, "live on")

        // The page's origin cannot change state: a browser may only GET on the TCP listener (403
        // before the token is looked at), and its cookie would not authorise a POST or a DELETE.
        XCTAssertEqual((result["post"] as? [String: Any])?["status"] as? Int, 403, "\(result["post"] ?? "")")
        XCTAssertEqual((result["delete"] as? [String: Any])?["status"] as? Int, 403)
        let active = try daemon.control.expect(200, "GET", "/v1/faults").text
        XCTAssertFalse(active.contains("from-page"))
        XCTAssertEqual(active.components(separatedBy: "\"id\":").count - 1, 4, active)

        // The screenshot: a PNG as wide as the window, of a page with something on it.
        let png = try XCTUnwrap(FileManager.default.contents(atPath: screenshot), "no screenshot at \(screenshot)")
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(png[16..<20].reduce(0) { $0 << 8 | UInt32($1) }, 1440)
        XCTAssertGreaterThan(png.count, 100_000)
        if let keep = ProcessInfo.processInfo.environment["STATUS_PAGE_SCREENSHOT"], !keep.isEmpty {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: screenshot, toPath: keep)
        }
    }

    /// On a tokened listener `GET /ui` without the token, with a wrong one, or with a cookie that is
    /// not the daemon's is 401; the exchange sets an HttpOnly SameSite=Strict cookie; that cookie
    /// reads the page and its JSON but cannot POST, DELETE or read other endpoints. The Unix socket
    /// serves the page behind its peer check, as it serves the API.
    func testATokenedListenerWantsTheTokenAndTheCookieOnlyReads() throws {
        let echo = try EchoServer(threads: 1)
        let upstream = try HTTPUpstream()
        let daemon = try start(echo.endpoint, upstream.endpoint)
        let tcp = ControlTarget.tcp(daemon.http)
        func call(_ method: String, _ path: String, _ body: String? = nil, headers: [String: String] = [:]) throws -> WireReply {
            let socket = try tcp.connect()
            defer { socket.close() }
            try socket.send(requestBytes(method, path, body: body, headers: headers))
            return try readReply(socket)
        }
        for (path, headers) in [("/ui", [:]), ("/ui?token=wrong", [:]), ("/v1/ui/snapshot", [:]),
                                ("/ui", ["Authorization": "Bearer wrong"]),
                                ("/ui", ["Cookie": "faultline_ui_\(daemon.http.port)=" + String(repeating: "f", count: 64)])] {
            let reply = try call("GET", path, headers: headers)
            XCTAssertEqual(reply.status, 401, "\(path) \(headers): \(reply.text)")
            XCTAssertEqual(reply.errorCode, "unauthorized")
            XCTAssertEqual(reply.header("WWW-Authenticate"), "Bearer")
        }
        let exchange = try call("GET", "/ui?token=\(StatusPageDaemon.token)")
        XCTAssertEqual(exchange.status, 303)
        XCTAssertEqual(exchange.header("Location"), "/ui")
        let setCookie = try XCTUnwrap(exchange.header("Set-Cookie"))
        XCTAssertTrue(setCookie.hasSuffix("; Path=/; HttpOnly; SameSite=Strict"), setCookie)
        XCTAssertFalse(setCookie.contains(StatusPageDaemon.token))
        let cookie = String(setCookie.prefix { $0 != ";" })

        let page = try call("GET", "/ui", headers: ["Cookie": cookie])
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertTrue(page.header("Content-Security-Policy")?.contains("connect-src 'self'") == true)
        let snapshot = try call("GET", "/v1/ui/snapshot", headers: ["Cookie": cookie])
        XCTAssertEqual(snapshot.status, 200)
        XCTAssertEqual((snapshot.object["nodes"] as? [String]), ["n1", "n2", "n3"])
        XCTAssertEqual(try call("GET", "/v1/journal?since=0", headers: ["Cookie": cookie]).status, 200)
        XCTAssertEqual(try call("GET", "/v1/report?route=pay", headers: ["Cookie": cookie]).status, 200)

        let refused = [
            try call("POST", "/v1/faults", #"{"id":"nope","type":"stall","route":"feed"}"#, headers: ["Cookie": cookie]),
            try call("DELETE", "/v1/faults", headers: ["Cookie": cookie]),
            try call("DELETE", "/v1/partitions", headers: ["Cookie": cookie]),
            try call("POST", "/v1/schedule/stop", headers: ["Cookie": cookie]),
            try call("GET", "/v1/status", headers: ["Cookie": cookie]),
            try call("POST", "/ui", headers: ["Cookie": cookie]),
        ]
        XCTAssertEqual(refused.map(\.status), [401, 401, 401, 401, 401, 401], refused.map(\.text).joined(separator: "\n"))
        XCTAssertTrue(refused[0].text.contains("needs Authorization: Bearer"), refused[0].text)
        let status = try daemon.control.expect(200, "GET", "/v1/status").text
        XCTAssertTrue(status.contains(#""id":"cut-n1""#) && !status.contains("nope"), status)
        XCTAssertTrue(status.contains(#""state":"running""#), "the schedule was not stopped")
        XCTAssertEqual(try call("GET", "/ui", headers: ["Authorization": "Bearer \(StatusPageDaemon.token)"]).status, 200)
        XCTAssertEqual(try call("POST", "/ui", headers: ["Authorization": "Bearer \(StatusPageDaemon.token)"]).status, 405,
                       "only GETs are served under /ui")

        let unix = try daemon.control.expect(200, "GET", "/ui")
        XCTAssertTrue(unix.text.contains("<title>Faultline · live status</title>"))
        XCTAssertEqual(try daemon.control.expect(200, "GET", "/ui/app.js").header("Content-Type"), "text/javascript; charset=utf-8")
    }

    /// The snapshot's cost is bounded: it reads the counter families' per-route totals and never
    /// visits a connection, so with 1,000 connections open it has the same shape and size as with
    /// none (only numbers change), and it is not slower by more than noise.
    func testTheSnapshotDoesNotGrowWithOpenConnections() throws {
        let echo = try EchoServer(threads: 2)
        let upstream = try HTTPUpstream()
        let daemon = try start(echo.endpoint, upstream.endpoint)
        let feed = try daemon.process.route("feed")
        func measure() throws -> (text: String, fastest: Double) {
            var fastest = Double.infinity
            var text = ""
            for _ in 0..<15 {
                let (reply, seconds) = try timed { try daemon.control.expect(200, "GET", "/v1/ui/snapshot") }
                fastest = min(fastest, seconds)
                text = reply.text
            }
            return (text, fastest)
        }
        let idle = try measure()
        var sockets: [TestSocket] = []
        defer { for socket in sockets { socket.close() } }
        for _ in 0..<1000 {
            let socket = try TestSocket.connect(to: feed, timeout: .seconds(5))
            try socket.send(Array("hi".utf8))
            sockets.append(socket)
        }
        for socket in sockets { _ = try socket.read(exactly: 2, timeout: .seconds(10)) }
        let busy = try measure()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(busy.text.utf8)) as? [String: Any])
        XCTAssertEqual(object["open_connections"] as? Int, 1000)
        let feedTraffic = ((object["routes"] as? [[String: Any]])?.first { $0["name"] as? String == "feed" }?["traffic"]) as? [String: Any]
        XCTAssertEqual(feedTraffic?["connections_active"] as? Int, 1000)
        XCTAssertEqual(feedTraffic?["connections_accepted"] as? Int, 1000)
        XCTAssertEqual(feedTraffic?["bytes_upstream"] as? Int, 2000)

        func shape(_ text: String) -> String {
            text.replacingOccurrences(of: "[0-9]+", with: "0", options: .regularExpression)
        }
        XCTAssertEqual(shape(busy.text), shape(idle.text), "only numbers differ")
        XCTAssertLessThan(abs(busy.text.utf8.count - idle.text.utf8.count), 64, "\(idle.text.utf8.count) → \(busy.text.utf8.count) bytes")
        // A generous bound on a shared 2-core machine; a walk over 1,000 connections would not
        // show in time either, which is why the shape and size above are the real check.
        XCTAssertLessThan(busy.fastest, idle.fastest * 3 + 0.010, "fastest snapshot: \(idle.fastest) s idle, \(busy.fastest) s busy")
    }

    /// `faultctl ui`: with --url and --token it prints the page's URL with the token; on the Unix
    /// socket --listen runs the forwarder, which wants its own one-time token, then serves the page
    /// (drawn in Chromium through it) and its GETs and nothing else.
    func testFaultctlUIPrintsTheURLAndForwardsOnlyThePage() throws {
        let echo = try EchoServer(threads: 1)
        let upstream = try HTTPUpstream()
        let daemon = try start(echo.endpoint, upstream.endpoint)

        let printed = try FaultctlRun(["ui", "--url", "http://\(daemon.http)", "--token", StatusPageDaemon.token])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        XCTAssertEqual(printed.stdout, "http://\(daemon.http)/ui?token=\(StatusPageDaemon.token)\n")
        let wrong = try FaultctlRun(["ui", "--url", "http://\(daemon.http)", "--token", "nope"])
        XCTAssertEqual(wrong.status, 1, "the daemon refused the token: \(wrong.stderr)")
        let socketOnly = try FaultctlRun(["ui", "--socket", daemon.socketPath])
        XCTAssertEqual(socketOnly.status, 0, socketOnly.stderr)
        XCTAssertTrue(socketOnly.stdout.contains("faultctl ui --listen 127.0.0.1:0"), socketOnly.stdout)
        XCTAssertEqual(try FaultctlRun(["ui", "--socket", daemon.directory + "/missing.sock"]).status, 3)

        let forwarder = try FaultctlProcess(["ui", "--socket", daemon.socketPath, "--listen", "127.0.0.1:0"])
        defer { forwarder.stop() }
        let output = try XCTUnwrap(forwarder.waitForOutput(containing: "\n", timeout: .seconds(10)), "no URL printed")
        let url = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let pattern = #"^http://127\.0\.0\.1:([0-9]+)/ui\?token=([0-9a-f]{32})$"#
        XCTAssertNotNil(url.range(of: pattern, options: .regularExpression), url)
        let port = UInt16(url.dropFirst("http://127.0.0.1:".count).prefix { $0 != "/" }) ?? 0
        let target = ControlTarget.tcp(Endpoint(address: .v4(127, 0, 0, 1), port: port))
        func call(_ method: String, _ path: String, headers: [String: String] = [:]) throws -> WireReply {
            let socket = try target.connect()
            defer { socket.close() }
            try socket.send(requestBytes(method, path, body: method == "GET" ? nil : "{}", headers: headers))
            return try readReply(socket)
        }
        XCTAssertEqual(try call("GET", "/ui").status, 401)
        XCTAssertEqual(try call("GET", "/ui?token=" + String(repeating: "0", count: 32)).status, 401)
        let exchange = try call("GET", String(url.dropFirst("http://127.0.0.1:\(port)".count)))
        XCTAssertEqual(exchange.status, 303)
        XCTAssertEqual(exchange.header("Location"), "/ui")
        let cookie = String((exchange.header("Set-Cookie") ?? "").prefix { $0 != ";" })
        XCTAssertTrue(exchange.header("Set-Cookie")?.hasSuffix("; Path=/; HttpOnly; SameSite=Strict") == true)
        let page = try call("GET", "/ui", headers: ["Cookie": cookie])
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.text, try daemon.control.expect(200, "GET", "/ui").text, "the daemon's page, unchanged")
        XCTAssertNotNil(page.header("Content-Security-Policy"))
        XCTAssertEqual(try call("GET", "/v1/ui/snapshot", headers: ["Cookie": cookie]).status, 200)
        XCTAssertEqual(try call("GET", "/v1/report?route=nope", headers: ["Cookie": cookie]).status, 404, "the daemon's answer, passed on")
        XCTAssertEqual(try call("GET", "/v1/status", headers: ["Cookie": cookie]).status, 404, "not part of the page")
        XCTAssertEqual(try call("GET", "/metrics", headers: ["Cookie": cookie]).status, 404)
        XCTAssertEqual(try call("POST", "/v1/faults", headers: ["Cookie": cookie]).status, 405)
        XCTAssertEqual(try call("DELETE", "/v1/partitions", headers: ["Cookie": cookie]).status, 405)
        XCTAssertTrue(try daemon.control.expect(200, "GET", "/v1/faults").text.contains("cut-n1"))

        let chromium = try Chromium()
        let result = try runStatusPageDriver(chromium: chromium, directory: daemon.directory, ["url": url, "hold": 0])
        XCTAssertNil(result["error"], "\(result)")
        XCTAssertEqual(result["location"] as? String, "http://127.0.0.1:\(port)/ui")
        XCTAssertEqual((result["before"] as? [String: Any])?["nodes"] as? [String], ["n1", "n2", "n3"])
    }
}

// MARK: - Fixture

/// A daemon with a Unix socket and a tokened TCP control listener; three nodes; routes `orders`
/// n1 → n2, `pay` n2 → n3 (http), `ledger` n3 → n1 and `feed` n3 → n2; a latency, an abort and a
/// one-way partition cutting traffic that leaves n1; a schedule that throttles `ledger` for 10 min.
final class StatusPageDaemon {
    static let token = "page-t0ken"

    private let daemon: ControlDaemon
    let control: ControlHTTP

    init(echo: Endpoint, http upstream: Endpoint) throws {
        daemon = try ControlDaemon(
            routes: [],
            routeObjects: [
                #"{"name":"orders","listen":"127.0.0.1:0","upstream":"\#(echo)","from":"n1","to":"n2"}"#,
                #"{"name":"pay","listen":"127.0.0.1:0","upstream":"\#(upstream)","from":"n2","to":"n3","protocol":"http"}"#,
                #"{"name":"ledger","listen":"127.0.0.1:0","upstream":"\#(echo)","from":"n3","to":"n1"}"#,
                #"{"name":"feed","listen":"127.0.0.1:0","upstream":"\#(echo)","from":"n3","to":"n2"}"#,
            ],
            control: { directory in
                let path = directory + "/token"
                _ = FileManager.default.createFile(atPath: path, contents: Data((StatusPageDaemon.token + "\n").utf8))
                return #","token_file":"\#(path)""#
            },
            extra: #"""
                ,"faults":[
                 {"id":"slow-orders","route":"orders","type":"latency","delay":"20ms","jitter":"5ms","direction":"downstream"},
                 {"id":"flaky-pay","route":"pay","type":"abort","status":503,"probability":0.2,"match":{"method":"GET","path":"/echo"}},
                 {"id":"cut-n1","type":"partition","groups":[["n1"],["n2","n3"]],"one_way":true}],
                 "schedule":{"start":"on_load","steps":[
                 {"at":"0s","apply":{"id":"throttle-ledger","route":"ledger","type":"bandwidth","bytes_per_second":100000},"for":"10m"}]}
                """#,
            maxConnections: 3000
        )
        control = ControlHTTP(socketPath: daemon.socketPath)
    }

    var process: DaemonProcess { daemon.daemon }
    var directory: String { daemon.directory }
    var socketPath: String { daemon.socketPath }
    /// The TCP control listener.
    var http: Endpoint { daemon.http }

    /// An unlabelled metric's value from `GET /metrics`.
    func metric(_ name: String) throws -> Double? {
        PrometheusText.value(of: name, [:], in: try control.expect(200, "GET", "/metrics").text)
    }

    /// `<package root>/.build/test-artifacts`, made if missing.
    static func artifactDirectory() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent(".build/test-artifacts").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Runs `statusPageDriver` with `arguments` (plus the browser, its profile and a 1440×1000
/// window) and returns the JSON object it prints.
func runStatusPageDriver(chromium: Chromium, directory: String, _ arguments: [String: Any]) throws -> [String: Any] {
    var all = arguments
    all["chromium"] = chromium.path
    all["profile"] = directory + "/chromium-\(UInt32.random(in: 0...UInt32.max))"
    all["width"] = 1440
    all["height"] = 1000
    let text = String(decoding: try JSONSerialization.data(withJSONObject: all), as: UTF8.self)
    let run = try runPython(statusPageDriver, [text], timeout: .seconds(150))
    let last = run.output.split(separator: "\n").last.map(String.init) ?? ""
    guard run.status == 0, let object = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else {
        throw DaemonError("the page driver failed (exit \(run.status)):\n\(run.output.suffix(4000))")
    }
    return object
}

/// Loads a page in headless Chromium and reports what it shows, in real time. Arguments (one JSON
/// object): `url`; `tcp` [[host, port]] to send 16 KiB echo rounds to every 20 ms and `http`
/// [[host, port, path]] to GET every 40 ms once the page has drawn twice; `watch`, a route whose
/// bytes/s sparkline must move (`update_seconds`: from the first byte sent until it did); `hold`
/// seconds of traffic before `after` is read; `post` to try a POST and a DELETE from the page's
/// origin; `screenshot` and `dom` paths.
let statusPageDriver = #"""
    # Drives headless Chromium through its DevTools pipe (--remote-debugging-pipe: commands on fd 3,
    # answers on fd 4, NUL-separated JSON), so the test sees the page as it runs in real time: the
    # Python standard library has no WebSocket client, and a pipe needs none. Prints one JSON object.
    import base64, json, os, socket, subprocess, sys, threading, time, http.client

    args = json.loads(sys.argv[1])
    profile = args["profile"]
    r_cmd, w_cmd = os.pipe()
    r_out, w_out = os.pipe()

    def child_fds():
        # The DevTools pipe: Chromium reads commands on fd 3 and writes answers on fd 4.
        a, b = os.dup(r_cmd), os.dup(w_out)
        os.dup2(a, 3)
        os.dup2(b, 4)
        os.set_inheritable(3, True)
        os.set_inheritable(4, True)

    chromium = subprocess.Popen(
        [args["chromium"], "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + profile, "--remote-debugging-pipe",
         "--window-size=%d,%d" % (args["width"], args["height"]), "about:blank"],
        preexec_fn=child_fds, close_fds=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(profile + ".err", "w"))
    os.close(r_cmd)
    os.close(w_out)
    pending = b""
    next_id = 0

    def call(method, params=None, session=None, timeout=30):
        global next_id, pending
        next_id += 1
        message = {"id": next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(w_cmd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in pending:
                if time.monotonic() > deadline:
                    raise SystemExit("no answer to " + method)
                chunk = os.read(r_out, 1 << 20)
                if not chunk:
                    raise SystemExit("chromium closed the pipe")
                pending += chunk
            line, pending = pending.split(b"\0", 1)
            answer = json.loads(line)
            if answer.get("id") == next_id:
                if "error" in answer:
                    raise SystemExit(method + ": " + json.dumps(answer["error"]))
                return answer["result"]

    def evaluate(session, expression, awaiting=False):
        result = call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": awaiting}, session)
        if "exceptionDetails" in result:
            raise SystemExit("script failed: " + json.dumps(result["exceptionDetails"]))
        return result["result"].get("value")

    def wait_for(session, expression, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if evaluate(session, expression):
                return True
            time.sleep(0.05)
        return False

    SUMMARY = '''JSON.stringify({
      updates: +document.body.dataset.updates,
      nodes: Array.from(document.querySelectorAll('#map [data-node]')).map(n => n.dataset.node),
      links: Array.from(document.querySelectorAll('#map [data-route]')).map(l => ({route: l.dataset.route, from: l.dataset.from,
        to: l.dataset.to, cut: l.dataset.cut, partitions: l.dataset.partitions, arrows: l.querySelectorAll('polygon.blocked').length,
        segments: l.querySelectorAll('line:not(.bar)').length})),
      faults: Array.from(document.querySelectorAll('#faults tbody tr')).map(r => ({id: r.dataset.fault,
        cells: Array.from(r.cells).map(c => c.textContent)})),
      sparks: Array.from(document.querySelectorAll('#traffic [data-route]')).map(r => ({route: r.dataset.route,
        series: Array.from(r.querySelectorAll('svg[data-series]')).map(s => ({name: s.dataset.series, points: +s.dataset.points,
          last: s.dataset.last === '' ? null : +s.dataset.last}))})),
      partitions: Array.from(document.querySelectorAll('#partitions [data-partition]')).map(p => p.dataset.partition),
      stats: Object.fromEntries(Array.from(document.querySelectorAll('#stats [data-stat]')).map(s => [s.dataset.stat, +s.querySelector('b').textContent])),
      reports: Array.from(document.querySelectorAll('#traffic a.report')).map(a => a.getAttribute('href')),
      schedule: document.getElementById('schedule-state').textContent,
      journal: Array.from(document.querySelectorAll('#journal tbody tr')).slice(0, 50).map(r => r.dataset.event),
      live: document.getElementById('live').className,
      liveText: document.getElementById('live-text').textContent
    })'''

    def summary(session):
        return json.loads(evaluate(session, SUMMARY))

    result = {}
    try:
        call("Browser.getVersion")
        target = call("Target.createTarget", {"url": args["url"]})["targetId"]
        session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        call("Runtime.enable", session=session)
        if not wait_for(session, "document.body && +document.body.dataset.updates >= 2", 20):
            result["error"] = "the page drew fewer than 2 snapshots in 20 s: " + json.dumps(evaluate(session, "document.documentElement.outerHTML.slice(0, 3000)"))
            raise StopIteration
        result["location"] = evaluate(session, "location.href")
        result["before"] = summary(session)
        if args.get("post"):
            # A request from the page's own origin, carrying its cookie: it must not change anything.
            result["post"] = evaluate(session, '''fetch('/v1/faults', {method: 'POST', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json'}, body: JSON.stringify({id: 'from-page', type: 'stall', route: '*'})})
                .then(r => r.text().then(t => ({status: r.status, body: t})))''', awaiting=True)
            result["delete"] = evaluate(session, '''fetch('/v1/faults', {method: 'DELETE', credentials: 'same-origin'})
                .then(r => ({status: r.status}))''', awaiting=True)
        stop = threading.Event()
        started = {}

        def tcp_traffic(host, port):
            s = socket.create_connection((host, port), timeout=5)
            block = b"x" * 16384
            started.setdefault("t", time.monotonic())
            while not stop.is_set():
                s.sendall(block)
                got = 0
                while got < len(block):
                    chunk = s.recv(65536)
                    if not chunk:
                        return
                    got += len(chunk)
                time.sleep(0.02)
            s.close()

        def http_traffic(host, port, path):
            connection = http.client.HTTPConnection(host, port, timeout=5)
            while not stop.is_set():
                try:
                    connection.request("GET", path)
                    connection.getresponse().read()
                except Exception:
                    connection.close()
                    connection = http.client.HTTPConnection(host, port, timeout=5)
                time.sleep(0.04)

        threads = []
        for host, port in args.get("tcp", []):
            threads.append(threading.Thread(target=tcp_traffic, args=(host, port), daemon=True))
        for host, port, path in args.get("http", []):
            threads.append(threading.Thread(target=http_traffic, args=(host, port, path), daemon=True))
        traffic_started = time.monotonic()
        for thread in threads:
            thread.start()
        watch = args.get("watch")
        if watch:
            expression = "(() => { const s = document.querySelector('#traffic [data-route=\"%s\"] svg[data-series=\"bytes\"]'); " \
                         "return s && s.dataset.last !== '' && +s.dataset.last > 0; })()" % watch
            seen = wait_for(session, expression, 15)
            result["update_seconds"] = (time.monotonic() - started.get("t", traffic_started)) if seen else None
        time.sleep(args.get("hold", 0))
        result["after"] = summary(session)
        stop.set()
        if args.get("screenshot"):
            height = evaluate(session, "Math.ceil(document.documentElement.scrollHeight)")
            call("Emulation.setDeviceMetricsOverride", {"width": args["width"], "height": max(args["height"], height),
                                                         "deviceScaleFactor": 1, "mobile": False}, session)
            time.sleep(0.3)
            shot = call("Page.captureScreenshot", {"format": "png"}, session)
            with open(args["screenshot"], "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        for path, selector in args.get("crops", []):
            box = json.loads(evaluate(session, "JSON.stringify(document.querySelector('%s').getBoundingClientRect())" % selector))
            shot = call("Page.captureScreenshot", {"format": "png", "clip": {"x": box["x"], "y": box["y"], "width": box["width"],
                                                                              "height": box["height"], "scale": 1.5}}, session)
            with open(path, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        if args.get("dom"):
            with open(args["dom"], "w") as f:
                f.write(evaluate(session, "document.documentElement.outerHTML"))
    except StopIteration:
        pass
    finally:
        try:
            call("Browser.close", timeout=5)
        except BaseException:
            pass
        try:
            chromium.wait(timeout=10)
        except Exception:
            chromium.kill()
    print(json.dumps(result))
    """#
