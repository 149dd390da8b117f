import FaultlineClient
import FaultlineConfig
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// What a new user meets first, tried as one would: the default control socket, `--route`
/// required, `--for`, ids counted per type, and error messages that say what is wrong.
final class DayOneTests: XCTestCase {
    private var echo: EchoServer!
    private var control: ControlDaemon!
    private var client: FaultlineClient!

    override func setUpWithError() throws {
        echo = try EchoServer()
        control = try ControlDaemon(routes: [("echo", echo.endpoint)], routeObjects: [
            #"{"name":"n1-n2","listen":"127.0.0.1:0","upstream":"\#(echo.endpoint)","from":"n1","to":"n2"}"#,
        ])
        client = FaultlineClient(socket: control.socketPath, timeout: .seconds(5))
    }

    override func tearDown() {
        control = nil
        echo = nil
        super.tearDown()
    }

    private func faultctl(_ arguments: String...) throws -> FaultctlRun {
        try FaultctlRun(["--socket", control.socketPath] + arguments)
    }

    // MARK: The default control socket

    /// A config without `control` (Config/demo.json) still gets a socket: here the harness's
    /// `$RUNTIME_DIRECTORY` (what systemd's RuntimeDirectory= sets), found by faultctl there too.
    func testAConfigWithoutControlListensOnTheDefaultSocket() throws {
        let daemon = try DaemonProcess(config: TestConfig(routes: [.init(name: "echo", upstream: echo.endpoint)]).json)
        let expected = daemon.directory + "/control.sock"
        let line = try XCTUnwrap(daemon.logLines.first { $0.event == "control.listening" }, daemon.logText)
        XCTAssertEqual(line["address"], expected)
        XCTAssertEqual(line["kind"], "unix")
        let status = try FaultctlRun(["status", "--json"], environment: ["RUNTIME_DIRECTORY": daemon.directory])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.hasPrefix(#"{"version":"0.1.0""#), status.stdout)
    }

    /// Not root, no RuntimeDirectory: `$XDG_RUNTIME_DIR/faultline/control.sock`, its directory
    /// made 0700, and faultctl (as the same user, told nothing) finds it.
    func testANonRootDaemonUsesXDGRuntimeDir() throws {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root and setpriv to run the daemon as another user")
        }
        XCTAssertEqual(chmod(control.directory, 0o755), 0)
        let runtime = control.directory + "/xdg"
        XCTAssertEqual(mkdir(runtime, 0o700), 0)
        XCTAssertEqual(chown(runtime, 65534, 65534), 0)
        let asNobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        let environment = ["XDG_RUNTIME_DIR": runtime, "RUNTIME_DIRECTORY": ""]
        let daemon = try DaemonProcess(
            config: TestConfig(routes: [.init(name: "echo", upstream: echo.endpoint)]).json, environment: environment, launcher: asNobody)
        let expected = runtime + "/faultline/control.sock"
        XCTAssertEqual(daemon.logLines.first { $0.event == "control.listening" }?["address"], expected, daemon.logText)
        var info = stat()
        XCTAssertEqual(stat(runtime + "/faultline", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
        XCTAssertEqual(info.st_uid, 65534)
        let status = try FaultctlRun(["status", "--json"], environment: environment, launcher: asNobody)
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.hasPrefix(#"{"version":"0.1.0""#), status.stdout)
        XCTAssertEqual(
            ControlConfig.defaultUnixSocket(effectiveUID: 0, runtimeDirectory: runtime), "/run/faultline/control.sock")
        XCTAssertNil(ControlConfig.defaultUnixSocket(effectiveUID: 1000, runtimeDirectory: nil))
        XCTAssertNil(ControlConfig.defaultUnixSocket(effectiveUID: 1000, runtimeDirectory: "relative"))
        XCTAssertEqual(
            ControlConfig.defaultUnixSocket(effectiveUID: 1000, runtimeDirectory: "/run/user/1000", serviceRuntimeDirectory: "/run/faultline"),
            "/run/faultline/control.sock")
    }

    // MARK: --route, --for, ids

    func testApplyWithoutRouteIsAUsageErrorAndStarMustBeSaid() throws {
        let bare = try faultctl("apply", "stall")
        XCTAssertEqual(bare.status, 2)
        XCTAssertTrue(bare.stderr.hasPrefix("Error: give --route NAME (repeat it for several routes), or --route '*' for every route\n"), bare.stderr)
        let http = try faultctl("apply", "abort", "--status", "503")
        XCTAssertEqual(http.status, 2, http.stderr)
        XCTAssertEqual(try client.faults(), [], "nothing was applied")
        let every = try faultctl("apply", "stall", "--route", "*", "--json")
        XCTAssertEqual(every.status, 0, every.stderr)
        XCTAssertEqual(every.stdout, #"{"id":"stall-1","type":"stall","route":"*","direction":"both","probability":1.0}"# + "\n")
    }

    func testGeneratedIDsAreCountedPerType() throws {
        XCTAssertEqual(try faultctl("apply", "latency", "--route", "echo", "--delay", "1ms", "--json").status, 0)
        XCTAssertEqual(try faultctl("apply", "latency", "--route", "echo", "--delay", "2ms", "--json").status, 0)
        XCTAssertEqual(try faultctl("partition", "n1", "/", "n2").status, 0)
        XCTAssertEqual(try faultctl("apply", "stall", "--route", "echo").status, 0)
        XCTAssertEqual(try client.faults().map(\.id), ["latency-1", "latency-2", "partition-1", "stall-1"])
    }

    /// `--for 1s`: the fault is gone about a second later, journaled as expired, and `faults`
    /// shows the time it had left.
    func testForClearsTheFaultAndFaultsShowsTheTimeLeft() throws {
        let apply = try faultctl("apply", "stall", "--route", "echo", "--id", "brief", "--for", "1500ms")
        XCTAssertEqual(apply.status, 0, apply.stderr)
        XCTAssertTrue(apply.stdout.hasPrefix("ID     TYPE   ROUTE  DIRECTION  PROBABILITY  LEFT  PARAMETERS\n"), apply.stdout)
        XCTAssertTrue(apply.stdout.contains("for=1.5s"), apply.stdout)
        XCTAssertEqual(try faultctl("apply", "stall", "--route", "echo", "--id", "stays").status, 0)

        let faults = try faultctl("faults")
        let rows = faults.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.count, 3, faults.stdout)
        let left = rows[1].split(separator: " ", omittingEmptySubsequences: true)[5]
        XCTAssertTrue(left.hasSuffix("s") && (Double(left.dropLast()) ?? 99) <= 1.5 && (Double(left.dropLast()) ?? 0) > 0.5, rows[1])
        XCTAssertEqual(rows[2].split(separator: " ", omittingEmptySubsequences: true)[5], "-", "no for, no time left")
        let json = try client.send("GET", "/v1/faults/brief").json()
        let ms = try XCTUnwrap(json.objectValue?["expires_in_ms"]?.doubleValue)
        XCTAssertTrue(ms > 500 && ms <= 1500, "\(ms)")
        XCTAssertEqual(json.objectValue?["for"], "1.5s")

        let deadline = Deadline(after: .seconds(5))
        while try client.faults().contains(where: { $0.id == "brief" }) && !deadline.hasPassed { usleep(20_000) }
        XCTAssertEqual(try client.faults().map(\.id), ["stays"])
        let journal = try client.journal()
        let applied = try XCTUnwrap(journal.first { $0.event == "fault.applied" && $0.raw.contains(#""id":"brief""#) })
        let cleared = try XCTUnwrap(journal.first { $0.event == "fault.cleared" && $0.fields["id"] == "brief" })
        XCTAssertEqual(cleared.fields["reason"], "expired")
        let lived = Double(try XCTUnwrap(ReportJSON.parseTimestamp(cleared.timestamp)) - (try XCTUnwrap(ReportJSON.parseTimestamp(applied.timestamp)))) / 1e9
        XCTAssertEqual(lived, 1.5, accuracy: 0.1, "cleared 1.5 s after it was applied")
    }

    func testTheSwiftClientAppliesWithFor() throws {
        let stored = try client.apply(.latency(route: "echo", delay: .milliseconds(5), for: .seconds(30)))
        XCTAssertEqual(stored.id, "latency-1")
        XCTAssertEqual(stored.lifetime, .seconds(30))
        XCTAssertEqual(try client.faults().map(\.lifetime), [.seconds(30)])
        let left = try XCTUnwrap(try client.send("GET", "/v1/faults/latency-1").json().objectValue?["expires_in_ms"]?.doubleValue)
        XCTAssertTrue(left > 25_000 && left <= 30_000, "\(left)")
    }

    func testTheSwiftClientAppliesAnArrayAllOrNothing() throws {
        XCTAssertThrowsError(try client.apply([
            .stall(route: "echo", id: "first"), .latency(route: "echo", delay: .milliseconds(1), id: "first"),
        ])) { error in
            XCTAssertEqual((error as? FaultlineClientError)?.path, "[1].id")
        }
        XCTAssertEqual(try client.faults(), [])
        let stored = try client.apply([.stall(route: "echo"), .stall(route: "echo", for: .seconds(9))])
        XCTAssertEqual(stored.map(\.id), ["stall-1", "stall-2"])
        XCTAssertEqual(try client.faults().map(\.lifetime), [nil, .seconds(9)])
    }

    // MARK: Messages

    func testMessagesSayWhatIsWrong() throws {
        let unknown = try faultctl("apply", "frobnicate")
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.hasPrefix("""
            Error: unknown fault type "frobnicate"; known types: latency, bandwidth, slicer, blackhole, stall, reset, timeout, \
            limit-data, slow-close, refuse, connect-delay, corrupt, partition, abort, delay, drop-response, duplicate, \
            rst-stream, goaway, window-stall

            """), unknown.stderr)
        let underscore = try faultctl("apply", "drop_response")
        XCTAssertTrue(underscore.stderr.hasPrefix(#"Error: unknown fault type "drop_response" (did you mean drop-response?); "#), underscore.stderr)

        let since = try faultctl("journal", "--since", "-1")
        XCTAssertEqual(since.status, 2)
        XCTAssertTrue(since.stderr.hasPrefix(#"Error: --since: "-1" is not a sequence number; give 0 or more"#), since.stderr)

        let missing = control.directory + "/nope.json"
        let noFile = try faultctl("apply", "--file", missing)
        XCTAssertEqual(noFile.status, 2)
        XCTAssertTrue(noFile.stderr.hasPrefix("Error: --file: cannot read \(missing): No such file or directory\n"), noFile.stderr)
        let directory = try faultctl("apply", "--file", control.directory)
        XCTAssertTrue(directory.stderr.hasPrefix("Error: --file: cannot read \(control.directory): Is a directory\n"), directory.stderr)

        let (_, check) = try DaemonProcess.checkConfig(#"{"version": 1, "seed": 18446744073709551616, "routes": []}"#)
        XCTAssertEqual(check.status, 2)
        XCTAssertEqual(
            check.stdout + check.stderr,
            "seed: out of range: must be between 0 and 18446744073709551615, got 1.8446744073709552e+19\n")
    }
}
