public import FaultlineConfig

/// One journal event of `GET /v1/journal` (SPEC §6).
public struct JournalEntry: Sendable, Hashable {
    /// The event's sequence number; increases by one per event.
    public var seq: UInt64
    /// The event name: `fault.applied`, `route.disabled`, `daemon.started`, …
    public var event: String
    /// The RFC 3339 timestamp (`ts`).
    public var timestamp: String
    /// The whole event object, for its other members (`fault`, `route`, `id`, `reason`, …).
    public var fields: JSONObject
    /// The line exactly as the daemon sent it.
    public var raw: String

    /// Reads one journal line.
    /// - Throws: `FaultlineClientError` of kind `.invalidResponse` when it is not an event object.
    public init(line: String) throws(FaultlineClientError) {
        let value: JSONValue
        switch JSONParser.parse(line) {
        case .success(let parsed): value = parsed
        case .failure(let error): throw .invalidResponse("a journal line is not JSON: \(error)")
        }
        let reader = try AnswerReader(value, what: "a journal event")
        seq = try reader.unsigned("seq")
        event = try reader.string("event")
        timestamp = try reader.string("ts")
        fields = reader.object
        raw = line
    }

    /// Reads a `GET /v1/journal` body: one event a line, empty lines skipped.
    /// - Throws: `FaultlineClientError` of kind `.invalidResponse` for a line that is not an event.
    public static func parse(lines text: String) throws(FaultlineClientError) -> [JournalEntry] {
        var entries: [JournalEntry] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            entries.append(try JournalEntry(line: String(line)))
        }
        return entries
    }
}
