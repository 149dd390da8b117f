import FaultlineClient
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import Glibc
import Synchronization
import XCTest

/// The client-behaviour report outside the daemon (SPEC §3.4): `ReportPage` drawn by a real
/// browser (headless Chromium), and `FaultlineClient.report`/`requests` and `faultctl report`
/// against a stand-in control server that answers what the daemon would.
final class ReportPageTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        var template = Array((NSTemporaryDirectory() + "fl-report-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }

    // MARK: The page in a browser

    /// Chromium renders the page: the screenshot is a 1200×900 PNG that is not the blank page,
    /// the DOM has one `data-group` row per group and the count in `#group-count`, and the key
    /// holding a `<script>` stayed text (the script did not run).
    func testPageRendersInChromiumWithEveryGroupAndEscapedKeys() throws {
        let chromium = try Chromium()
        let report = ReportFixture.report
        let page = ReportPage.html(report, title: "Checkout retries")
        XCTAssertFalse(page.lowercased().contains("<script"), "the page carries no script, and no key became one")
        XCTAssertFalse(page.contains("http://") || page.contains("https://"), "the page loads nothing")

        let pagePath = directory + "/report.html"
        let blankPath = directory + "/blank.html"
        try page.write(toFile: pagePath, atomically: true, encoding: .utf8)
        try "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body></body></html>"
            .write(toFile: blankPath, atomically: true, encoding: .utf8)

        let shot = try chromium.screenshot(pagePath, to: directory + "/report.png")
        let blank = try chromium.screenshot(blankPath, to: directory + "/blank.png")
        for png in [shot, blank] {
            XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
            XCTAssertEqual(PNGHeader(png)?.width, 1200)
            XCTAssertEqual(PNGHeader(png)?.height, 900)
        }
        XCTAssertNotEqual(shot, blank)
        // A blank 1200×900 page compresses to a few kB; cards, text and coloured marks do not.
        XCTAssertGreaterThan(shot.count, 4 * blank.count, "report \(shot.count) bytes, blank \(blank.count) bytes")
        if let keep = ProcessInfo.processInfo.environment["REPORT_PAGE_SCREENSHOT"], !keep.isEmpty {
            try Data(shot).write(to: URL(fileURLWithPath: keep))
        }

        let dom = try chromium.dumpDOM(pagePath)
        XCTAssertTrue(dom.contains("id=\"group-count\">\(report.groups)<"), dom)
        XCTAssertEqual(dom.components(separatedBy: " data-group=\"").count - 1, report.timelines.count)
        for timeline in report.timelines where !timeline.key.contains("<") {
            XCTAssertTrue(dom.contains(" data-group=\"\(timeline.key)\""), timeline.key)
        }
        XCTAssertTrue(dom.contains(">&lt;script&gt;document.body.setAttribute('data-pwned','1')&lt;/script&gt;<"), "the key is shown as text")
        XCTAssertFalse(dom.contains("data-pwned=\""), "the key's script ran")
        XCTAssertEqual(dom.components(separatedBy: "<script").count - 1, 0)
        // The verdict cards, in the report's order, with their words.
        XCTAssertEqual(
            dom.components(separatedBy: " data-verdict=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) },
            ["retries", "backoff", "jitter", "herd", "breaker"]
        )
        for text in [">exponential<", ">factor 2.01<", ">first gap 100 ms<", ">kept calling<", ">48.0 calls/s while failing<", ">present<", ">not aligned<"] {
            XCTAssertTrue(dom.contains(text), text)
        }
        // Injected attempts are outlined and hatched; each mark has its tooltip.
        XCTAssertEqual(dom.components(separatedBy: "class=\"hatch\"").count - 1, ReportFixture.injectedMarks)
        XCTAssertTrue(dom.contains("<title>attempt 1 of 3 · 503 · fault flaky\n+0 ms · 2026-11-24T10:00:00.000000Z\ntook 5.0 ms · seq 1</title>"), dom)
    }

    // MARK: The page without a browser

    /// 1,000 groups: 500 rows drawn, the rest counted; `#group-count` says 1000. One group with
    /// 100,000 attempts: marks merged per column, so the page stays small.
    func testLargeReportsStayBounded() throws {
        var report = ReportFixture.report
        report.timelines = (0..<1000).map { group in
            ClientReport.Timeline(key: "k-\(group)", attempts: [
                ReportFixture.attempt(seq: UInt64(group * 2 + 1), at: group, .status(503), fault: "flaky"),
                ReportFixture.attempt(seq: UInt64(group * 2 + 2), at: group + 100, .status(200)),
            ])
        }
        report.groups = 1000
        let page = ReportPage.html(report)
        XCTAssertEqual(page.components(separatedBy: " data-group=\"").count - 1, ReportPage.maximumRows)
        XCTAssertTrue(page.contains("id=\"group-count\">1000<"))
        XCTAssertTrue(page.contains("<p class=\"note\">500 more groups not drawn</p>"))
        XCTAssertTrue(page.contains(" data-group=\"k-499\""))
        XCTAssertFalse(page.contains(" data-group=\"k-500\""))

        report.timelines = [ClientReport.Timeline(key: "poller", attempts: (0..<100_000).map { index in
            ReportFixture.attempt(seq: UInt64(index + 1), at: index / 10, index % 2 == 0 ? .status(200) : .reset)
        })]
        report.groups = 1
        let busy = ReportPage.html(report)
        let marks = busy.components(separatedBy: "<rect class=\"m ").count - 1
        XCTAssertLessThanOrEqual(marks, 2 * 1000, "at most one mark per column and outcome kind")
        XCTAssertGreaterThan(marks, 900)
        XCTAssertLessThan(busy.utf8.count, 1_000_000)
        XCTAssertTrue(busy.contains(" attempts (from 1 of 100000) · 200 ×"), "merged marks say what they hold")
        XCTAssertTrue(busy.contains(" attempts (from 2 of 100000) · reset ×"), "merged marks say what they hold")
    }

    func testEmptyReport() {
        var report = ReportFixture.report
        report.timelines = []
        report.groups = 0
        let page = ReportPage.html(report)
        XCTAssertTrue(page.contains("id=\"group-count\">0<"))
        XCTAssertTrue(page.contains("<p class=\"empty\">No attempts in the log.</p>"))
        XCTAssertFalse(page.contains("data-group"))
    }

    // MARK: FaultlineClient and faultctl against a stand-in daemon

    /// `report` and `requests` send their query percent-encoded (`+` as `%2B`) and decode what
    /// the daemon sends; a malformed answer is `.invalidResponse` naming the member, an error
    /// answer `.rejected`.
    func testClientReportAndRequests() throws {
        let report = ReportFixture.report
        let records = ReportFixture.records
        let server = try StandInControl { target in
            if target.hasPrefix("/v1/report?route=nope") {
                return (404, #"{"error":{"code":"not_found","message":"no route named \"nope\""}}"#)
            }
            if target.hasPrefix("/v1/report?route=bad") { return (200, #"{"route":"bad","requests":"many"}"#) }
            if target.hasPrefix("/v1/report") { return (200, JSONWriter.render(ReportJSON.encode(report, groupBy: .methodPath))) }
            return (200, records.map { JSONWriter.render(ReportJSON.encode($0)) + "\n" }.joined())
        }
        let client = try FaultlineClient(url: "http://\(server.endpoint)", timeout: .seconds(5))

        XCTAssertEqual(try client.report(route: "pay api", since: 7, groupBy: .methodPath), report)
        XCTAssertEqual(try client.report(route: "pay", groupBy: .header("x-tenant")).backoff.shape, .exponential)
        XCTAssertEqual(try client.requests(route: "pay/v2", since: 3), records)
        XCTAssertEqual(server.targets, [
            "/v1/report?route=pay%20api&since=7&group_by=method%2Bpath",
            "/v1/report?route=pay&since=0&group_by=header%3Ax-tenant",
            "/v1/requests?route=pay%2Fv2&since=3",
        ])

        XCTAssertThrowsError(try client.report(route: "nope")) { error in
            let error = error as? FaultlineClientError
            XCTAssertEqual(error?.kind, .rejected)
            XCTAssertEqual(error?.status, 404)
            XCTAssertEqual(error?.code, "not_found")
        }
        XCTAssertThrowsError(try client.report(route: "bad")) { error in
            let error = error as? FaultlineClientError
            XCTAssertEqual(error?.kind, .invalidResponse)
            XCTAssertTrue(error?.message.hasPrefix("the report answer: ") == true, error?.message ?? "")
            XCTAssertTrue(error?.message.contains("requests") == true, error?.message ?? "")
        }
    }

    /// `faultctl report`: the verdicts and timelines tables; `--json` as the daemon sent it;
    /// `--html` writes the page and prints its path; a bad `--group-by` is a usage error.
    func testFaultctlReport() throws {
        let report = ReportFixture.report
        let body = JSONWriter.render(ReportJSON.encode(report, groupBy: .auto))
        let server = try StandInControl { _ in (200, body) }
        let url = "http://\(server.endpoint)"

        let table = try FaultctlRun(["report", "--route", "checkout", "--url", url])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertEqual(table.stderr, "")
        XCTAssertEqual(table.stdout, ReportFixture.tables)

        let json = try FaultctlRun(["--json", "--url", url, "report", "--route", "checkout", "--since", "12", "--group-by", "method+path"])
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertEqual(json.stdout, body + "\n")

        let htmlPath = directory + "/out.html"
        let html = try FaultctlRun(["report", "--route", "checkout", "--url", url, "--html", htmlPath, "--group-by", "header:X-Tenant"])
        XCTAssertEqual(html.status, 0, html.stderr)
        XCTAssertEqual(html.stdout, htmlPath + "\n")
        XCTAssertEqual(try String(contentsOfFile: htmlPath, encoding: .utf8), ReportPage.html(report))

        XCTAssertEqual(server.targets, [
            "/v1/report?route=checkout&since=0&group_by=auto",
            "/v1/report?route=checkout&since=12&group_by=method%2Bpath",
            "/v1/report?route=checkout&since=0&group_by=header%3Ax-tenant",
        ])

        for bad in ["header:", "by-key", ""] {
            let run = try FaultctlRun(["report", "--route", "checkout", "--url", url, "--group-by", bad])
            XCTAssertEqual(run.status, 2, run.stderr)
            XCTAssertEqual(run.stdout, "")
            XCTAssertTrue(
                run.stderr.hasPrefix("Error: --group-by: \"\(bad)\" is not auto, header:NAME, method+path or source\n"), run.stderr
            )
        }
        let both = try FaultctlRun(["report", "--route", "checkout", "--url", url, "--json", "--html", htmlPath])
        XCTAssertEqual(both.status, 2)
        XCTAssertTrue(both.stderr.hasPrefix("Error: give --json or --html, not both\n"), both.stderr)
        let unwritable = try FaultctlRun(["report", "--route", "checkout", "--url", url, "--html", directory + "/missing/dir/x.html"])
        XCTAssertEqual(unwritable.status, 2)
        XCTAssertTrue(unwritable.stderr.hasPrefix("Error: --html: cannot write \(directory)/missing/dir/x.html: "), unwritable.stderr)
        XCTAssertEqual(server.targets.count, 4, "usage errors send nothing")
    }
}

// MARK: - The fixture

/// A report as the daemon would draw it from a checkout service's clients: exponential backoff,
/// injected 503s, resets and tcp-level failures, a long poller, and a key with a script in it.
enum ReportFixture {
    /// 2026-11-24T10:00:00Z.
    static let origin: Int64 = 1_795_514_400 * 1_000_000_000

    static func attempt(seq: UInt64, at milliseconds: Int, _ outcome: RequestOutcome, fault: String? = nil, took: Int = 5) -> ClientReport.Attempt {
        ClientReport.Attempt(
            seq: seq, timestamp: origin + Int64(milliseconds) * 1_000_000, outcome: outcome, fault: fault,
            totalNanoseconds: UInt64(took) * 1_000_000
        )
    }

    static let timelines: [ClientReport.Timeline] = {
        var seq: UInt64 = 0
        func timeline(_ key: String, _ attempts: [(Int, RequestOutcome, String?, Int)]) -> ClientReport.Timeline {
            ClientReport.Timeline(key: key, attempts: attempts.map { at, outcome, fault, took in
                seq += 1
                return attempt(seq: seq, at: at, outcome, fault: fault, took: took)
            })
        }
        var poller: [(Int, RequestOutcome, String?, Int)] = []
        for index in 0..<40 { poller.append((60 + index * 60, index % 7 == 3 ? .status(503) : .status(200), index % 7 == 3 ? "flaky" : nil, 8)) }
        return [
            timeline("k-1", [(0, .status(503), "flaky", 5), (105, .status(503), "flaky", 5), (310, .status(200), nil, 12)]),
            timeline("k-2", [(13, .status(503), "flaky", 5), (128, .status(503), "flaky", 5), (352, .status(200), nil, 11)]),
            timeline("k-3", [(40, .status(429), "quota", 2), (250, .status(200), nil, 9)]),
            timeline("k-4", [(90, .reset, "cut", 1), (200, .closed, nil, 3), (420, .status(200), nil, 10)]),
            timeline("GET /orders 10.0.0.7", [(500, .hang, "stuck", 1000), (1510, .abortedByClient, nil, 40), (1700, .status(404), nil, 6)]),
            timeline("10.0.0.9", [(150, .refused, "no-db", 0), (400, .timedOut, "slow-db", 300), (900, .partitioned, "split", 200), (1300, .relayed, nil, 600)]),
            timeline("<script>document.body.setAttribute('data-pwned','1')</script>", [
                (700, .status(500), nil, 20), (820, .status(502), "flaky", 20), (1060, .status(503), "flaky", 20),
            ]),
            timeline("poller-7f3c", poller),
        ]
    }()

    /// The marks drawn hatched: injected attempts (none of them share a column).
    static let injectedMarks = timelines.flatMap(\.attempts).filter { $0.fault != nil }.count

    static let report = ClientReport(
        route: "checkout", requests: timelines.map(\.attempts.count).reduce(0, +), injected: injectedMarks,
        groups: timelines.count,
        retries: ClientReport.Retries(groupsRetried: 7, maxAttempts: 40, gaveUp: 1, gapsP50Milliseconds: 200, gapsP90Milliseconds: 410.4),
        backoff: ClientReport.Backoff(shape: .exponential, factor: 2.013, firstGapMilliseconds: 100),
        jitter: ClientReport.Jitter(present: true, spread: 0.34),
        herd: ClientReport.Herd(maxConcurrentRetries: 4, aligned: false),
        breaker: ClientReport.Breaker(verdict: .keptCalling, callsWhileFailingPerSecond: 48, longestPauseMilliseconds: 0),
        timelines: timelines
    )

    /// Request log entries, one http and one tcp.
    static let records = [
        RequestRecord(
            seq: 4, timestamp: origin + 1_000, route: "pay/v2", conn: 2, request: 1,
            source: SourceAddress(address: .v4(127, 0, 0, 1), port: 50_123),
            http: RequestRecord.HTTPPart(method: "POST", path: "/pay", keys: RequestKeys(idempotencyKey: "k-1")),
            outcome: .status(503), fault: "flaky", upstreamNanoseconds: nil, totalNanoseconds: 2_000
        ),
        RequestRecord(
            seq: 5, timestamp: origin + 9_000, route: "pay/v2", conn: 3, request: 0,
            source: SourceAddress(address: .v4(10, 0, 0, 9), port: 40_000), http: nil,
            outcome: .refused, fault: nil, upstreamNanoseconds: nil, totalNanoseconds: 0
        ),
    ]

    /// What `faultctl report` prints for `report`.
    static let tables = """
        route checkout: 61 requests, 18 injected, 8 groups, grouped by auto

        VERDICT  RESULT          DETAILS
        retries  7 of 8 retried  max 40 attempts, 1 gave up, p50 gap 200 ms, p90 gap 410 ms
        backoff  exponential     factor 2.01, first gap 100 ms
        jitter   present         spread 0.34
        herd     not aligned     max 4 concurrent retries
        breaker  kept calling    48.0 calls/s while failing, longest pause 0 ms

        KEY                                                            ATTEMPTS  OUTCOMES                                                 GAPS_MS
        k-1                                                            3         503* 503* 200                                            100 200
        k-2                                                            3         503* 503* 200                                            110 219
        k-3                                                            2         429* 200                                                 208
        k-4                                                            3         reset* closed 200                                        109 217
        GET /orders 10.0.0.7                                           3         hang* aborted_by_client 404                              10 150
        10.0.0.9                                                       4         refused* timed_out* partitioned* relayed                 250 200 200
        <script>document.body.setAttribute('data-pwned','1')</script>  3         500 502* 503*                                            100 220
        poller-7f3c                                                    40        200 200 200 503* 200 200 200 200 200 200 503* 200 … +28  52 52 52 52 52 52 52 52 52 52 52 52 … +27
        * injected by a fault

        """
}

// MARK: - Helpers

/// Headless Chromium (`$CHROMIUM_PATH`, else `chromium` or `chromium-browser` on the PATH);
/// the test is skipped where there is none. StatusPageTests drives it through its DevTools pipe
/// (`path`) instead.
struct Chromium {
    let path: String

    init() throws {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["CHROMIUM_PATH"], !path.isEmpty { candidates.append(path) }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            for name in ["chromium", "chromium-browser"] { candidates.append("\(directory)/\(name)") }
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("needs chromium (apt-get install chromium)")
        }
        path = found
    }

    /// A 1200×900 screenshot of the page at `page`.
    func screenshot(_ page: String, to file: String) throws -> [UInt8] {
        let run = try self.run(["--screenshot=\(file)", "--window-size=1200,900", "--hide-scrollbars", "file://\(page)"], in: file + ".profile")
        guard let data = FileManager.default.contents(atPath: file) else {
            throw DaemonError("chromium wrote no screenshot (exit \(run.status)): \(run.stderr.suffix(2000))")
        }
        return [UInt8](data)
    }

    /// The DOM after the page loaded (scripts run), serialized.
    func dumpDOM(_ page: String) throws -> String {
        let run = try self.run(["--dump-dom", "file://\(page)"], in: page + ".profile")
        guard run.status == 0, !run.stdout.isEmpty else {
            throw DaemonError("chromium --dump-dom failed (exit \(run.status)): \(run.stderr.suffix(2000))")
        }
        return run.stdout
    }

    /// Runs chromium with a profile of its own; output to files (a DOM can outgrow a pipe).
    private func run(_ arguments: [String], in profile: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-dev-shm-usage", "--user-data-dir=\(profile)",
        ] + arguments
        let out = profile + ".out"
        let err = profile + ".err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        let deadline = Deadline(after: .seconds(90))
        while process.isRunning && !deadline.hasPassed { usleep(10_000) }
        if process.isRunning {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw DaemonError("chromium \(arguments) did not exit within 90s")
        }
        return (
            process.terminationStatus,
            (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        )
    }
}

/// Width and height from a PNG's IHDR chunk (bytes 16..<24, big-endian).
private struct PNGHeader {
    let width: UInt32
    let height: UInt32

    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 24, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
        func word(_ at: Int) -> UInt32 { bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        width = word(16)
        height = word(20)
    }
}

/// A stand-in for the daemon's TCP control listener: answers every request with what
/// `answer(target)` returns (status, JSON body), one request per connection, and records the
/// request targets in order.
private final class StandInControl {
    /// What the serving thread shares with the test.
    private final class Shared: Sendable {
        let seen = Mutex<[String]>([])
        let stopping = Atomic<Bool>(false)
    }

    let endpoint: Endpoint
    private let listener: TestListener
    private let shared = Shared()
    private let thread: ThreadHandle

    init(answer: @escaping @Sendable (String) -> (Int, String)) throws {
        let listener = try TestListener()
        let shared = self.shared
        self.listener = listener
        endpoint = listener.endpoint
        thread = Threads.spawn(name: "stand-in-control") {
            while !shared.stopping.load(ordering: .acquiring) {
                guard let socket = try? listener.accept(timeout: .milliseconds(100)) else { continue }
                var head: [UInt8] = []
                while !head.ends(with: Array("\r\n\r\n".utf8)), case .data(let bytes) = socket.read(timeout: .seconds(5)) {
                    head += bytes
                }
                let requestLine = String(decoding: head.prefix { $0 != 0x0D }, as: UTF8.self)
                let target = requestLine.split(separator: " ").dropFirst().first.map(String.init) ?? ""
                shared.seen.withLock { $0.append(target) }
                let (status, body) = answer(target)
                let reply = "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
                    + "Connection: close\r\n\r\n\(body)"
                try? socket.send(Array(reply.utf8))
                socket.close()
            }
        }
    }

    deinit {
        shared.stopping.store(true, ordering: .releasing)
        thread.join()
        listener.close()
    }

    /// The request targets seen so far, in order.
    var targets: [String] { shared.seen.withLock { $0 } }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
