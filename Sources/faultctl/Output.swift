import ArgumentParser
import FaultlineClient
import Glibc

/// Everything faultctl prints: stdout for results, stderr for errors, tables for people.
enum Output {
    /// Writes `text` and a newline to stdout.
    static func line(_ text: String = "") {
        write(text + "\n")
    }

    /// Put before every line written while a command fans out to a fleet (`n1: `). faultctl is
    /// one thread, so a plain static is enough.
    nonisolated(unsafe) static var prefix = ""

    /// Writes `text` to stdout as is, unbuffered (so journal --follow into a pipe shows each
    /// event at once).
    static func write(_ text: String) {
        writeAll(STDOUT_FILENO, prefixed(text))
    }

    /// `text` with `prefix` before each of its lines.
    private static func prefixed(_ text: String) -> String {
        guard !prefix.isEmpty, !text.isEmpty else { return text }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let body = lines.last == "" ? lines.dropLast() : lines[...]
        return body.map { prefix + $0 }.joined(separator: "\n") + (lines.last == "" ? "\n" : "")
    }

    /// Writes a body that already ends with a newline (the daemon's JSON) unchanged; adds one
    /// otherwise.
    static func raw(_ text: String) {
        write(text.hasSuffix("\n") || text.isEmpty ? text : text + "\n")
    }

    /// Writes `text` and a newline to stderr.
    static func error(_ text: String) {
        writeAll(STDERR_FILENO, prefixed(text.hasSuffix("\n") ? text : text + "\n"))
    }

    private static func writeAll(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return  // a closed pipe (faultctl … | head): nothing more to say
            }
            offset += written
        }
    }

    /// The bytes of the file at `path`.
    /// - Throws: `ValidationError` saying why it cannot be read (`--file: cannot read x.json: No
    ///   such file or directory`).
    static func readFile(_ path: String, option: String) throws -> [UInt8] {
        func failure() -> ValidationError {
            ValidationError("\(option): cannot read \(path): \(String(cString: strerror(errno)))")
        }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure() }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure()  // EISDIR for a directory
            }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
        }
    }

    /// Columns padded to their widest cell, two spaces apart; the last column is not padded.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        var text = ""
        for row in [header] + rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                if index == row.count - 1 {
                    line += cell
                } else {
                    line += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            text += line + "\n"
        }
        return text
    }

    /// A JSON value as a table cell: strings unquoted, `null` as `-`, numbers without a
    /// needless `.0`, anything else as compact JSON.
    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "-"
        case .string(let text)?: return text
        case .double(let number)?:
            return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case let value?: return JSONWriter.render(value)
        }
    }

    /// The faults table: id, type, route, direction, probability, then the type's parameters as
    /// `key=value`.
    ///
    /// When a fault was applied with `for`, a `LEFT` column after `PROBABILITY` shows the time it
    /// has left (`-` for the others).
    static func faultsTable(_ faults: [JSONValue]) -> String {
        let common: Set<String> = ["id", "type", "route", "direction", "probability", "expires_in_ms"]
        let showsLeft = faults.contains { $0.objectValue?["expires_in_ms"] != nil }
        let rows = faults.map { fault -> [String] in
            let object = fault.objectValue ?? JSONObject()
            let route: String
            if let names = object["route"]?.arrayValue {
                route = names.map { cell($0) }.joined(separator: ",")
            } else {
                route = cell(object["route"])
            }
            let parameters = object.members.filter { !common.contains($0.key) }.map { member -> String in
                if member.key == "match", let match = member.value.objectValue {
                    return "match=" + matchCell(match)
                }
                if member.key == "attempts", let attempts = member.value.objectValue {
                    return "attempts=first \(cell(attempts["first"])) by \(cell(attempts["key"]))"
                }
                if member.key == "headers", let headers = member.value.objectValue {
                    guard !headers.isEmpty else { return "headers=-" }
                    return "headers=" + headers.members.map { "\($0.key):\(cell($0.value))" }.joined(separator: ",")
                }
                if member.key == "body" {
                    // Quoted and escaped: a body may be empty or hold spaces and newlines.
                    return "body=" + JSONWriter.render(member.value)
                }
                if member.key == "groups", let groups = member.value.arrayValue {
                    return "groups=" + groups.map { ($0.arrayValue ?? []).map { cell($0) }.joined(separator: ",") }.joined(separator: "/")
                }
                return "\(member.key)=\(cell(member.value))"
            }
            var row = [cell(object["id"]), cell(object["type"]), route, cell(object["direction"]), cell(object["probability"])]
            if showsLeft {
                row.append(object["expires_in_ms"]?.doubleValue.map { timeLeft(milliseconds: $0) } ?? "-")
            }
            return row + [parameters.joined(separator: " ")]
        }
        let header = ["ID", "TYPE", "ROUTE", "DIRECTION", "PROBABILITY"] + (showsLeft ? ["LEFT"] : []) + ["PARAMETERS"]
        return table(header, rows)
    }

    /// A time left as `29.5s`, `4m10s`: tenths of a second under a minute, whole seconds above.
    static func timeLeft(milliseconds: Double) -> String {
        let total = max(0, Int64(milliseconds))
        if total < 60_000 { return "\(total / 1000).\(total % 1000 / 100)s" }
        let seconds = total / 1000
        let hours = seconds / 3600
        let minutes = seconds % 3600 / 60
        return (hours > 0 ? "\(hours)h" : "") + "\(minutes)m\(seconds % 60)s"
    }

    /// A `match` object in one cell: `POST,PUT /pay prefix:/v1/ hdr:x-tenant=a`.
    static func matchCell(_ match: JSONObject) -> String {
        var parts: [String] = []
        if let methods = match["method"] {
            parts.append(methods.arrayValue.map { $0.map { cell($0) }.joined(separator: ",") } ?? cell(methods))
        }
        if let path = match["path"] { parts.append(cell(path)) }
        if let prefix = match["path_prefix"] { parts.append("prefix:" + cell(prefix)) }
        for header in match["headers"]?.objectValue?.members ?? [] {
            parts.append("hdr:\(header.key)=\(cell(header.value))")
        }
        return parts.joined(separator: " ")
    }

    /// The routes table.
    static func routesTable(_ routes: [RouteInfo]) -> String {
        let rows = routes.map { route in
            [
                route.name, route.spec.listen.description, route.bound?.description ?? "-", route.spec.upstream.description,
                route.spec.protocolKind.rawValue, route.spec.from ?? "-", route.spec.to ?? "-",
                route.enabled ? "yes" : "no", tlsCell(route.spec), route.origin.rawValue,
            ]
        }
        return table(["NAME", "LISTEN", "BOUND", "UPSTREAM", "PROTOCOL", "FROM", "TO", "ENABLED", "TLS", "ORIGIN"], rows)
    }

    /// A route's TLS in one cell: `in:CERT` (terminated, with the ALPN list), `out:SNI` (originated,
    /// `unverified` when verification is off), both joined by a space, or `-`.
    static func tlsCell(_ spec: RouteSpec) -> String {
        var parts: [String] = []
        if let tls = spec.tls {
            parts.append("in:" + tls.certificate + (tls.alpn.isEmpty ? "" : "[" + tls.alpn.joined(separator: ",") + "]"))
        }
        if let upstream = spec.upstreamTLS {
            parts.append("out:" + (upstream.serverName ?? spec.upstream.hostText) + (upstream.verify ? "" : "(unverified)"))
        }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }

    /// `key  value` lines, keys padded to the longest.
    static func pairs(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0 + String(repeating: " ", count: width - $0.0.count + 2) + $0.1 + "\n" }.joined()
    }

    /// A JSON object as `key  value` lines (nested values as compact JSON); other values as JSON.
    static func keyValues(_ value: JSONValue) -> String {
        guard let object = value.objectValue else { return JSONWriter.render(value) + "\n" }
        return pairs(object.members.map { ($0.key, cell($0.value)) })
    }
}
