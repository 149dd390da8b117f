import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// A daemon owns its listening ports and its journal file: a second daemon pointed at either
/// fails at start with an error naming it, and writes nothing anywhere; journal numbering goes
/// on across restarts.
final class OwnershipTests: DaemonTestCase {
    private func config(socket: String, journal: String, listen: String, upstream: Endpoint) -> String {
        """
        {"version": 1, "seed": 3, "workers": 2, "journal": "\(journal)",
         "control": {"unix_socket": "\(socket)"},
         "routes": [{"name": "echo", "listen": "\(listen)", "upstream": "\(upstream)"}]}
        """
    }

    /// Runs a second faultlined on `config` to completion; its exit status and output.
    private func runSecond(_ config: String, in directory: String) throws -> (status: Int32, output: String) {
        let path = directory + "/second.json"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return try runTool([try DaemonProcess.binaryPath(), "--config", path, "--log-format", "json"],
                           environment: ["RUNTIME_DIRECTORY": directory], timeout: .seconds(20))
    }

    func testASecondDaemonCannotShareThePortsOrTheJournal() throws {
        let echo = try EchoServer(threads: 1)
        let scratch = try makeScratchDirectory("fl-own")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let journal = scratch + "/journal.jsonl"
        let first = try DaemonProcess(config: config(
            socket: scratch + "/first.sock", journal: journal, listen: "127.0.0.1:0", upstream: echo.endpoint))
        let port = try first.route("echo").port
        let journalBefore = try String(contentsOfFile: journal, encoding: .utf8)
        XCTAssertTrue(journalBefore.contains(#""event":"daemon.started""#))

        // Same routes, its own control socket and journal: the port is taken.
        let ports = try runSecond(config(
            socket: scratch + "/second.sock", journal: scratch + "/second.jsonl",
            listen: "127.0.0.1:\(port)", upstream: echo.endpoint), in: scratch)
        XCTAssertEqual(ports.status, 1, ports.output)
        XCTAssertTrue(ports.output.contains("cannot listen on 127.0.0.1:\(port): Address already in use"), ports.output)
        XCTAssertEqual(try String(contentsOfFile: scratch + "/second.jsonl", encoding: .utf8), "",
                       "a daemon that failed to start journals nothing")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/second.sock"), "and leaves no control socket")

        // The same journal file (another port): refused before anything binds or is written.
        let shared = try runSecond(config(
            socket: scratch + "/third.sock", journal: journal, listen: "127.0.0.1:0", upstream: echo.endpoint), in: scratch)
        XCTAssertEqual(shared.status, 1, shared.output)
        XCTAssertTrue(shared.output.contains(#""event":"journal.locked""#), shared.output)
        XCTAssertTrue(shared.output.contains(journal), shared.output)
        XCTAssertFalse(shared.output.contains("daemon.started"), shared.output)
        XCTAssertEqual(try String(contentsOfFile: journal, encoding: .utf8), journalBefore, "the first daemon's journal is untouched")

        // Every connection still reaches the first daemon (none were split off to a second one).
        for index in 0..<20 { try assertEchoes(Endpoint(address: .v4(127, 0, 0, 1), port: port), bytes: randomBytes(1000, seed: UInt64(index))) }
        XCTAssertTrue(first.isRunning)
    }

    func testJournalSequenceContinuesAfterARestart() throws {
        let echo = try EchoServer(threads: 1)
        let scratch = try makeScratchDirectory("fl-seq")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let journal = scratch + "/journal.jsonl"
        let text = config(socket: scratch + "/control.sock", journal: journal, listen: "127.0.0.1:0", upstream: echo.endpoint)

        func sequences() throws -> [Int] {
            try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").map { line in
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return try XCTUnwrap(object?["seq"] as? Int, String(line))
            }
        }
        var lastOfFirstRun = 0
        do {
            let daemon = try DaemonProcess(config: text)
            let control = ControlHTTP(socketPath: scratch + "/control.sock")
            _ = try control.expect(201, "POST", "/v1/faults", json: #"{"id": "slow", "route": "echo", "type": "latency", "delay": "1ms"}"#)
            _ = try control.expect(204, "DELETE", "/v1/faults/slow")
            daemon.signal(SIGTERM)
            XCTAssertEqual(daemon.waitForExit(timeout: .seconds(10)), 0)
            lastOfFirstRun = try XCTUnwrap(sequences().last)
            XCTAssertGreaterThanOrEqual(lastOfFirstRun, 3)
        }
        let daemon = try DaemonProcess(config: text)
        let control = ControlHTTP(socketPath: scratch + "/control.sock")
        let all = try sequences()
        XCTAssertEqual(all, Array(1...all.count), "one run after another, numbered without a gap or a repeat")
        let answer = try control.expect(200, "GET", "/v1/journal?since=\(lastOfFirstRun)")
        let served = answer.text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["seq"] as? Int
        }
        XCTAssertEqual(served.first, lastOfFirstRun + 1, answer.text)
        XCTAssertTrue(answer.text.contains(#""event":"daemon.started""#))
        XCTAssertTrue(daemon.isRunning)
    }
}
