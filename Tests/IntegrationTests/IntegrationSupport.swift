import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import XCTest

/// Shared set-up for tests that start the real `faultlined`.
///
/// XCTest (not Swift Testing) on purpose: XCTest runs these one at a time, so the 1,000-connection
/// run never competes with another daemon for the two cores or the descriptor limit.
class DaemonTestCase: XCTestCase {
    /// Every daemon this test started; teardown fails the test if one died on its own.
    private var daemons: [DaemonProcess] = []

    override func setUp() {
        super.setUp()
        // 1,000 proxied connections need ~3,000 descriptors in this process (client, echo side).
        Posix.raiseOpenFileLimit()
    }

    override func tearDown() {
        // A relay test can pass from the client's view while the daemon crashed (a dead
        // process's sockets close too), so every test also asserts the daemon is alive.
        for daemon in daemons where daemon.exitedUnexpectedly {
            XCTFail("faultlined exited unexpectedly (status \(daemon.waitForExit(timeout: .zero).map(String.init) ?? "?")); log:\n\(daemon.logText)")
        }
        daemons.removeAll()
        super.tearDown()
    }

    /// Starts a daemon with `config` and watches it for an unexpected exit.
    func launch(_ config: TestConfig) throws -> DaemonProcess {
        let daemon = try DaemonProcess(config: config.json)
        daemons.append(daemon)
        return daemon
    }

    /// A daemon with one route `name` to `upstream`, from a config edited by `configure`.
    func startDaemon(
        routes: [TestConfig.Route], configure: (inout TestConfig) -> Void = { _ in }
    ) throws -> DaemonProcess {
        var config = TestConfig(routes: routes)
        configure(&config)
        return try launch(config)
    }

    /// One echo round trip of `bytes` on a fresh connection to `endpoint`.
    func assertEchoes(
        _ endpoint: Endpoint, bytes: [UInt8] = Array("ping".utf8), file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let client = try TestSocket.connect(to: endpoint, timeout: .seconds(2))
        try client.send(bytes)
        try client.shutdownWrite()
        let back = try client.readAll(timeout: .seconds(5))
        XCTAssertEqual(back.count, bytes.count, "echo length via \(endpoint)", file: file, line: line)
        XCTAssertEqual(SHA256.hex(back), SHA256.hex(bytes), "echo content via \(endpoint)", file: file, line: line)
    }
}

/// `count` seeded pseudo-random bytes.
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    var out = [UInt8]()
    out.reserveCapacity(count)
    while out.count < count {
        let word = rng.next()
        for shift in stride(from: 0, to: 64, by: 8) where out.count < count {
            out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
        }
    }
    return out
}

/// Seconds elapsed while running `body`.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = Deadline.now()
    let value = try body()
    return (value, Double(Deadline.now() - start) / 1e9)
}

/// The first line `handle` gives (with its newline), read a byte at a time so nothing after it is
/// taken; shorter when the stream ends first.
func readFirstLine(_ handle: FileHandle) -> [UInt8] {
    var line: [UInt8] = []
    while line.last != UInt8(ascii: "\n") {
        let byte = handle.readData(ofLength: 1)
        if byte.isEmpty { break }
        line.append(contentsOf: byte)
    }
    return line
}

/// Starts `process` with stdout on a pipe and reads the port it prints on its first line (the
/// servers the tests launch announce where they listen); the process is terminated if that line
/// is not a port. `what` names it in the error.
func runReadingPort(_ process: Process, what: String) throws -> UInt16 {
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.standardError
    try process.run()
    let line = readFirstLine(out.fileHandleForReading)
    guard let port = UInt16(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
        process.terminate()
        throw DaemonError("\(what) printed no port: \(String(decoding: line, as: UTF8.self))")
    }
    return port
}
