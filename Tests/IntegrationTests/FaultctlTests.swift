import FaultlineClient
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// The real `faultctl` binary against the real daemon: tables, `--json`, exit codes 0/1/2/3.
final class FaultctlTests: XCTestCase {
    private var echo: EchoServer!
    private var control: ControlDaemon!
    private var client: FaultlineClient!

    override func setUpWithError() throws {
        echo = try EchoServer()
        control = try ControlDaemon(
            routes: [("echo", echo.endpoint)],
            extra: #","nodes":{"n1":{"addresses":["127.0.0.11"]},"n2":{"addresses":["127.0.0.12"]},"n3":{"addresses":["127.0.0.13"]}}"#
        )
        client = FaultlineClient(socket: control.socketPath, timeout: .seconds(5))
    }

    override func tearDown() {
        control = nil
        echo = nil
        super.tearDown()
    }

    /// Runs faultctl with `--socket` of the test's daemon in front of `arguments` (unless
    /// `socket` is false).
    private func faultctl(_ arguments: String..., socket: Bool = true) throws -> FaultctlRun {
        try FaultctlRun(socket ? ["--socket", control.socketPath] + arguments : arguments)
    }

    // MARK: Output

    func testRoutesAndStatusTables() throws {
        let bound = try XCTUnwrap(try client.route("echo").bound)
        let routes = try faultctl("routes")
        XCTAssertEqual(routes.status, 0, routes.stderr)
        XCTAssertEqual(routes.stderr, "")
        let header = "NAME  LISTEN       BOUND" + String(repeating: " ", count: bound.description.count - 5 + 2)
            + "UPSTREAM" + String(repeating: " ", count: echo.endpoint.description.count - 8 + 2)
            + "PROTOCOL  FROM  TO  ENABLED  TLS  ORIGIN\n"
        let row = "echo  127.0.0.1:0  \(bound)  \(echo.endpoint)  tcp       -     -   yes      -    config\n"
        XCTAssertEqual(routes.stdout, header + row)

        let status = try faultctl("status")
        XCTAssertEqual(status.status, 0, status.stderr)
        let lines = status.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "version           0.1.0")
        XCTAssertTrue(lines[1].hasPrefix("uptime            "), lines[1])
        XCTAssertEqual(Array(lines[2...9]), [
            "workers           2", "seed              7", "plan version      1", "open connections  0",
            "schedule          none", "routes            1", "faults            0", "",
        ])
        XCTAssertEqual(lines[10...].joined(separator: "\n"), header + row)
    }

    func testJSONIsTheDaemonsAnswerUnchanged() throws {
        for (command, path) in [("routes", "/v1/routes"), ("faults", "/v1/faults"), ("schedule", "/v1/schedule")] {
            let run = try faultctl(command, "--json")
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(run.stdout, try client.send("GET", path).text, command)
        }
        // Global options may also come before the command.
        let status = try FaultctlRun(["--json", "--socket", control.socketPath, "status"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let json = try XCTUnwrap(try? JSONParser.parse(status.stdout).get())
        XCTAssertEqual(try DaemonStatus(json: json).routes.map(\.name), ["echo"])
        XCTAssertTrue(status.stdout.hasSuffix("}\n"))
    }

    // MARK: Apply and clear

    func testApplyClearRoundTrip() throws {
        let apply = try faultctl(
            "apply", "latency", "--route", "echo", "--delay", "100ms", "--jitter", "10ms", "--direction", "downstream",
            "--probability", "0.5", "--id", "slow"
        )
        XCTAssertEqual(apply.status, 0, apply.stderr)
        XCTAssertEqual(apply.stdout, """
            ID    TYPE     ROUTE  DIRECTION   PROBABILITY  PARAMETERS
            slow  latency  echo   downstream  0.5          delay=100ms jitter=10ms distribution=uniform

            """)
        XCTAssertEqual(try client.fault("slow"), .latency(
            route: "echo", delay: .milliseconds(100), jitter: .milliseconds(10), direction: .downstream, probability: 0.5, id: "slow"
        ))

        let bandwidth = try faultctl("apply", "bandwidth", "--route", "*", "--bytes-per-second", "1000", "--json")
        XCTAssertEqual(bandwidth.status, 0, bandwidth.stderr)
        XCTAssertEqual(
            bandwidth.stdout,
            #"{"id":"bandwidth-1","type":"bandwidth","route":"*","direction":"both","probability":1.0,"bytes_per_second":1000}"# + "\n"
        )

        let faults = try faultctl("faults")
        XCTAssertEqual(faults.stdout, """
            ID           TYPE       ROUTE  DIRECTION   PROBABILITY  PARAMETERS
            slow         latency    echo   downstream  0.5          delay=100ms jitter=10ms distribution=uniform
            bandwidth-1  bandwidth  *      both        1            bytes_per_second=1000

            """)

        let clear = try faultctl("clear", "slow")
        XCTAssertEqual(clear.status, 0, clear.stderr)
        XCTAssertEqual(clear.stdout, "cleared slow\n")
        XCTAssertEqual(try client.faults().map(\.id), ["bandwidth-1"])

        let again = try faultctl("clear", "slow")
        XCTAssertEqual(again.status, 1)
        XCTAssertEqual(again.stdout, "")
        XCTAssertEqual(again.stderr, "faultctl: not_found: no fault with id \"slow\"\n")

        let all = try faultctl("clear", "--all", "--json")
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertEqual(all.stdout, #"{"cleared":["bandwidth-1"]}"# + "\n")
        XCTAssertEqual(try faultctl("clear", "--all").stdout, "no active faults\n")
        XCTAssertEqual(try faultctl("faults").stdout, "no active faults\n")
    }

    /// The HTTP/2 faults and a gRPC abort from flags reach the daemon as the client's builders
    /// write them, on a grpc route added with its upstream protocol.
    func testHTTP2FaultsAndAGRPCAbortFromFlags() throws {
        let route = try client.addRoute(name: "g", upstream: echo.endpoint.description, protocol: .grpc, upstreamProtocol: .h2)
        XCTAssertEqual(route.spec.upstreamProtocol, .h2)
        XCTAssertEqual(try client.routes().first { $0.name == "g" }?.spec.upstreamProtocol, .h2)

        let reset = try faultctl("apply", "rst-stream", "--route", "g", "--error-code", "REFUSED_STREAM", "--path", "/a.B/C", "--id", "r", "--json")
        XCTAssertEqual(reset.status, 0, reset.stderr)
        XCTAssertEqual(reset.stdout, #"{"id":"r","type":"rst_stream","route":"g","probability":1.0,"error_code":"REFUSED_STREAM","match":{"path":"/a.B/C"},"mark":false}"# + "\n")
        XCTAssertEqual(try client.fault("r"), .rstStream(route: "g", errorCode: 7, match: HTTPMatch(path: "/a.B/C"), id: "r"))

        XCTAssertEqual(try faultctl("apply", "goaway", "--route", "g", "--error-code", "0xb", "--no-graceful", "--id", "ga").status, 0)
        XCTAssertEqual(try client.fault("ga"), .goaway(route: "g", errorCode: 0xb, graceful: false, id: "ga"))
        XCTAssertEqual(try faultctl("apply", "window-stall", "--route", "g", "--first", "1", "--key", "connection", "--id", "w").status, 0)
        XCTAssertEqual(try client.fault("w"), .windowStall(route: "g", attempts: Attempts(key: .connection, first: 1), id: "w"))
        XCTAssertEqual(try faultctl("apply", "abort", "--route", "g", "--grpc-status", "UNAVAILABLE", "--grpc-message", "later", "--id", "a").status, 0)
        XCTAssertEqual(try client.fault("a"), .abort(route: "g", status: 200, grpcStatus: 14, grpcMessage: "later", id: "a"))

        let bad = try faultctl("apply", "rst-stream", "--route", "g", "--error-code", "NOPE")
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.hasPrefix(#"faultctl: invalid_fault: unknown HTTP/2 error code "NOPE" (expected 0–4294967295 or NO_ERROR, "#), bad.stderr)
        XCTAssertTrue(bad.stderr.hasSuffix(" or HTTP_1_1_REQUIRED) (at error_code)\n"), bad.stderr)
        let tcp = try faultctl("apply", "goaway", "--route", "echo")
        XCTAssertEqual(tcp.status, 1)
        XCTAssertTrue(tcp.stderr.contains(#"fault type goaway acts on http routes; route "echo" is tcp"#), tcp.stderr)
    }

    func testApplyFromFile() throws {
        let path = control.directory + "/faults.json"
        try #"[{"id":"a","type":"stall","route":"echo"},{"type":"reset","after_bytes":10}]"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let run = try faultctl("apply", "--file", path, "--json")
        XCTAssertEqual(run.status, 0, run.stderr)
        // One POST of the whole array: one answer.
        XCTAssertEqual(run.stdout, """
            {"faults":[{"id":"a","type":"stall","route":"echo","direction":"both","probability":1.0},{"id":"reset-1","type":"reset","route":"*","direction":"both","probability":1.0,"after":"0s","after_bytes":10}]}

            """)
        XCTAssertEqual(try client.faults().map(\.id), ["a", "reset-1"])

        // All or nothing: the first element is fine, the second is not; neither is applied.
        try #"[{"id":"b","type":"stall","route":"echo"},{"type":"latency","route":"echo","delay":"20x"}]"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let refused = try faultctl("apply", "--file", path)
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stderr, "faultctl: invalid_fault: \"20x\" is not a duration (at [1].delay)\n")
        XCTAssertEqual(try client.faults().map(\.id), ["a", "reset-1"])

        try "{not json".write(toFile: path, atomically: true, encoding: .utf8)
        let bad = try faultctl("apply", "--file", path)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.hasPrefix("Error: \(path): not JSON: "), bad.stderr)
    }

    func testPartitionAndHeal() throws {
        let cut = try faultctl("partition", "n1", "/", "n2,n3", "--one-way", "--id", "cut")
        XCTAssertEqual(cut.status, 0, cut.stderr)
        XCTAssertEqual(cut.stdout, """
            ID   TYPE       ROUTE  DIRECTION  PROBABILITY  PARAMETERS
            cut  partition  *      -          -            groups=n1/n2,n3 mode=blackhole one_way=true

            """)
        let isolate = try faultctl("apply", "partition", "--isolate", "n3", "--mode", "reset", "--json")
        XCTAssertEqual(isolate.status, 0, isolate.stderr)
        XCTAssertEqual(isolate.stdout, #"""
            {"id":"partition-1","type":"partition","route":"*","kind":"isolate","node":"n3","mode":"reset","one_way":false,"resolved":[[["n3"],["n1","n2"]]]}

            """#)
        let heal = try faultctl("heal")
        XCTAssertEqual(heal.status, 0, heal.stderr)
        XCTAssertEqual(heal.stdout, "healed cut, partition-1\n")
        XCTAssertEqual(try faultctl("heal").stdout, "no partitions\n")
        XCTAssertEqual(try client.faults(), [])
    }

    // MARK: Exit codes

    func testRejectedRequestsExitOneWithEveryProblem() throws {
        let invalid = try faultctl("apply", "latency", "--route", "echo", "--delay", "20x", "--probability", "2")
        XCTAssertEqual(invalid.status, 1)
        XCTAssertEqual(invalid.stdout, "")
        XCTAssertEqual(invalid.stderr, """
            faultctl: invalid_fault: must be between 0 and 1, got 2.0 (at probability)
            faultctl: invalid_fault: "20x" is not a duration (at delay)

            """)
        XCTAssertEqual(try faultctl("apply", "stall", "--route", "echo", "--id", "dup").status, 0)
        let duplicate = try faultctl("apply", "blackhole", "--route", "echo", "--id", "dup")
        XCTAssertEqual(duplicate.status, 1)
        XCTAssertEqual(duplicate.stderr, "faultctl: fault_exists: a fault with id \"dup\" is already active (at id)\n")
        let unknownRoute = try faultctl("routes", "disable", "nope")
        XCTAssertEqual(unknownRoute.status, 1)
        XCTAssertEqual(unknownRoute.stderr, "faultctl: not_found: no route named \"nope\"\n")
        XCTAssertEqual(try client.faults().map(\.id), ["dup"], "rejected requests change nothing")
    }

    func testUsageErrorsExitTwo() throws {
        let cases: [([String], String)] = [
            (["apply", "latency", "--route", "echo"], "Error: Missing expected argument '--delay <duration>'\n"),
            (["clear"], "Error: give the ids of the faults to clear, or --all\n"),
            (["clear", "x", "--all"], "Error: give fault ids or --all, not both\n"),
            (["frobnicate"], "Error: Unexpected argument 'frobnicate'\n"),
            (["partition"], "Error: give groups (n1 / n2,n3) or one of --isolate NODE, --random-halves, --random-node, --bridge, --ring\n"),
            (["apply", "bandwidth", "--route", "*", "--bytes-per-second", "fast"], "Error: The value 'fast' is invalid for '--bytes-per-second <n>'\n"),
            (["status", "--url", "ftp://x"], "faultctl: invalid_request: unsupported URL scheme \"ftp\" in ftp://x (only http)\n"),
        ]
        for (arguments, firstLine) in cases {
            let run = try FaultctlRun(arguments)
            XCTAssertEqual(run.status, 2, "\(arguments): \(run.stderr)")
            XCTAssertEqual(run.stdout, "", "\(arguments)")
            XCTAssertTrue(run.stderr.hasPrefix(firstLine), "\(arguments): \(run.stderr)")
        }
        let both = try faultctl("status", "--url", "http://127.0.0.1:1")
        XCTAssertEqual(both.status, 2)
        XCTAssertTrue(both.stderr.hasPrefix("Error: give --socket or --url, not both\n"), both.stderr)
    }

    func testUnreachableDaemonExitsThree() throws {
        let missing = control.directory + "/absent.sock"
        let noSocket = try FaultctlRun(["status", "--socket", missing])
        XCTAssertEqual(noSocket.status, 3)
        XCTAssertEqual(noSocket.stderr, "faultctl: unreachable: cannot connect to \(missing): No such file or directory\n")

        let port = try Loopback.freePort()
        let refused = try FaultctlRun(["faults", "--url", "http://127.0.0.1:\(port)"])
        XCTAssertEqual(refused.status, 3)
        XCTAssertEqual(refused.stderr, "faultctl: unreachable: cannot connect to http://127.0.0.1:\(port): Connection refused\n")

        let silent = try TestListener()
        defer { silent.close() }
        let timedOut = try FaultctlRun(["faults", "--url", "http://\(silent.endpoint)", "--request-timeout", "200ms"])
        XCTAssertEqual(timedOut.status, 3)
        XCTAssertEqual(timedOut.stderr, "faultctl: unreachable: timed out waiting for an answer from http://\(silent.endpoint)\n")

        // The default socket comes from $FAULTLINE_SOCKET.
        let fromEnvironment = try FaultctlRun(["faults"], environment: ["FAULTLINE_SOCKET": missing])
        XCTAssertEqual(fromEnvironment.status, 3)
        let viaEnvironment = try FaultctlRun(["faults", "--json"], environment: ["FAULTLINE_SOCKET": control.socketPath])
        XCTAssertEqual(viaEnvironment.status, 0, viaEnvironment.stderr)
        XCTAssertEqual(viaEnvironment.stdout, "{\"faults\":[]}\n")
    }

    // MARK: Journal, metrics, reload, help

    func testJournalMetricsAndReload() throws {
        try client.apply(.stall(route: "echo", id: "s"))
        try client.clear("s")
        let json = try faultctl("journal", "--json")
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertEqual(json.stdout, try client.journal().map { $0.raw + "\n" }.joined())

        let table = try faultctl("journal", "--since", "1")
        XCTAssertEqual(table.status, 0, table.stderr)
        let rows = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        XCTAssertEqual(rows.first, ["SEQ", "TIME", "EVENT", "DETAILS"])
        XCTAssertEqual(rows.dropFirst().map { [$0[0], $0[2]] }, [["2", "fault.applied"], ["3", "fault.cleared"]])
        XCTAssertEqual(rows.last?.suffix(2), ["id=s", "reason=api"])

        try client.apply(.latency(route: "echo", delay: .milliseconds(5)))
        let metrics = try faultctl("metrics")
        XCTAssertEqual(metrics.status, 0, metrics.stderr)
        XCTAssertTrue(metrics.stdout.hasPrefix("# HELP "), metrics.stdout)
        XCTAssertTrue(metrics.stdout.contains("\nfaultline_faults_active{type=\"latency\"} 1\n"), metrics.stdout)

        let reload = try faultctl("reload")
        XCTAssertEqual(reload.status, 0, reload.stderr)
        XCTAssertEqual(reload.stdout, "reloaded: plan version 5, 1 routes, 1 faults\n")
    }

    /// `journal --follow` prints events applied after it started, as they come, each once; the
    /// table has one header however many polls come back empty.
    func testJournalFollow() throws {
        let json = try FaultctlProcess(["--socket", control.socketPath, "journal", "--follow", "--interval", "50ms", "--json"])
        defer { json.stop() }
        let table = try FaultctlProcess(["--socket", control.socketPath, "journal", "--follow", "--interval", "50ms"])
        defer { table.stop() }
        XCTAssertNotNil(json.waitForOutput(containing: "\"daemon.started\"", timeout: .seconds(5)), json.output)
        XCTAssertNotNil(table.waitForOutput(containing: "daemon.started", timeout: .seconds(5)), table.output)
        usleep(200_000)  // a few empty polls
        try client.apply(.stall(route: "echo", id: "followed"))
        XCTAssertNotNil(json.waitForOutput(containing: "\"id\":\"followed\"", timeout: .seconds(5)), json.output)
        XCTAssertNotNil(table.waitForOutput(containing: "fault={\"id\":\"followed\"", timeout: .seconds(5)), table.output)
        XCTAssertEqual(json.output.split(separator: "\n").count, 2, "each event once: \(json.output)")
        let lines = table.output.split(separator: "\n")
        XCTAssertEqual(lines.map { $0.split(separator: " ").first ?? "" }, ["SEQ", "1", "2"], table.output)
    }

    func testHelpVersionAndCompletions() throws {
        let help = try FaultctlRun(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("""
            Exit codes:
              0  ok
              1  the daemon rejected the request; stderr gets one line per problem:
                 faultctl: <code>: <message> (at <path>)
              2  usage error: unknown option, bad or missing argument, unreadable file
              3  cannot reach the daemon: no socket, connection refused or reset, timeout,
                 or an answer that is not the control API's
            """), help.stdout)
        let version = try FaultctlRun(["--version"])
        XCTAssertEqual(version.stdout, "0.1.0\n")
        let bash = try FaultctlRun(["--generate-completion-script", "bash"])
        XCTAssertEqual(bash.status, 0, bash.stderr)
        XCTAssertTrue(bash.stdout.contains("_faultctl()"), bash.stdout)
        XCTAssertTrue(bash.stdout.contains("partition"), "subcommands are completed")
    }
}

// MARK: - Running the binary

/// Where `faultctl` is: `$FAULTCTL_PATH`, else next to the `faultlined` that `DaemonProcess` uses.
func faultctlPath() throws -> String {
    if let path = ProcessInfo.processInfo.environment["FAULTCTL_PATH"], !path.isEmpty { return path }
    let path = URL(fileURLWithPath: try DaemonProcess.binaryPath()).deletingLastPathComponent().appendingPathComponent("faultctl").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw DaemonError("faultctl not found at \(path) (build it, or set FAULTCTL_PATH)")
    }
    return path
}

/// One finished run of `faultctl`: exit status, stdout and stderr apart.
struct FaultctlRun {
    let status: Int32
    let stdout: String
    let stderr: String

    /// Runs faultctl with `arguments`, killing it (by pid) if it has not exited within `timeout`.
    /// Output goes to files, so a large answer cannot block the child on a full pipe.
    /// - Parameter launcher: a program (and its arguments) that runs faultctl, e.g. setpriv.
    init(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(15), launcher: [String] = []) throws {
        let process = launcher.isEmpty
            ? FaultctlProcess.make(try faultctlPath(), arguments, environment: environment)
            : FaultctlProcess.make(launcher[0], Array(launcher.dropFirst()) + [try faultctlPath()] + arguments, environment: environment)
        let files = try OutputFiles()
        process.standardOutput = files.stdout
        process.standardError = files.stderr
        try process.run()
        let deadline = Deadline(after: timeout)
        while process.isRunning && !deadline.hasPassed { usleep(2_000) }
        if process.isRunning {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw DaemonError("faultctl \(arguments) did not exit within \(timeout)")
        }
        status = process.terminationStatus
        (stdout, stderr) = files.read()
    }
}

/// Two temporary files for a child's stdout and stderr.
private final class OutputFiles {
    let directory: String
    let stdout: FileHandle
    let stderr: FileHandle

    init() throws {
        var template = Array((NSTemporaryDirectory() + "faultctl-out-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed") }
        directory = String(cString: made)
        _ = FileManager.default.createFile(atPath: directory + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: directory + "/err", contents: nil)
        stdout = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/out"))
        stderr = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/err"))
    }

    var outPath: String { directory + "/out" }

    func read() -> (String, String) {
        let out = (try? String(contentsOfFile: directory + "/out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: directory + "/err", encoding: .utf8)) ?? ""
        return (out, err)
    }

    deinit {
        try? stdout.close()
        try? stderr.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A long-running faultctl (`journal --follow`), stopped by pid.
final class FaultctlProcess {
    private let process: Process
    private let files: OutputFiles

    static func make(_ path: String, _ arguments: [String], environment: [String: String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged["FAULTLINE_SOCKET"] = nil
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.standardInput = FileHandle.nullDevice
        return process
    }

    init(_ arguments: [String]) throws {
        process = FaultctlProcess.make(try faultctlPath(), arguments, environment: [:])
        files = try OutputFiles()
        process.standardOutput = files.stdout
        process.standardError = files.stderr
        try process.run()
    }

    /// stdout so far.
    var output: String { files.read().0 }

    /// Waits until stdout contains `text`; stdout then, or nil after `timeout`.
    func waitForOutput(containing text: String, timeout: Duration) -> String? {
        let deadline = Deadline(after: timeout)
        while !deadline.hasPassed {
            let now = output
            if now.contains(text) { return now }
            usleep(10_000)
        }
        return nil
    }

    /// SIGTERM, then SIGKILL after 2 s; reaps the process.
    func stop() {
        guard process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGTERM)
        let deadline = Deadline(after: .seconds(2))
        while process.isRunning && !deadline.hasPassed { usleep(5_000) }
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}
