import ArgumentParser
import FaultlineClient
import Foundation

/// `faultctl report --route R [--since SEQ] [--group-by G] [--json | --html FILE]` (SPEC §3.4).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Show how clients of an http route retried: backoff, jitter, herds, circuit breaking.",
        discussion: """
            Groups the route's request log into attempt timelines (by idempotency key, else \
            request id, else method and path per client) and prints the verdicts, then one line \
            per timeline: its attempts' outcomes (* = a fault acted on it) and the gaps between \
            them. --json prints the daemon's report unchanged; --html FILE writes a self-contained \
            timeline page and prints its path.
            """
    )

    @Option(help: ArgumentHelp("The route whose request log to report on.", valueName: "name"))
    var route: String

    @Option(help: ArgumentHelp("Only requests with a log sequence number above this.", valueName: "seq"))
    var since: UInt64 = 0

    @Option(help: ArgumentHelp("auto, header:NAME, method+path or source.", valueName: "grouping"))
    var groupBy = "auto"

    @Option(help: ArgumentHelp("Write the report as an HTML page to this file.", valueName: "file"))
    var html: String?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard AttemptGrouping(parsing: groupBy) != nil else {
            throw ValidationError("--group-by: \"\(groupBy)\" is not auto, header:NAME, method+path or source")
        }
        if html != nil && global.json { throw ValidationError("give --json or --html, not both") }
    }

    func run() throws {
        let grouping = AttemptGrouping(parsing: groupBy) ?? .auto
        let response = try global.client().send("GET", FaultlineClient.reportPath(route: route, since: since, groupBy: grouping))
        if global.json { return Output.raw(response.text) }
        let json = try response.json()
        let report = try FaultlineClient.decodeReport(json)
        if let html {
            do {
                try ReportPage.html(report).write(toFile: html, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("--html: cannot write \(html): \(error.localizedDescription)")
            }
            return Output.line(html)
        }
        let groupedBy = json.objectValue?["group_by"]?.stringValue ?? grouping.description
        Output.write(ReportCommand.tables(report, groupedBy: groupedBy))
    }

    /// The summary line, the verdicts table and the timelines table.
    static func tables(_ report: ClientReport, groupedBy: String) -> String {
        var text = "route \(report.route): \(report.requests) requests, \(report.injected) injected, "
            + "\(report.groups) groups, grouped by \(groupedBy)\n\n"
        text += Output.table(
            ["VERDICT", "RESULT", "DETAILS"],
            ReportText.verdicts(report).map { [$0.name, $0.result, $0.details.joined(separator: ", ")] }
        )
        guard !report.timelines.isEmpty else { return text + "\nno requests in the log\n" }
        text += "\n"
        text += Output.table(
            ["KEY", "ATTEMPTS", "OUTCOMES", "GAPS_MS"],
            report.timelines.map { [$0.key, String($0.attempts.count), ReportText.outcomes($0), ReportText.gaps($0)] }
        )
        if report.timelines.contains(where: { $0.attempts.contains { $0.fault != nil } }) {
            text += "* injected by a fault\n"
        }
        return text
    }
}
