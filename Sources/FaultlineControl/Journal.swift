internal import Glibc
public import FaultlineCore
public import FaultlineSystem
import Synchronization

/// The event journal (SPEC §6): numbers and timestamps events, appends each as one JSON line to
/// the journal file, and keeps the most recent ones in memory for `GET /v1/journal`.
///
/// Called from the control thread and from worker threads (`fault.injected`). One mutex orders
/// everything: sequence numbers, the file and the memory copy always agree. The file write
/// happens under the lock too — a few hundred bytes to the page cache, and the data path calls
/// only when a fault acts (rate-limited), never per byte.
public final class Journal: EventSink {
    /// One numbered event: its sequence number and its JSON line (without the newline).
    public struct Entry: Sendable, Hashable {
        public let sequence: UInt64
        public let line: String
    }

    /// Events kept in memory by default.
    public static let defaultRetention = 100_000

    private struct State {
        var nextSequence: UInt64 = 1
        var entries: [Entry] = []
        var writeFailed = false
    }

    private let state = Mutex(State())
    private let file: JournalFile?
    private let retention: Int
    private let clock: @Sendable () -> UInt64
    private let log: Logger
    /// The journal file's path, nil for memory only.
    public let path: String?

    /// A journal appending to `path` (created with mode 0644 if missing; its directory must
    /// exist), or memory-only when `path` is nil.
    ///
    /// The file is locked (flock) for as long as this journal lives, so a second daemon pointed
    /// at it fails here, before it writes anything. Numbering continues after the last `seq` in
    /// the file, so `since=SEQ` readers never see a number twice across restarts; a last line
    /// cut short (a crash mid-write) is ended with a newline before the first new event.
    /// - Parameters:
    ///   - retention: events kept for `entries(after:)`.
    ///   - clock: realtime nanoseconds since 1970, for `ts`.
    /// - Throws: `SystemError` when the file cannot be opened or read, and `EWOULDBLOCK` from
    ///   `flock` when another process holds it.
    public init(
        path: String?, retention: Int = Journal.defaultRetention, log: Logger,
        clock: @escaping @Sendable () -> UInt64 = { Linux.realtimeNanoseconds() }
    ) throws(SystemError) {
        self.path = path
        self.retention = max(1, retention)
        self.clock = clock
        self.log = log
        if let path {
            let descriptor = try FileSystem.openForAppend(path: path)
            guard try Posix.tryLockExclusive(descriptor) else {
                throw SystemError(errno: EWOULDBLOCK, call: "flock")
            }
            // The last MiB holds the last line unless an event is bigger; then read further back,
            // up to the whole file, rather than start again at 1.
            var window = 1 << 20
            var tail = try FileSystem.readTail(descriptor, maxBytes: window)
            var last = Journal.sequenceOfLastLine(inTail: tail)
            while last == 0, tail.count == window, window < Int.max / 4 {
                window *= 8
                tail = try FileSystem.readTail(descriptor, maxBytes: window)
                last = Journal.sequenceOfLastLine(inTail: tail)
            }
            let next = last + 1
            if let last = tail.last, last != UInt8(ascii: "\n") {
                try FileSystem.writeAll(descriptor, [UInt8(ascii: "\n")])
            }
            file = JournalFile(descriptor)
            state.withLock { $0.nextSequence = next }
        } else {
            file = nil
        }
    }

    /// The `seq` of the last complete line of a journal file's tail that starts with
    /// `{"seq":N`, or 0 when there is none. Lines that are cut short or are not ours are skipped.
    public static func sequenceOfLastLine(inTail tail: [UInt8]) -> UInt64 {
        let prefix = Array(#"{"seq":"#.utf8)
        var end = tail.count
        // The bytes after the last newline are an unfinished line: never trusted.
        while end > 0, tail[end - 1] != UInt8(ascii: "\n") { end -= 1 }
        while end > 0 {
            var start = end - 1
            while start > 0, tail[start - 1] != UInt8(ascii: "\n") { start -= 1 }
            let line = tail[start..<(end - 1)]
            end = start
            // The first line of a tail that does not begin the file may be partial; its digits
            // would still be whole only by chance, so it is checked like any other.
            guard line.count > prefix.count, line.starts(with: prefix), line.last == UInt8(ascii: "}") else { continue }
            var value: UInt64 = 0
            var digits = 0
            for byte in line.dropFirst(prefix.count) {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { break }
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { digits = 0; break }
                value = sum
                digits += 1
            }
            if digits > 0 { return value }
        }
        return 0
    }

    /// Numbers, timestamps, writes and keeps one event.
    public func record(_ event: JournalEvent) {
        let timestamp = Timestamp.rfc3339(nanoseconds: clock())
        state.withLock { state in
            let sequence = state.nextSequence
            state.nextSequence += 1
            let line = Journal.render(sequence: sequence, timestamp: timestamp, event: event)
            if let file, !state.writeFailed {
                do {
                    try FileSystem.writeAll(file.descriptor, Array((line + "\n").utf8))
                } catch {
                    // Logged once: a full disk must not flood the log from every worker. The
                    // memory copy keeps working.
                    state.writeFailed = true
                    log.error("journal.write_failed", ["path": path ?? "", "error": "\(error)"])
                }
            }
            state.entries.append(Entry(sequence: sequence, line: line))
            if state.entries.count >= retention + retention / 8 + 1 {
                state.entries.removeFirst(state.entries.count - retention)
            }
        }
    }

    /// Retained events with a sequence number greater than `sequence`, oldest first, and the
    /// oldest sequence number still retained (0 when empty).
    public func entries(after sequence: UInt64) -> (entries: [Entry], oldestRetained: UInt64) {
        state.withLock { state in
            let all = state.entries.suffix(retention)
            let oldest = all.first?.sequence ?? 0
            // Sequence numbers are consecutive, so the first wanted entry is found by arithmetic.
            let skip = sequence >= oldest ? Int(min(UInt64(all.count), sequence - oldest + 1)) : 0
            return (Array(all.dropFirst(skip)), oldest)
        }
    }

    /// The last sequence number given out (0 before the first event).
    public var lastSequence: UInt64 {
        state.withLock { $0.nextSequence - 1 }
    }

    /// `{"seq":N,"ts":"…","event":"…",<fields>}`.
    public static func render(sequence: UInt64, timestamp: String, event: JournalEvent) -> String {
        var line = "{\"seq\":\(sequence),\"ts\":\(JSONText.quote(timestamp)),\"event\":\(JSONText.quote(event.event))"
        for field in event.fields {
            line += ",\(JSONText.quote(field.key)):\(field.json)"
        }
        return line + "}"
    }
}

/// The journal's open file, shared by reference so the journal can stay a `Sendable` class.
private final class JournalFile: Sendable {
    let descriptor: FileDescriptor
    init(_ descriptor: consuming FileDescriptor) { self.descriptor = descriptor }
}
