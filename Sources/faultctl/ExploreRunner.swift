import FaultlineClient
import FaultlineConfig
import FaultlineExplore
import Foundation

/// Runs explore trials against a daemon: reset, the schedule through `PUT /v1/schedule` (so it
/// is journaled like any schedule), the workload beside it, then the check. Foundation is fine
/// here: this is faultctl, far from the data path.
final class ExploreRunner {
    struct Trial {
        var held: Bool
        var checkStatus: Int32
        var checkOutput: String
        var seconds: Double
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let client: FaultlineClient
    let trialTime: Duration
    let workload: [String]?
    let check: [String]
    let reset: [String]?
    let outDirectory: String
    private let trialsLog: FileHandle
    private var workloadLog: FileHandle?
    private(set) var runs = 0

    init(client: FaultlineClient, trialTime: Duration, workload: [String]?, check: [String], reset: [String]?, outDirectory: String) throws {
        self.client = client
        self.trialTime = trialTime
        self.workload = workload
        self.check = check
        self.reset = reset
        self.outDirectory = outDirectory
        try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        let path = outDirectory + "/trials.jsonl"
        FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else { throw Failure(description: "cannot write \(path)") }
        trialsLog = handle
        if workload != nil {
            let logPath = outDirectory + "/workload.log"
            FileManager.default.createFile(atPath: logPath, contents: nil)
            workloadLog = FileHandle(forWritingAtPath: logPath)
        }
    }

    /// The last journal seq given out, so a run's own events can be fetched afterwards.
    func journalMark() throws -> UInt64 {
        let response = try client.send("GET", "/v1/journal?since=\(UInt64.max - 1)")
        return response.headers.first { $0.name.lowercased() == "x-faultline-journal-last" }.flatMap { UInt64($0.value) } ?? 0
    }

    /// One run of `steps`; `label` goes in trials.jsonl (`{"phase": "search", "trial": 3}`).
    func run(_ steps: [ExploreStep], label: [(String, JSONValue)]) throws -> Trial {
        runs += 1
        let started = Date()
        if let reset {
            let (status, output) = try Self.runToCompletion(reset, timeout: 120)
            guard status == 0 else { throw Failure(description: "reset \(reset.joined(separator: " ")) exited \(status): \(output)") }
        }
        _ = try? client.send("POST", "/v1/schedule/stop")
        if let refusal = try putSchedule(steps) {
            // The daemon refused this schedule (a simplified fault it will not take, a busy data
            // plane): it cannot fail the check, so it counts as holding, and the search goes on.
            let trial = Trial(held: true, checkStatus: -1, checkOutput: "the daemon refused the schedule: \(refusal)", seconds: 0)
            log(trial, steps, label)
            return trial
        }
        var workloadProcess: Process?
        if let workload {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.executable(workload[0]))
            process.arguments = Array(workload.dropFirst())
            process.standardOutput = workloadLog
            process.standardError = workloadLog
            process.standardInput = FileHandle.nullDevice
            try process.run()
            workloadProcess = process
        }
        Thread.sleep(forTimeInterval: Double(trialTime.components.seconds) + Double(trialTime.components.attoseconds) / 1e18)
        _ = try? client.send("POST", "/v1/schedule/stop")
        if let process = workloadProcess { Self.stop(process) }
        let (status, output) = try Self.runToCompletion(check, timeout: 300)
        let trial = Trial(held: status == 0, checkStatus: status, checkOutput: output, seconds: Date().timeIntervalSince(started))
        log(trial, steps, label)
        return trial
    }

    /// `PUT /v1/schedule`; the daemon's refusal as text, nil when it took the schedule.
    /// - Throws: `FaultlineClientError` when the daemon cannot be reached.
    private func putSchedule(_ steps: [ExploreStep]) throws(FaultlineClientError) -> String? {
        let response = try client.request("PUT", "/v1/schedule", body: ExploreSchedule.json(steps))
        return (200..<300).contains(response.status) ? nil : "\(response.status) \(response.text)"
    }

    private func log(_ trial: Trial, _ steps: [ExploreStep], _ label: [(String, JSONValue)]) {
        var line = JSONObject(label)
        line["held"] = .bool(trial.held)
        line["check_status"] = .integer(Int64(trial.checkStatus))
        line["check_output"] = .string(String(trial.checkOutput.suffix(4000)))
        line["seconds"] = .double((trial.seconds * 1000).rounded() / 1000)
        line["schedule"] = ExploreSchedule.json(steps)
        trialsLog.write(Data((JSONWriter.render(.object(line)) + "\n").utf8))
    }

    /// A command name with no slash is looked up on PATH; a relative path is taken as given.
    static func executable(_ name: String) -> String {
        if name.contains("/") { return name }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return name
    }

    /// Runs `command` to its end (killed after `timeout` seconds); its status and combined output.
    static func runToCompletion(_ command: [String], timeout: Double) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable(command[0]))
        process.arguments = Array(command.dropFirst())
        let outputPath = NSTemporaryDirectory() + "faultctl-explore-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = FileHandle(forWritingAtPath: outputPath)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run \(command.joined(separator: " ")): \(error.localizedDescription)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { stop(process) }
        process.waitUntilExit()
        try? output?.close()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, text)
    }

    /// SIGTERM, then SIGKILL after 5 s.
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
