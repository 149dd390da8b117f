import ArgumentParser
import FaultlineClient
import Glibc

/// `faultctl journal [--since N] [--follow]`.
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Show journal events; --follow keeps polling for new ones."
    )

    @Option(help: ArgumentHelp("Only events with a sequence number above this.", valueName: "seq"))
    var since: UInt64 = 0

    @Flag(help: "Keep printing new events as they come (polls; stop with Ctrl-C).")
    var follow = false

    @Option(help: ArgumentHelp("Polling interval for --follow.", valueName: "duration"))
    var interval = "500ms"

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard case .success(let value) = DurationParser.parse(interval), value > .zero else {
            throw ValidationError("--interval: \"\(interval)\" is not a positive duration")
        }
    }

    func run() throws {
        let client = try global.client()
        let pause = (try? DurationParser.parse(interval).get()) ?? .milliseconds(500)
        var last = since
        var headerPrinted = false
        while true {
            let response = try client.send("GET", "/v1/journal?since=\(last)")
            let entries = try JournalEntry.parse(lines: response.text)
            if global.json {
                for entry in entries { Output.line(entry.raw) }
            } else if !entries.isEmpty || !(follow || headerPrinted) {
                // One header for the whole run, not one per poll.
                var lines = Output.table(
                    ["SEQ", "TIME", "EVENT", "DETAILS"],
                    entries.map { ["\($0.seq)", $0.timestamp, $0.event, JournalCommand.details($0)] }
                ).split(separator: "\n", omittingEmptySubsequences: true)
                if headerPrinted { lines.removeFirst() }
                headerPrinted = true
                Output.write(lines.map { $0 + "\n" }.joined())
            }
            if let newest = entries.last?.seq { last = newest }
            guard follow else { return }
            let (seconds, attoseconds) = pause.components
            usleep(UInt32(clamping: seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
        }
    }

    /// The event's other members as `key=value`.
    static func details(_ entry: JournalEntry) -> String {
        entry.fields.members.filter { !["seq", "ts", "event"].contains($0.key) }
            .map { "\($0.key)=\(Output.cell($0.value))" }.joined(separator: " ")
    }
}
