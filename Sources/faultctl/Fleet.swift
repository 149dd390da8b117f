import ArgumentParser
import FaultlineClient
import Foundation
import Glibc

/// `faultctl --fleet FILE …`: one command fanned out to every daemon of a list, one faultlined
/// per host or pod driven as one.
///
/// The file is a JSON array of daemons, each `{"name": "n1", "socket": PATH}` or `{"name": "n2",
/// "url": "http://HOST:PORT", "token_file": PATH}`. Daemons are called one after the other, in
/// the file's order; every line a daemon's answer prints is prefixed with `name: `.
///
/// A fleet `apply` (or `partition`) that one daemon refuses or cannot take is compensated: the
/// daemons after it are skipped, and the faults it applied on the ones before are cleared again,
/// so no daemon is left with it. That is
/// best-effort compensation, not a distributed transaction: between the apply and the clear the
/// fault is in force on the daemons that took it (journaled there as applied, then cleared with
/// reason `api`), and a daemon that fails during the clear keeps it (the clear's error is printed).
struct Fleet {
    /// One daemon of the list.
    struct Member {
        var name: String
        var client: FaultlineClient
    }

    let members: [Member]

    /// The daemon being called while a command fans out (its client replaces the one the global
    /// options describe), and the fault ids the command applied there. faultctl is one thread
    /// calling one daemon at a time, so one slot is enough.
    nonisolated(unsafe) static var current: Member?
    nonisolated(unsafe) static var appliedIDs: [String] = []

    /// Reads the fleet file.
    /// - Throws: `ValidationError` (exit 2) naming the file and the JSON path of each problem.
    static func load(_ path: String, timeout: Duration) throws -> Fleet {
        let value: JSONValue
        switch JSONParser.parse(bytes: try Output.readFile(path, option: "--fleet")) {
        case .success(let parsed): value = parsed
        case .failure(let error): throw ValidationError("--fleet: \(path): not JSON: \(error)")
        }
        var problems: [String] = []
        var members: [Member] = []
        guard let items = value.arrayValue, !items.isEmpty else {
            throw ValidationError("--fleet: \(path): expected a non-empty array of daemons ([{\"name\": \"n1\", \"socket\": \"/run/faultline/control.sock\"}, …])")
        }
        var names: Set<String> = []
        for (index, item) in items.enumerated() {
            let at = "[\(index)]"
            guard let object = item.objectValue else { problems.append("\(at): expected an object"); continue }
            for key in object.members.map(\.key) where !["name", "socket", "url", "token_file"].contains(key) {
                problems.append("\(at).\(key): unknown key (expected name, socket, url, token_file)")
            }
            guard let name = object["name"]?.stringValue, !name.isEmpty else { problems.append("\(at).name: a name is required"); continue }
            if !names.insert(name).inserted { problems.append("\(at).name: duplicate name \"\(name)\"") }
            let socket = object["socket"]?.stringValue
            let url = object["url"]?.stringValue
            var token: String?
            if let tokenFile = object["token_file"]?.stringValue {
                if url == nil { problems.append("\(at).token_file: only with url (the socket checks the peer's uid)") }
                let bytes = try Output.readFile(tokenFile, option: "--fleet \(at).token_file")
                token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            switch (socket, url) {
            case (let socket?, nil):
                members.append(Member(name: name, client: FaultlineClient(address: .unixSocket(path: socket), timeout: timeout)))
            case (nil, let url?):
                do {
                    members.append(Member(name: name, client: try FaultlineClient(url: url, token: token, timeout: timeout)))
                } catch {
                    problems.append("\(at).url: \(error.message)")
                }
            case (.some, .some):
                problems.append("\(at): give socket or url, not both")
            case (nil, nil):
                problems.append("\(at): give socket (a path) or url (http://HOST:PORT)")
            }
        }
        if !problems.isEmpty {
            throw ValidationError(problems.map { "--fleet: \(path)\($0)" }.joined(separator: "\n"))
        }
        return Fleet(members: members)
    }

    /// How one daemon's call ended.
    enum Result {
        case ok(applied: [String])
        case failed(FaultlineClientError)
    }

    /// Runs `command` on every daemon (stopping at none), prints each one's output prefixed with
    /// its name, compensates a failed apply, and returns the exit code: 0 when every daemon took
    /// it, 1 when any refused, 3 when none refused but one could not be reached.
    func run(_ command: any FleetCommand) throws -> Int32 {
        var command = command
        var results: [(Member, Result)] = []
        let compensates = type(of: command).appliesFaults
        for member in members {
            // Once a daemon refused an apply, the rest would only be rolled back: they are skipped.
            if compensates, let refusal = results.first(where: { if case .failed = $0.1 { return true } else { return false } }) {
                Output.error("\(member.name): skipped: not applied, \(refusal.0.name) refused")
                continue
            }
            Fleet.current = member
            Fleet.appliedIDs = []
            Output.prefix = member.name + ": "
            defer {
                Fleet.current = nil
                Output.prefix = ""
            }
            do {
                try command.run()
                results.append((member, .ok(applied: Fleet.appliedIDs)))
            } catch let error as FaultlineClientError {
                _ = Faultctl.report(error)
                results.append((member, .failed(error)))
            }
        }
        let failures = results.compactMap { result -> FaultlineClientError? in
            if case .failed(let error) = result.1 { return error }
            return nil
        }
        guard !failures.isEmpty else { return Faultctl.Exit.ok }
        if compensates { rollBack(results) }
        return failures.contains { $0.kind == .rejected } ? Faultctl.Exit.rejected : Faultctl.Exit.unreachable
    }

    /// Clears, on every daemon that took it, what a fleet apply applied there.
    private func rollBack(_ results: [(Member, Result)]) {
        for (member, result) in results {
            guard case .ok(let ids) = result else { continue }
            for id in ids {
                do {
                    try member.client.clear(id)
                    Output.error("\(member.name): rolled back: cleared \(id)")
                } catch {
                    Output.error("\(member.name): faultctl: rollback of \(id) failed, it stays applied: \(error)")
                }
            }
        }
    }

    /// `faultctl journal --fleet FILE --merge`: every daemon's events after `since`, merged by
    /// `ts` (ties in the file's order), each with its daemon's name.
    func mergedJournal(since: UInt64) throws -> [(daemon: String, entry: JournalEntry)] {
        var merged: [(daemon: String, entry: JournalEntry, order: Int)] = []
        for (order, member) in members.enumerated() {
            let response: FaultlineResponse
            do {
                response = try member.client.send("GET", "/v1/journal?since=\(since)")
            } catch {
                throw FaultlineClientError(
                    kind: error.kind, status: error.status, code: error.code, message: "\(member.name): \(error.message)", path: error.path)
            }
            for entry in try JournalEntry.parse(lines: response.text) {
                merged.append((member.name, entry, order))
            }
        }
        // RFC 3339 UTC timestamps with a fixed number of digits sort as text.
        merged.sort { ($0.entry.timestamp, $0.order, $0.entry.seq) < ($1.entry.timestamp, $1.order, $1.entry.seq) }
        return merged.map { ($0.daemon, $0.entry) }
    }
}

/// A command `--fleet` fans out: `apply` (every type), `clear`, `partition`, `heal`, `status`,
/// `faults`, `journal`.
protocol FleetCommand: ParsableCommand {
    var global: GlobalOptions { get }
    /// Whether a failure on one daemon is compensated on the others (`apply`, `partition`).
    static var appliesFaults: Bool { get }
}

extension FleetCommand {
    static var appliesFaults: Bool { false }
}
