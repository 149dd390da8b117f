import FaultlineTestSupport
import XCTest

/// `faultlined --check-config PATH`: exit 2 and one `JSONPATH: message` line per error on stderr,
/// or exit 0 and `PATH: ok` on stdout.
final class CheckConfigTests: XCTestCase {
    private func assertRejected(
        _ config: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let (_, result) = try DaemonProcess.checkConfig(config)
        XCTAssertEqual(result.status, 2, "exit status", file: file, line: line)
        XCTAssertEqual(result.stderr, expected.map { $0 + "\n" }.joined(), file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
    }

    private let route = #"{"name":"a","listen":"127.0.0.1:9000","upstream":"127.0.0.1:19000"}"#

    func testUnknownKey() throws {
        try assertRejected(#"{"version":1,"routes":[],"colour":"red"}"#, ["colour: unknown key"])
        try assertRejected(
            #"{"version":1,"routes":[{"name":"a","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","upsteam":"x"}]}"#,
            ["routes[0].upsteam: unknown key"])
    }

    func testBadAddress() throws {
        try assertRejected(
            #"{"version":1,"routes":[{"name":"a","listen":"127.0.0.1:99999","upstream":"127.0.0.1:1"}]}"#,
            [#"routes[0].listen: "127.0.0.1:99999" is not a valid address"#])
        try assertRejected(
            #"{"version":1,"routes":[{"name":"a","listen":"127.0.0.1:0","upstream":"db..local:5432"}]}"#,
            [#"routes[0].upstream: "db..local:5432" is not a valid address"#])
    }

    func testDuplicateRouteName() throws {
        try assertRejected(
            #"{"version":1,"routes":[\#(route),{"name":"a","listen":"127.0.0.1:9001","upstream":"127.0.0.1:19001"}]}"#,
            [#"routes[1].name: duplicate route name "a""#])
    }

    func testDuplicateListen() throws {
        try assertRejected(
            #"{"version":1,"routes":[\#(route),{"name":"b","listen":"127.0.0.1:9000","upstream":"127.0.0.1:19001"}]}"#,
            ["routes[1].listen: duplicate listen address 127.0.0.1:9000 (also routes[0].listen)"])
    }

    func testMissingUpstream() throws {
        try assertRejected(#"{"version":1,"routes":[{"name":"a","listen":"127.0.0.1:0"}]}"#,
                           ["routes[0].upstream: missing required key"])
    }

    func testBadDuration() throws {
        try assertRejected(#"{"version":1,"limits":{"connect_timeout":"20x"}}"#,
                           [#"limits.connect_timeout: "20x" is not a duration"#])
        try assertRejected(#"{"version":1,"limits":{"shutdown_grace":"5"}}"#,
                           [#"limits.shutdown_grace: "5" is not a duration (missing unit)"#])
    }

    func testWrongType() throws {
        try assertRejected(#"{"version":1,"workers":"4"}"#, ["workers: expected an integer, got string"])
        try assertRejected(#"{"version":1,"limits":{"max_connections":true}}"#,
                           ["limits.max_connections: expected an integer, got boolean"])
    }

    func testEveryErrorIsPrintedInOrder() throws {
        try assertRejected(
            #"{"version":1,"workers":"4","limits":{"connect_timeout":"1x"},"routes":[{"name":"a","listen":"127.0.0.1:0"}],"extra":1}"#,
            [
                "workers: expected an integer, got string",
                #"limits.connect_timeout: "1x" is not a duration"#,
                "routes[0].upstream: missing required key",
                "extra: unknown key",
            ])
    }

    func testInvalidJSONAndUnreadableFile() throws {
        try assertRejected("{\"version\": 1,\n  \"workers\": 2,,\n}",
                           ["$: invalid JSON at line 2, column 16: expected a string key"])
        let missing = "/nonexistent-faultline-dir/config.json"
        let result = try DaemonProcess.checkConfig(path: missing)
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stderr, "$: cannot read \(missing): No such file or directory\n")
    }

    func testValidConfigExitsZero() throws {
        let (path, result) = try DaemonProcess.checkConfig(
            #"{"version":1,"seed":7,"workers":2,"limits":{"max_connections":100,"connect_timeout":"1s","shutdown_grace":"5s","buffer_bytes":65536},"routes":[\#(route)]}"#)
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, "\(path): ok\n")
        XCTAssertEqual(result.stderr, "")
    }
}
