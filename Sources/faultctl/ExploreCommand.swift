import ArgumentParser
import FaultlineClient
import FaultlineConfig
import FaultlineExplore
import Foundation

/// `faultctl explore FILE`: search the file's fault space for a schedule that breaks the user's
/// invariant, shrink it, and write a replay (SPEC §8, docs/EXPLORE.md).
struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Search fault schedules for one that breaks your check, shrink it, write a replay.",
        discussion: """
            FILE names the fault space, the trials and your commands (docs/EXPLORE.md). Each trial \
            resets the system (reset), puts a schedule drawn from the seed in force through \
            PUT /v1/schedule, runs the workload beside it for trial_time, then the check (exit 0 = \
            the invariant holds). The first failing schedule (confirmed by running it again) is \
            shrunk and written to --out DIR: minimal.json, trials.jsonl, summary.txt and \
            minimal-journal.jsonl. --replay FILE runs a minimal.json again.

            Exit: 0 no failing schedule (or, with --replay, the check held every run), 1 a failing \
            schedule was found and shrunk (with --replay: the check failed), 2 usage or file \
            errors, 3 daemon unreachable.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The explore file (or, with --replay, a minimal.json).", valueName: "file"))
    var file: String

    @Flag(help: "Run FILE, a minimal.json written by an earlier explore, with its check.")
    var replay = false

    @Option(help: ArgumentHelp("With --replay: how many times to run it.", valueName: "n"))
    var runs: Int = 1

    @Option(help: ArgumentHelp("Where results go (default ./explore-out).", valueName: "dir"))
    var out: String = "explore-out"

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("cannot read \(file)")
        }
        if replay { return try runReplay(text) }
        let spec: ExploreSpec
        switch ExploreSpec.decode(jsonText: text) {
        case .success(let decoded): spec = decoded
        case .failure(let problems):
            for problem in problems.errors { Output.error("faultctl: \(file): \(problem.description)") }
            throw ExitCode(Faultctl.Exit.usage)
        }
        let client = try global.client()
        let routes = try client.routes()
        let nodes = routes.flatMap { [$0.spec.from, $0.spec.to] }.compactMap { $0 }
        let generator = ScheduleGenerator(spec: spec, nodes: nodes)
        let runner = try ExploreRunner(
            client: client, trialTime: spec.trialTime, workload: spec.workload, check: spec.check, reset: spec.reset,
            outDirectory: out)
        Output.line("explore: seed \(spec.seed), \(spec.trials) trials of \(DurationParser.render(spec.trialTime)), nodes \(generator.nodes.joined(separator: ", "))")

        var failing: [ExploreStep]?
        var failedTrial = 0
        search: for trial in 0..<spec.trials {
            let steps = generator.schedule(trial: trial)
            let result = try runRunner(runner, steps, [("phase", "search"), ("trial", .integer(Int64(trial)))])
            let verdict = result.held ? "holds" : "BROKEN"
            Output.line("trial \(Self.padded(trial))  \(verdict.padding(toLength: 6, withPad: " ", startingAt: 0))  \(steps.map(\.summary).joined(separator: " + "))")
            guard !result.held else { continue }
            // Confirmed like a shrink candidate, so a flaky check does not start a shrink.
            for again in 1..<spec.confirm {
                let repeated = try runRunner(runner, steps, [("phase", "confirm"), ("trial", .integer(Int64(trial))), ("run", .integer(Int64(again)))])
                if repeated.held {
                    Output.line("trial \(trial): held when run again; not confirmed, searching on")
                    continue search
                }
            }
            failing = steps
            failedTrial = trial
            break
        }
        guard let failing else {
            Output.line("explore: no failing schedule in \(spec.trials) trials (\(runner.runs) runs)")
            try "no failing schedule in \(spec.trials) trials\n".write(toFile: out + "/summary.txt", atomically: true, encoding: .utf8)
            return
        }

        Output.line("shrinking trial \(failedTrial) (\(failing.count) steps, confirm \(spec.confirm))")
        let deadline = Date().addingTimeInterval(Double(spec.shrinkTime.components.seconds))
        var candidate = 0
        var shrinkError: (any Error)?
        let outcome = Shrinker(confirm: spec.confirm, maxCandidates: spec.maxShrinkCandidates, outOfTime: { Date() > deadline || shrinkError != nil })
            .shrink(failing) { steps in
                candidate += 1
                do {
                    let result = try runRunner(runner, steps, [("phase", "shrink"), ("candidate", .integer(Int64(candidate)))])
                    let verdict = result.held ? "holds " : "BROKEN"
                    Output.line("  shrink \(Self.padded(candidate))  \(verdict)  \(steps.map(\.summary).joined(separator: " + "))")
                    return !result.held
                } catch {
                    shrinkError = error
                    return false
                }
            }
        if let shrinkError {
            // The smallest failing schedule so far is still written below.
            Output.error("faultctl: explore: shrinking stopped: \(shrinkError)")
        }

        // One more run of the minimal schedule, for its journal.
        let mark = try runner.journalMark()
        let final = try runRunner(runner, outcome.minimal, [("phase", "minimal")])
        let journal = try client.send("GET", "/v1/journal?since=\(mark)").text
        try journal.write(toFile: out + "/minimal-journal.jsonl", atomically: true, encoding: .utf8)
        let replayFile = ExploreReplay(spec: spec, steps: outcome.minimal).json
        try (JSONWriter.render(replayFile) + "\n").write(toFile: out + "/minimal.json", atomically: true, encoding: .utf8)
        let summary = "invariant broken by: \(outcome.minimal.map(\.summary).joined(separator: " + ")) " +
            "(\(outcome.stepsRemoved) of \(failing.count) steps removed, \(outcome.accepted) shrinks, " +
            "\(outcome.candidates) candidates, \(runner.runs) runs\(outcome.budgetSpent ? ", shrink budget spent" : ""))" +
            (final.held ? "; the last run of the minimal schedule held (a flaky system)" : "")
        try (summary + "\n").write(toFile: out + "/summary.txt", atomically: true, encoding: .utf8)
        Output.line(summary)
        Output.line("replay: faultctl explore --replay \(out)/minimal.json")
        throw ExitCode(Faultctl.Exit.rejected)
    }

    static func padded(_ number: Int) -> String {
        let text = String(number)
        return String(repeating: " ", count: max(0, 3 - text.count)) + text
    }

    private func runRunner(_ runner: ExploreRunner, _ steps: [ExploreStep], _ label: [(String, JSONValue)]) throws -> ExploreRunner.Trial {
        do {
            return try runner.run(steps, label: label)
        } catch let error as ExploreRunner.Failure {
            Output.error("faultctl: explore: \(error.description)")
            throw ExitCode(Faultctl.Exit.usage)
        }
    }

    private func runReplay(_ text: String) throws {
        let replayFile: ExploreReplay
        switch ExploreReplay.decode(jsonText: text) {
        case .success(let decoded): replayFile = decoded
        case .failure(let problems):
            for problem in problems.errors { Output.error("faultctl: \(file): \(problem.description)") }
            throw ExitCode(Faultctl.Exit.usage)
        }
        let runner = try ExploreRunner(
            client: try global.client(), trialTime: replayFile.trialTime, workload: replayFile.workload, check: replayFile.check,
            reset: replayFile.reset, outDirectory: out)
        var failures = 0
        for index in 0..<runs {
            let result = try runRunner(runner, replayFile.steps, [("phase", "replay"), ("run", .integer(Int64(index)))])
            if !result.held { failures += 1 }
            Output.line("replay \(index + 1): \(result.held ? "holds" : "BROKEN")\(result.held ? "" : " (check exited \(result.checkStatus))")")
        }
        Output.line("replay: the check failed \(failures) of \(runs) runs: \(replayFile.steps.map(\.summary).joined(separator: " + "))")
        if failures > 0 { throw ExitCode(Faultctl.Exit.rejected) }
    }
}
