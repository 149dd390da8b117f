public import FaultlineConfig

/// What `POST /v1/reload` reports after the config file was read again and put in force.
public struct ReloadResult: Sendable, Hashable {
    /// The plan version now in force.
    public var planVersion: Int
    /// Routes in force (file and runtime).
    public var routes: Int
    /// Faults in force (file and runtime).
    public var faults: Int

    /// Reads a `POST /v1/reload` answer.
    /// - Throws: `FaultlineClientError` of kind `.invalidResponse` naming what is missing.
    public init(json: JSONValue) throws(FaultlineClientError) {
        let reader = try AnswerReader(json, what: "the reload answer")
        planVersion = try reader.int("plan_version")
        routes = try reader.int("routes")
        faults = try reader.int("faults")
    }
}
