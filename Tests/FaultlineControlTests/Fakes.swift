import FaultlineConfig
import FaultlineControl
import FaultlineCore
import FaultlineSystem
import Synchronization

struct FakeApplyError: Error, CustomStringConvertible {
    var description: String { "route x: cannot listen on 127.0.0.1:1: Address already in use" }
}

struct FakeTimeoutError: DataPlaneTimeout, CustomStringConvertible {
    var dataPlaneTimeout: Bool { true }
    var description: String { "a worker did not take the new plan in time; nothing changed" }
}

/// A data plane that records plans, resolves port 0 to stable fake ports, and fails on demand.
final class FakeDataPlane: DataPlane {
    private struct State {
        var plans: [FaultPlan] = []
        var failNext: (any Error)?
        var ports: [String: UInt16] = [:]
    }
    private let state = Mutex(State())

    var plans: [FaultPlan] { state.withLock { $0.plans } }
    var lastPlan: FaultPlan? { plans.last }
    func failNextApply(with error: any Error = FakeApplyError()) { state.withLock { $0.failNext = error } }

    func apply(_ plan: FaultPlan) throws -> FaultPlan {
        try state.withLock { (state) throws -> FaultPlan in
            if let error = state.failNext {
                state.failNext = nil
                throw error
            }
            var effective = plan
            for index in effective.routes.indices where effective.routes[index].spec.listen.port == 0 {
                let name = effective.routes[index].spec.name
                let port = state.ports[name] ?? UInt16(40_000 + state.ports.count)
                state.ports[name] = port
                effective.routes[index].spec.listen.port = port
            }
            state.plans.append(effective)
            return effective
        }
    }

    var workerCount: Int { 2 }
    var openConnections: Int { 7 }
    func requestLog(route: String, since: UInt64) -> [RequestRecord] { [] }
}

/// An event sink that keeps what it was given.
final class RecordingSink: EventSink {
    private let events = Mutex<[JournalEvent]>([])
    var recorded: [JournalEvent] { events.withLock { $0 } }
    var names: [String] { recorded.map(\.event) }
    func record(_ event: JournalEvent) { events.withLock { $0.append(event) } }
}

func decodeConfig(_ json: String) -> DaemonConfig {
    switch ConfigDecoder.decode(jsonText: json) {
    case .success(let config): return config
    case .failure(let errors): fatalError("test config invalid: \(errors)")
    }
}

let baseConfigJSON = """
    {"version": 1, "seed": 7,
     "routes": [
       {"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9001"},
       {"name": "b", "listen": "127.0.0.1:15002", "upstream": "127.0.0.1:9002", "from": "n1", "to": "n2"}
     ],
     "faults": [{"id": "slow", "route": "a", "type": "latency", "delay": "100ms"}]}
    """

/// A state with the base config in force (plan 1 applied to `plane`).
func startedState(_ plane: FakeDataPlane, json: String = baseConfigJSON) -> ControlState {
    var state = ControlState(config: decodeConfig(json))
    let sink = RecordingSink()
    // A reload to the same config is the one public door that applies a whole config.
    _ = state.perform(state.reload(to: state.config, path: "test.json"), on: plane, journal: sink)
    return state
}

func body(_ text: String) -> [UInt8] { Array(text.utf8) }

extension ControlResponse {
    var json: JSONValue { jsonBody ?? .null }
    var errorCode: String? { json.objectValue?["error"]?.objectValue?["code"]?.stringValue }
    var errorPath: String? { json.objectValue?["error"]?.objectValue?["path"]?.stringValue }
    var errorMessage: String? { json.objectValue?["error"]?.objectValue?["message"]?.stringValue }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}
