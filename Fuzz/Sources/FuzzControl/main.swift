import FaultlineConfig
import FaultlineControl
import FaultlineCore
import FaultlineHTTP1
import FaultlineMetrics
import FaultlineSystem
import FuzzSupport

// Input: one byte choosing the listener (0 Unix socket, 1 TCP with Toxiproxy's API, 2 metrics),
// then the bytes a client sends on one control connection (pipelined HTTP/1.1 requests). They are
// parsed as the control loop parses them (HTTPRequestParser, ControlRequest) and answered by a
// fresh ControlService over a fake data plane (as ControlServiceTests build it), so one input is a
// sequence of API calls on one daemon. Invariants, per request:
//   - a response is 1xx…5xx, and a JSON content type has a body that parses as JSON;
//   - an error response (4xx/5xx) changes nothing: ControlState before and after are equal, and
//     so are its JSON (routes, faults, status);
//   - an error of the /v1 API is `{"error": {"code", "message", …}}` with string code and message.
// The data plane refuses any plan with a route listening on port 1 (as a taken port would), so
// the "plan refused → nothing changes" path is reached from the input.

struct Refused: Error, CustomStringConvertible {
    var description: String { "route x: cannot listen on 127.0.0.1:1: Address already in use" }
}

/// A data plane without workers: port 0 becomes a fixed fake port, port 1 cannot be bound.
final class FuzzDataPlane: DataPlane, @unchecked Sendable {
    // Unchecked: one fuzz input runs on one thread; nothing else holds this object.
    private var ports: [String: UInt16] = [:]

    func apply(_ plan: FaultPlan) throws -> FaultPlan {
        var effective = plan
        for index in effective.routes.indices {
            let spec = effective.routes[index].spec
            if spec.enabled && spec.listen.port == 1 { throw Refused() }
            if spec.listen.port == 0 {
                let port = ports[spec.name] ?? UInt16(40_000 + ports.count)
                ports[spec.name] = port
                effective.routes[index].spec.listen.port = port
            }
        }
        return effective
    }

    var workerCount: Int { 2 }
    var openConnections: Int { 0 }
    func requestLog(route: String, since: UInt64) -> [RequestRecord] { [] }
}

let baseConfig: DaemonConfig = {
    let text = """
        {"version": 1, "seed": 7,
         "nodes": {"n1": {"addresses": ["10.0.0.1"]}, "n2": {"addresses": ["10.0.0.2"]}},
         "routes": [
           {"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9001"},
           {"name": "b", "listen": "127.0.0.1:15002", "upstream": "127.0.0.1:9002", "from": "n1", "to": "n2"},
           {"name": "h", "listen": "127.0.0.1:15003", "upstream": "127.0.0.1:9003", "protocol": "http"}
         ],
         "faults": [{"id": "slow", "route": "a", "type": "latency", "delay": "100ms"}]}
        """
    switch ConfigDecoder.decode(jsonText: text) {
    case .success(let config): return config
    case .failure(let errors): fatalError("fuzz base config invalid: \(errors)")
    }
}()
let quietLog = Logger(minimumLevel: .error)
let listeners: [ControlListenerKind] = [.unix, .tcp, .metrics]

func snapshot(_ service: ControlService) -> (ControlState, String) {
    let state = service.state
    let environment = ControlEnvironment(
        version: "fuzz", uptime: .zero, workers: 2, openConnections: 0, schedule: .null, monotonicNow: nil
    )
    let json = JSONWriter.render(.array([state.routesJSON, state.faultsJSON(now: nil), state.statusJSON(environment)]))
    return (state, json)
}

func check(_ response: ControlResponse, to request: ControlRequest, before: (ControlState, String), service: ControlService) {
    require((100...599).contains(response.status), "status \(response.status) for \(request.method) \(request.path)")
    let contentType = response.headers.first(where: { $0.name.lowercased() == "content-type" })?.value ?? ""
    var json: JSONValue?
    if contentType.hasPrefix("application/json") {
        guard case .success(let value) = JSONParser.parse(bytes: response.body) else {
            require(false, "\(request.method) \(request.path): JSON body does not parse: \(String(decoding: response.body, as: UTF8.self))")
            return
        }
        json = value
    }
    guard response.status >= 400 else { return }
    let after = snapshot(service)
    require(after.0 == before.0, "\(request.method) \(request.path) answered \(response.status) but changed the state")
    require(after.1 == before.1, "\(request.method) \(request.path) answered \(response.status) but changed the state's JSON:\n\(before.1)\n\(after.1)")
    if request.segments.first == "v1", let json = json {
        let error = json.objectValue?["error"]?.objectValue
        require(error?["code"]?.stringValue?.isEmpty == false && error?["message"]?.stringValue?.isEmpty == false,
                "\(request.method) \(request.path) \(response.status): error body without code and message: \(JSONWriter.render(json))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControl(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let listener = listeners[Int(data[0]) % listeners.count]
    let input = bytes(data + 1, size - 1)

    let registry = MetricsRegistry()
    let metrics = ControlMetrics()
    metrics.register(into: registry)
    let service: ControlService
    do {
        let journal = try Journal(path: nil, log: quietLog, clock: { 1_700_000_000_000_000_000 })
        service = ControlService(
            config: baseConfig, configPath: "/etc/faultline.json", dataPlane: FuzzDataPlane(), journal: journal,
            registry: registry, metrics: metrics, version: "fuzz", log: quietLog,
            monotonicClock: { 5_000_000_000 }, loadConfig: { _ in .success(baseConfig) },
            realtimeClock: { 1_700_000_000_000_000_000 }
        )
        try service.start()
    } catch {
        fatalError("fuzz service does not start: \(error)")
    }

    var parser = HTTPRequestParser(limits: HTTPParserLimits(maxBodyBytes: 1 << 20))
    parser.feed(input)
    parser.finish()
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    while true {
        let event: HTTPRequestParser.Event?
        do {
            event = try parser.next()
        } catch {
            break
        }
        guard let event = event else { break }
        switch event {
        case .head(let h):
            head = h
            body = []
        case .body(let bytes):
            body.append(contentsOf: bytes)
        case .end:
            guard let h = head,
                  let request = ControlRequest(method: h.method, target: h.target, headers: h.headers, body: body)
            else { continue }
            head = nil
            let before = snapshot(service)
            let response = service.handle(request, on: listener)
            check(response, to: request, before: before, service: service)
        }
    }
    return 0
}
