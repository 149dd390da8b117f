import FaultlineControl
import FaultlineCore
import FaultlineSystem
import Glibc
import Testing

@Suite struct JournalTests {
    @Test func linesHaveTheEnvelopeThenTheFields() throws {
        let journal = try Journal(path: nil, log: Logger(minimumLevel: .error), clock: { 1_795_946_400_123_456_789 })
        journal.record(JournalEvent(event: "fault.injected", fields: [.string("route", "a\"b"), .int("conn", 42), JournalField("fault", json: #"{"id":"x"}"#)]))
        let entries = journal.entries(after: 0).entries
        #expect(entries.map(\.sequence) == [1])
        #expect(entries.map(\.line) == [#"{"seq":1,"ts":"2026-11-29T10:00:00.123456Z","event":"fault.injected","route":"a\"b","conn":42,"fault":{"id":"x"}}"#])
        #expect(journal.lastSequence == 1)
    }

    @Test func retentionKeepsTheNewest() throws {
        let journal = try Journal(path: nil, retention: 10, log: Logger(minimumLevel: .error))
        for index in 0..<100 { journal.record(JournalEvent(event: "e\(index)")) }
        let (entries, oldest) = journal.entries(after: 0)
        #expect(entries.map(\.sequence) == Array(91...100))
        #expect(oldest == 91)
        #expect(journal.entries(after: 95).entries.map(\.sequence) == [96, 97, 98, 99, 100])
        #expect(journal.entries(after: 100).entries.isEmpty)
        #expect(journal.entries(after: 500).entries.isEmpty)
    }

    @Test func appendsToTheFile() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/journal.jsonl"
        do {
            let first = try Journal(path: path, log: Logger(minimumLevel: .error), clock: { 0 })
            first.record(JournalEvent(event: "a"))
        }
        let second = try Journal(path: path, log: Logger(minimumLevel: .error), clock: { 0 })
        second.record(JournalEvent(event: "b"))
        #expect(try readText(path) == """
            {"seq":1,"ts":"1970-01-01T00:00:00.000000Z","event":"a"}
            {"seq":2,"ts":"1970-01-01T00:00:00.000000Z","event":"b"}

            """)
        #expect(second.lastSequence == 2)
        #expect(second.entries(after: 0).entries.map(\.sequence) == [2], "memory holds this run's events only")
    }

    @Test func aSecondJournalOnTheSameFileIsRefusedAndWritesNothing() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/journal.jsonl"
        let first = try Journal(path: path, log: Logger(minimumLevel: .error), clock: { 0 })
        first.record(JournalEvent(event: "a"))
        let before = try readText(path)
        #expect(throws: SystemError(errno: EWOULDBLOCK, call: "flock")) {
            _ = try Journal(path: path, log: Logger(minimumLevel: .error), clock: { 0 })
        }
        #expect(try readText(path) == before)
        first.record(JournalEvent(event: "b"))
        #expect(try readText(path).hasSuffix(#"{"seq":2,"ts":"1970-01-01T00:00:00.000000Z","event":"b"}"# + "\n"))
    }

    @Test func aLineCutShortIsEndedAndNotTrusted() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/journal.jsonl"
        let crashed = #"{"seq":7,"ts":"x","event":"a"}"# + "\n" + #"{"seq":8,"ts":"x","ev"#
        #expect(fopen(path, "w").map { file in defer { fclose(file) }; return fputs(crashed, file) >= 0 } == true)
        let journal = try Journal(path: path, log: Logger(minimumLevel: .error), clock: { 0 })
        journal.record(JournalEvent(event: "b"))
        #expect(try readText(path) == crashed + "\n" + #"{"seq":8,"ts":"1970-01-01T00:00:00.000000Z","event":"b"}"# + "\n")
    }

    @Test func theLastSequenceOfATail() {
        func last(_ text: String) -> UInt64 { Journal.sequenceOfLastLine(inTail: Array(text.utf8)) }
        #expect(last("") == 0)
        #expect(last("\n\n") == 0)
        #expect(last(#"{"seq":41,"event":"a"}"# + "\n" + #"{"seq":42,"event":"b"}"# + "\n") == 42)
        #expect(last(#"{"seq":41,"event":"a"}"# + "\n" + #"{"seq":42,"ev"#) == 41, "an unfinished line is skipped")
        #expect(last(#"{"seq":41,"event":"a"}"# + "\n" + "garbage\n" + #"{"seq":"x"}"# + "\n") == 41)
        #expect(last(#"q":99,"event":"a"}"# + "\n") == 0, "a line not starting with seq is not ours")
        #expect(last(#"{"seq":99999999999999999999999,"e":1}"# + "\n" + "") == 0, "overflow is not a number")
    }

    @Test func aMissingDirectoryIsAnError() {
        #expect(throws: SystemError.self) {
            _ = try Journal(path: "/nonexistent-faultline-dir/journal.jsonl", log: Logger(minimumLevel: .error))
        }
    }

    @Test func sequenceNumbersAreUniqueAcrossThreads() throws {
        let journal = try Journal(path: nil, log: Logger(minimumLevel: .error))
        let threads = (0..<4).map { worker in
            Threads.spawn(name: "journal-\(worker)") {
                for index in 0..<500 { journal.record(JournalEvent(event: "w\(worker).\(index)")) }
            }
        }
        for thread in threads { thread.join() }
        let sequences = journal.entries(after: 0).entries.map(\.sequence)
        #expect(sequences == Array(1...2000))
    }
}

func temporaryDirectory() throws -> String {
    var template = Array("/tmp/faultline-control-XXXXXX".utf8CString)
    guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw SystemError(errno: errno, call: "mkdtemp")
    }
    return String(cString: result)
}

func readText(_ path: String) throws -> String {
    guard let file = fopen(path, "r") else { throw SystemError(errno: errno, call: "fopen") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count == 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
