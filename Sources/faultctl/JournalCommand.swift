import ArgumentParser
import FaultlineClient
import Glibc

/// `faultctl journal [--since N] [--follow]`.
struct JournalCommand: FleetCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Show journal events; --follow keeps polling for new ones."
    )

    // Unconditional, so `--since -1` reaches `validate` (and gets a message about sequence
    // numbers) instead of being taken for an option.
    @Option(parsing: .unconditional, help: ArgumentHelp("Only events with a sequence number above this (0 or more).", valueName: "seq"))
    var since: String = "0"

    @Flag(help: "Keep printing new events as they come (polls; stop with Ctrl-C).")
    var follow = false

    @Option(help: ArgumentHelp("Polling interval for --follow.", valueName: "duration"))
    var interval = "500ms"

    @Flag(help: "With --fleet: one list of every daemon's events, merged by time, each with its daemon's name.")
    var merge = false

    @OptionGroup var global: GlobalOptions

    /// `--since` as a number (checked by `validate`).
    var sinceSequence: UInt64 { UInt64(since) ?? 0 }

    func validate() throws {
        if global.fleet != nil && follow { throw ValidationError("--follow follows one daemon; with --fleet, run journal --merge --since N again") }
        guard UInt64(since) != nil else {
            throw ValidationError("--since: \"\(since)\" is not a sequence number; give 0 or more (the seq of the last event already seen)")
        }
        guard case .success(let value) = DurationParser.parse(interval), value > .zero else {
            throw ValidationError("--interval: \"\(interval)\" is not a positive duration")
        }
    }

    func run() throws {
        if merge { return try runMerged() }
        let client = try global.client()
        let pause = (try? DurationParser.parse(interval).get()) ?? .milliseconds(500)
        var last = sinceSequence
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

    /// `--fleet FILE --merge`: a DAEMON column (or, with --json, a `daemon` member first).
    private func runMerged() throws {
        guard let path = global.fleet else { throw ValidationError("--merge merges the journals of a fleet: give --fleet FILE") }
        if follow { throw ValidationError("--merge does not --follow yet; run it again with --since") }
        let merged = try Fleet.load(path, timeout: global.timeout).mergedJournal(since: sinceSequence)
        if global.json {
            for (daemon, entry) in merged {
                Output.line(#"{"daemon":"# + JSONWriter.render(.string(daemon)) + "," + entry.raw.dropFirst())
            }
            return
        }
        Output.write(Output.table(
            ["DAEMON", "SEQ", "TIME", "EVENT", "DETAILS"],
            merged.map { [$0.daemon, "\($0.entry.seq)", $0.entry.timestamp, $0.entry.event, JournalCommand.details($0.entry)] }
        ))
    }

    /// The event's other members as `key=value`.
    static func details(_ entry: JournalEntry) -> String {
        entry.fields.members.filter { !["seq", "ts", "event"].contains($0.key) }
            .map { "\($0.key)=\(Output.cell($0.value))" }.joined(separator: " ")
    }
}
