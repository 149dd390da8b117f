import FaultlineConfig
import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// A real 3-member etcd cluster whose peer traffic crosses Faultline (`Scripts/lib/etcd-cluster.sh`,
/// one network namespace per member): isolating the leader costs it its leadership and its
/// linearizable reads, the majority elects a new leader and keeps accepting writes, and after the
/// heal all three converge with every acknowledged write present.
///
/// Needs root (network namespaces) and etcd; skipped with a message otherwise. No packet is sent
/// to the cluster's addresses unless `etcd-cluster.sh up` exited 0 (the script checks they route
/// through its own veths), and `down` always runs.
final class EtcdClusterTests: XCTestCase {
    private struct Command {
        var status: Int32
        var output: String
        var error: String
    }

    private var directory = ""
    private var environment: [String: String] = [:]

    private static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Runs `arguments[0]` (found on PATH) with the rest, killed after `timeout`. Output goes
    /// through files, so a chatty command can never block on a full pipe.
    ///
    /// posix_spawn and waitpid rather than Foundation's Process: Process learns of an exit when a
    /// descriptor it shares with the child closes, and `etcd-cluster.sh up` leaves etcd and
    /// faultlined running in the background holding that descriptor, so `up` would never "exit".
    private func run(_ arguments: [String], extraEnvironment: [String: String] = [:], timeout: Duration = .seconds(10)) throws -> Command {
        let out = directory + "/cmd.out"
        let err = directory + "/cmd.err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let environment = ProcessInfo.processInfo.environment.merging(extraEnvironment) { $1 }.map { "\($0.key)=\($0.value)" }
        func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { strdup($0) } + [nil] }
        let argv = cStrings(arguments)
        let envp = cStrings(environment)
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, envp)
        guard spawned == 0 else { throw DaemonError("cannot run \(arguments[0]): errno \(spawned)") }
        let deadline = Deadline(after: timeout)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if deadline.hasPassed {
                _ = kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                return Command(status: -1, output: "", error: "\(arguments.joined(separator: " ")) timed out after \(timeout)")
            }
            usleep(10_000)
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
        let exitStatus: Int32 = status & 0x7f == 0 ? (status >> 8) & 0xff : -1
        return Command(
            status: exitStatus,
            output: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            error: (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        )
    }

    private func etcdctl(_ endpoints: [String], _ arguments: [String], timeout: String = "3s") throws -> Command {
        try run(
            ["etcdctl", "--endpoints", endpoints.joined(separator: ","), "--dial-timeout", "1s", "--command-timeout", timeout] + arguments,
            extraEnvironment: ["ETCDCTL_API": "3"], timeout: .seconds(15)
        )
    }

    /// One member's `endpoint status`: its member id, the leader it knows, revision, term.
    private struct MemberStatus {
        var endpoint: String
        var memberID: String
        var leaderID: String
        var revision: Int64
        var term: Int64
    }

    /// Parsed with Faultline's own JSON parser: member ids are 64-bit unsigned and must compare exactly.
    private func status(_ endpoints: [String]) throws -> [MemberStatus] {
        let result = try etcdctl(endpoints, ["endpoint", "status", "-w", "json"], timeout: "2s")
        guard case .success(let value) = JSONParser.parse(result.output), let items = value.arrayValue else { return [] }
        return items.compactMap { item in
            guard let object = item.objectValue, let endpoint = object["Endpoint"]?.stringValue,
                  let status = object["Status"]?.objectValue, let header = status["header"]?.objectValue,
                  let member = header["member_id"], let leader = status["leader"] else { return nil }
            return MemberStatus(
                endpoint: endpoint, memberID: JSONWriter.render(member), leaderID: JSONWriter.render(leader),
                revision: header["revision"]?.int64Value ?? -1, term: header["raft_term"]?.int64Value ?? -1
            )
        }
    }

    /// `n<i>` for `http://10.NET.<i>.2:2379`.
    private func node(_ endpoint: String) -> String {
        let octets = endpoint.dropFirst("http://".count).split(separator: ":")[0].split(separator: ".")
        return "n\(octets[2])"
    }

    /// Every key under `fl/` and its value, read from one member's local store (serializable).
    private func keys(at endpoint: String) throws -> [String: String] {
        let result = try etcdctl([endpoint], ["get", "fl/", "--prefix", "--consistency=s", "-w", "json"])
        guard result.status == 0, case .success(let value) = JSONParser.parse(result.output) else { return [:] }
        var out: [String: String] = [:]
        for kv in value.objectValue?["kvs"]?.arrayValue ?? [] {
            guard let key = kv.objectValue?["key"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
                  let value = kv.objectValue?["value"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) else { continue }
            out[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        return out
    }

    /// Polls `check` every 200 ms until it returns a value or `timeout` passes.
    private func waitFor<T>(_ what: String, timeout: Duration, _ check: () throws -> T?) throws -> T {
        let deadline = Deadline(after: timeout)
        while true {
            if let value = try check() { return value }
            if deadline.hasPassed { throw DaemonError("timed out after \(timeout) waiting for \(what)") }
            usleep(200_000)
        }
    }

    func testIsolatedLeaderLosesLinearizableReadsMajorityElectsAndWritesSurviveTheHeal() throws {
        let began = Deadline.now()
        guard geteuid() == 0 else { throw XCTSkip("etcd cluster test: needs root to create network namespaces") }
        let script = Self.packageRoot + "/Scripts/lib/etcd-cluster.sh"
        var template = Array("/tmp/fl-etcd-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed") }
        directory = String(cString: made)
        for tool in ["ip", "etcd", "etcdctl"] {
            if try run(["which", tool]).status != 0 {
                throw XCTSkip("etcd cluster test: \(tool) is not installed (Scripts/test installs etcd-server, etcd-client, iproute2)")
            }
        }
        // The cluster's addresses: a second octet of our own, so a demo running alongside does not clash.
        let net = String(Int.random(in: 100...199))
        let clusterDirectory = directory + "/cluster"
        // `down` runs whatever happens from here on (it is a no-op before `up` wrote its env).
        addTeardownBlock { [directory] in
            _ = try? self.run(["bash", script, "down", clusterDirectory], extraEnvironment: ["FL_NET": net], timeout: .seconds(20))
            try? FileManager.default.removeItem(atPath: directory)
        }
        let up = try run(
            ["bash", script, "up", clusterDirectory],
            extraEnvironment: ["FL_NET": net, "FAULTLINED": try DaemonProcess.binaryPath()], timeout: .seconds(40)
        )
        switch up.status {
        case 0: break
        case 3, 4: throw XCTSkip("etcd cluster test: \(up.error.trimmingCharacters(in: .whitespacesAndNewlines))")
        default: return XCTFail("etcd-cluster.sh up exited \(up.status): \(up.error)\(up.output)")
        }
        // Only now, with the namespaces checked by the script, may traffic go to 10.NET.x.x.
        for line in try String(contentsOfFile: clusterDirectory + "/env", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { environment[String(parts[0])] = String(parts[1]) }
        }
        let endpoints = environment["ENDPOINTS", default: ""].split(separator: ",").map(String.init)
        XCTAssertEqual(endpoints.count, 3)
        XCTAssertTrue(endpoints.allSatisfy { $0.hasPrefix("http://10.\(net).") }, "\(endpoints)")
        let control = ControlHTTP(socketPath: environment["CONTROL", default: ""])

        var acknowledged: [String: String] = [:]
        for i in 0..<5 where try etcdctl(endpoints, ["put", "fl/before-\(i)", "v\(i)"]).status == 0 {
            acknowledged["fl/before-\(i)"] = "v\(i)"
        }
        XCTAssertEqual(acknowledged.count, 5, "writes before the partition")

        // The leader, as every member sees it.
        let before = try waitFor("one leader all members agree on", timeout: .seconds(10)) { () -> [MemberStatus]? in
            let members = try status(endpoints)
            return members.count == 3 && Set(members.map(\.leaderID)).count == 1 ? members : nil
        }
        guard let leader = before.first(where: { $0.memberID == $0.leaderID }) else {
            return XCTFail("no member is the leader: \(before)")
        }
        let leaderNode = node(leader.endpoint)
        let others = endpoints.filter { $0 != leader.endpoint }
        print("[itest] etcd: leader \(leaderNode) (term \(leader.term), revision \(leader.revision)); isolating it")

        // Isolate it through Faultline.
        let applied = try control.expect(201, "POST", "/v1/partitions", json: #"{"kind": "isolate", "node": "\#(leaderNode)"}"#)
        XCTAssertTrue(applied.text.contains(#""resolved":[[["\#(leaderNode)"],"#), applied.text)
        let journal = try control.expect(200, "GET", "/v1/journal").text
        XCTAssertTrue(journal.contains(#""event":"partition.applied","id":"partition-1","kind":"isolate","node":"\#(leaderNode)""#), journal)
        let metrics = try control.expect(200, "GET", "/metrics").text
        XCTAssertTrue(metrics.contains("faultline_partition_links_blocked 8\n"), "2 callers × 2 directions into the leader, and its 2 calls out × 2")

        // The other two elect a new leader between them.
        let elected = try waitFor("a new leader among the majority", timeout: .seconds(15)) { () -> MemberStatus? in
            let members = try status(others)
            guard members.count == 2, Set(members.map(\.leaderID)).count == 1, members[0].leaderID != leader.memberID,
                  let newLeader = members.first(where: { $0.memberID == $0.leaderID }) else { return nil }
            return newLeader
        }
        XCTAssertGreaterThan(elected.term, leader.term)
        print("[itest] etcd: \(node(elected.endpoint)) elected (term \(elected.term)) \(String(format: "%.1f", Double(Deadline.now() - began) / 1e9)) s in")

        // The majority accepts writes.
        for i in 0..<10 {
            let put = try etcdctl(others, ["put", "fl/during-\(i)", "w\(i)"])
            XCTAssertEqual(put.status, 0, "write \(i) to the majority: \(put.error)")
            if put.status == 0 { acknowledged["fl/during-\(i)"] = "w\(i)" }
        }
        // The isolated member cannot serve a linearizable read, nor take a write.
        let read = try etcdctl([leader.endpoint], ["get", "fl/before-0"], timeout: "2s")
        XCTAssertNotEqual(read.status, 0, "a linearizable read from the isolated member succeeded: \(read.output)")
        let lost = try etcdctl([leader.endpoint], ["put", "fl/isolated", "x"], timeout: "2s")
        XCTAssertNotEqual(lost.status, 0, "a write to the isolated member was acknowledged")
        if lost.status == 0 { acknowledged["fl/isolated"] = "x" }

        // Heal: all three converge on one revision, with every acknowledged write.
        XCTAssertTrue(try control.expect(200, "DELETE", "/v1/partitions").text.contains("partition-1"))
        let converged = try waitFor("all three members on one leader and revision", timeout: .seconds(20)) { () -> [MemberStatus]? in
            let members = try status(endpoints)
            guard members.count == 3, Set(members.map(\.leaderID)).count == 1, Set(members.map(\.revision)).count == 1 else { return nil }
            return members
        }
        for endpoint in endpoints {
            let stored = try keys(at: endpoint)
            for (key, value) in acknowledged {
                XCTAssertEqual(stored[key], value, "\(node(endpoint)) lacks acknowledged write \(key)")
            }
        }
        let linearizable = try etcdctl([leader.endpoint], ["get", "fl/during-9", "--print-value-only"])
        XCTAssertEqual(linearizable.output.trimmingCharacters(in: .whitespacesAndNewlines), "w9", "the healed member serves linearizable reads again")
        let seconds = Double(Deadline.now() - began) / 1e9
        print("[itest] etcd: healed; revision \(converged[0].revision) on all three, \(acknowledged.count) acknowledged writes present; \(String(format: "%.1f", seconds)) s")
        XCTAssertLessThan(seconds, 60, "the etcd scenario must stay under a minute")
    }
}
