import FaultlineConfig
@testable import FaultlineControl
import FaultlineCore
import Testing

/// The toxic ↔ fault mapping, pure.
@Suite struct ToxiproxyMappingTests {
    static let cases: [(ToxiproxyToxic, FaultSpec)] = [
        (ToxiproxyToxic(name: "lat", type: .latency, stream: .downstream, toxicity: 1, attributes: [250, 10]),
         FaultSpec(id: "toxiproxy.db.lat", routes: .names(["db"]), direction: .downstream, probability: 1,
                   kind: .latency(delay: .milliseconds(250), jitter: .milliseconds(10), distribution: .uniform))),
        (ToxiproxyToxic(name: "bw", type: .bandwidth, stream: .upstream, toxicity: 0.5, attributes: [64]),
         FaultSpec(id: "toxiproxy.db.bw", routes: .names(["db"]), direction: .upstream, probability: 0.5,
                   kind: .bandwidth(bytesPerSecond: 64_000))),
        (ToxiproxyToxic(name: "bw0", type: .bandwidth, stream: .upstream, toxicity: 1, attributes: [0]),
         FaultSpec(id: "toxiproxy.db.bw0", routes: .names(["db"]), direction: .upstream, probability: 1, kind: .stall)),
        (ToxiproxyToxic(name: "sc", type: .slowClose, stream: .downstream, toxicity: 1, attributes: [300]),
         FaultSpec(id: "toxiproxy.db.sc", routes: .names(["db"]), direction: .downstream, kind: .slowClose(delay: .milliseconds(300)))),
        (ToxiproxyToxic(name: "to", type: .timeout, stream: .upstream, toxicity: 1, attributes: [0]),
         FaultSpec(id: "toxiproxy.db.to", routes: .names(["db"]), direction: .upstream, kind: .timeout(.zero))),
        (ToxiproxyToxic(name: "rp", type: .resetPeer, stream: .downstream, toxicity: 1, attributes: [1500]),
         FaultSpec(id: "toxiproxy.db.rp", routes: .names(["db"]), direction: .downstream,
                   kind: .reset(after: .milliseconds(1500), afterBytes: nil))),
        (ToxiproxyToxic(name: "sl", type: .slicer, stream: .downstream, toxicity: 1, attributes: [100, 20, 500]),
         FaultSpec(id: "toxiproxy.db.sl", routes: .names(["db"]), direction: .downstream,
                   kind: .slicer(averageSize: 100, sizeVariation: 20, delay: .microseconds(500)))),
        (ToxiproxyToxic(name: "ld", type: .limitData, stream: .upstream, toxicity: 1, attributes: [4096]),
         FaultSpec(id: "toxiproxy.db.ld", routes: .names(["db"]), direction: .upstream, kind: .limitData(bytes: 4096))),
    ]

    @Test(arguments: 0..<cases.count)
    func toxicMapsToFaultAndBack(_ index: Int) throws {
        let (toxic, fault) = Self.cases[index]
        #expect(try toxic.fault(proxy: "db").get() == fault)
        #expect(ToxiproxyToxic(fault: fault, proxy: "db") == toxic)
    }

    @Test func faultsThatAreNotToxicsOfTheProxyAreNotShown() {
        let latency = FaultKind.latency(delay: .milliseconds(5), jitter: .zero, distribution: .uniform)
        // Another proxy's toxic, a /v1 fault, a two-way fault, a route list, an unmapped kind.
        #expect(ToxiproxyToxic(fault: FaultSpec(id: "toxiproxy.db.x", routes: .names(["db"]), direction: .upstream, kind: latency), proxy: "d") == nil)
        #expect(ToxiproxyToxic(fault: FaultSpec(id: "slow", routes: .names(["db"]), direction: .upstream, kind: latency), proxy: "db") == nil)
        #expect(ToxiproxyToxic(fault: FaultSpec(id: "toxiproxy.db.x", routes: .names(["db"]), direction: .both, kind: latency), proxy: "db") == nil)
        #expect(ToxiproxyToxic(fault: FaultSpec(id: "toxiproxy.db.x", routes: .names(["db", "e"]), direction: .upstream, kind: latency), proxy: "db") == nil)
        #expect(ToxiproxyToxic(fault: FaultSpec(id: "toxiproxy.db.x", routes: .names(["db"]), direction: .upstream, kind: .blackhole), proxy: "db") == nil)
        #expect(ToxiproxyToxic(fault: FaultSpec(id: "toxiproxy.db.x", routes: .names(["db"]), direction: .upstream,
                                                kind: .reset(after: .zero, afterBytes: 10)), proxy: "db") == nil)
    }

    @Test func jsonHasToxiproxysShape() {
        let toxic = ToxiproxyToxic(name: "latency_downstream", type: .latency, stream: .downstream, toxicity: 1, attributes: [100, 0])
        #expect(JSONWriter.render(toxic.json)
            == #"{"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1.0,"attributes":{"latency":100,"jitter":0}}"#)
    }

    @Test func attributesMergeIntoTheBase() throws {
        let merged = try ToxiproxyToxic.attributes(of: .latency, from: JSONObject([("jitter", 7)]), base: [100, 0]).get()
        #expect(merged == [100, 7])
        #expect(try ToxiproxyToxic.attributes(of: .slicer, from: JSONObject()).get() == [0, 0, 0])
    }

    @Test(arguments: [
        (ToxiproxyToxicType.latency, #"{"latancy": 1}"#, "bad request body: unknown attribute \"latancy\" for toxic type latency (expected latency, jitter)"),
        (.latency, #"{"latency": 1.5}"#, "bad request body: attributes.latency: expected an integer, got number"),
        (.latency, #"{"latency": "1"}"#, "bad request body: attributes.latency: expected an integer, got string"),
        (.limitData, #"{"bytes": -1}"#, "bad request body: attributes.bytes: must not be negative, got -1"),
    ])
    func badAttributesAre400(type: ToxiproxyToxicType, json: String, message: String) throws {
        let object = try #require(try JSONParser.parse(bytes: Array(json.utf8)).get().objectValue)
        #expect(ToxiproxyToxic.attributes(of: type, from: object) == .failure(ToxiproxyError(status: 400, message: message)))
    }

    @Test func outOfRangeValuesAre400() {
        func message(_ toxic: ToxiproxyToxic) -> String? {
            if case .failure(let error) = toxic.fault(proxy: "db") { return error.message }
            return nil
        }
        // average_size 0 (Toxiproxy's zero value) is the smallest slice, 1 byte: accepted.
        #expect(message(ToxiproxyToxic(name: "s", type: .slicer, stream: .upstream, toxicity: 1, attributes: [0, 0, 0])) == nil)
        #expect(message(ToxiproxyToxic(name: "s", type: .slicer, stream: .upstream, toxicity: 1, attributes: [0, 1, 0]))
            == "bad request body: attributes.size_variation: must be less than average_size (1), got 1")
        #expect(message(ToxiproxyToxic(name: String(repeating: "n", count: 129), type: .latency, stream: .upstream, toxicity: 1, attributes: [0, 0]))
            == "bad request body: name: is 129 bytes long; a name is at most 128 bytes")
        #expect(message(ToxiproxyToxic(name: "s", type: .slicer, stream: .upstream, toxicity: 1, attributes: [10, 10, 0]))
            == "bad request body: attributes.size_variation: must be less than average_size (10), got 10")
        #expect(message(ToxiproxyToxic(name: "a b", type: .timeout, stream: .upstream, toxicity: 1, attributes: [0]))
            == "bad request body: toxic name \"a b\" may only use letters, digits, '.', '_' and '-'")
        #expect(message(ToxiproxyToxic(name: "t", type: .timeout, stream: .upstream, toxicity: 1.5, attributes: [0]))
            == "bad request body: toxicity must be between 0 and 1, got 1.5")
        #expect(message(ToxiproxyToxic(name: "b", type: .bandwidth, stream: .upstream, toxicity: 1, attributes: [Int64.max]))
            == "bad request body: attributes.rate: \(Int64.max) KB/s is too large")
    }
}

/// The Toxiproxy API through `ControlService` on the TCP listener, with a fake data plane.
@Suite struct ToxiproxyServiceTests {
    typealias Harness = ControlServiceTests.Harness

    func tcp(_ harness: Harness, _ method: String, _ target: String, _ text: String = "") -> ControlResponse {
        harness.call(method, target, text, on: .tcp)
    }

    @Test func versionAnswersToxiproxysShape() throws {
        let harness = try Harness()
        let response = tcp(harness, "GET", "/version")
        #expect(response.status == 200)
        #expect(response.bodyText == "{\"version\":\"2.12.0\"}\n")
    }

    @Test func toxiproxyPathsAre404OnTheUnixSocket() throws {
        let harness = try Harness()
        #expect(harness.call("GET", "/proxies", on: .unix).status == 404)
        #expect(harness.call("GET", "/version", on: .unix).errorCode == "not_found")
    }

    @Test func createShowsTheBoundAddressAndJournalsARoute() throws {
        let harness = try Harness()
        let created = tcp(harness, "POST", "/proxies", #"{"name":"redis","listen":"127.0.0.1:0","upstream":"127.0.0.1:6379"}"#)
        #expect(created.status == 201)
        // The fake data plane resolves port 0 to 40000 + n.
        #expect(created.bodyText == #"{"name":"redis","listen":"127.0.0.1:40001","upstream":"127.0.0.1:6379","enabled":true,"toxics":[]}"# + "\n")
        #expect(harness.service.state.route(named: "redis")?.origin == .runtime)
        #expect(harness.journal.entries(after: 0).entries.last?.line.contains(#""event":"route.added","route":"redis""#) == true)
        #expect(tcp(harness, "POST", "/proxies", #"{"name":"redis","upstream":"127.0.0.1:1"}"#).bodyText
            == "{\"error\":\"proxy already exists\",\"status\":409}\n")
    }

    @Test(arguments: [
        (#"{"upstream":"127.0.0.1:1"}"#, 400, "missing required field: name"),
        (#"{"name":"x"}"#, 400, "missing required field: upstream"),
        (#"{"name":"x","upstream":"127.0.0.1:1","colour":1}"#, 400, "bad request body: unknown field \"colour\" (expected name, listen, upstream or enabled)"),
        (#"{"name":"x","upstream":5}"#, 400, "bad request body: upstream: expected a string, got integer"),
        (#"{"name":"x","upstream":"#, 400, nil),
        ("", 400, "bad request body: request body is empty; expected a JSON object"),
        (#"{"name":"x","upstream":"nowhere"}"#, 400, nil),
        (#"{"name":"x","upstream":"127.0.0.1:1","listen":"127.0.0.1:15002"}"#, 409, "listen address 127.0.0.1:15002 is used by proxy \"b\""),
    ] as [(String, Int, String?)])
    func badProxiesAreRefusedInToxiproxysShape(body: String, status: Int, message: String?) throws {
        let harness = try Harness()
        let plans = harness.plane.plans.count
        let response = tcp(harness, "POST", "/proxies", body)
        #expect(response.status == status)
        #expect(response.json.objectValue?["status"] == .integer(Int64(status)))
        let text = try #require(response.json.objectValue?["error"]?.stringValue)
        if let message { #expect(text == message) } else { #expect(text.hasPrefix("bad request body: ")) }
        #expect(harness.plane.plans.count == plans, "a refused request changes nothing")
    }

    @Test func goClientSaveBodyWithToxicsIsAnUpdateThatChangesNothing() throws {
        let harness = try Harness()
        _ = tcp(harness, "POST", "/proxies", #"{"name":"p","listen":"127.0.0.1:0","upstream":"127.0.0.1:6379"}"#)
        let plans = harness.plane.plans.count
        // What toxiproxy-go's Proxy.Save sends for an existing proxy: the proxy as it was shown.
        let saved = tcp(harness, "POST", "/proxies/p", #"{"name":"p","listen":"127.0.0.1:40001","upstream":"127.0.0.1:6379","enabled":true,"toxics":null}"#)
        #expect(saved.status == 200)
        #expect(harness.plane.plans.count == plans)
    }

    @Test func disableKeepsTheBoundPortForReenable() throws {
        let harness = try Harness()
        _ = tcp(harness, "POST", "/proxies", #"{"name":"p","listen":"127.0.0.1:0","upstream":"127.0.0.1:6379"}"#)
        let disabled = tcp(harness, "PATCH", "/proxies/p", #"{"enabled":false}"#)
        #expect(disabled.json.objectValue?["listen"] == "127.0.0.1:40001")
        #expect(disabled.json.objectValue?["enabled"] == false)
        #expect(harness.plane.lastPlan?.routes.first { $0.spec.name == "p" }?.spec.listen.description == "127.0.0.1:40001")
        let enabled = tcp(harness, "PATCH", "/proxies/p", #"{"enabled":true}"#)
        #expect(enabled.json.objectValue?["listen"] == "127.0.0.1:40001")
        #expect(tcp(harness, "PATCH", "/proxies/p", #"{"name":"q"}"#).status == 400)
        #expect(tcp(harness, "PATCH", "/proxies/nope", #"{"enabled":true}"#).bodyText == "{\"error\":\"proxy not found\",\"status\":404}\n")
    }

    @Test func toxicLifecycle() throws {
        let harness = try Harness()
        _ = tcp(harness, "POST", "/proxies", #"{"name":"p","listen":"127.0.0.1:0","upstream":"127.0.0.1:6379"}"#)
        let added = tcp(harness, "POST", "/proxies/p/toxics", #"{"type":"latency","attributes":{"latency":100}}"#)
        #expect(added.status == 200)
        #expect(added.bodyText == #"{"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1.0,"attributes":{"latency":100,"jitter":0}}"# + "\n")
        let fault = try #require(harness.service.state.fault(id: "toxiproxy.p.latency_downstream"))
        #expect(fault.spec.kind == .latency(delay: .milliseconds(100), jitter: .zero, distribution: .uniform))
        let planned = harness.plane.lastPlan?.route(named: "p")?.faults.map { $0.id } ?? []
        #expect(planned.contains("toxiproxy.p.latency_downstream"))

        #expect(tcp(harness, "POST", "/proxies/p/toxics", #"{"type":"latency"}"#).bodyText == "{\"error\":\"toxic already exists\",\"status\":409}\n")
        #expect(tcp(harness, "POST", "/proxies/p/toxics", #"{"type":"latency","stream":"sideways"}"#).bodyText
            == "{\"error\":\"stream was invalid, can be either upstream or downstream\",\"status\":400}\n")
        #expect(tcp(harness, "POST", "/proxies/p/toxics", #"{"type":"bogus"}"#).bodyText == "{\"error\":\"invalid toxic type\",\"status\":400}\n")
        #expect(tcp(harness, "POST", "/proxies/q/toxics", #"{"type":"latency"}"#).status == 404)

        // The official Go client updates with PATCH and merges attributes.
        let updated = tcp(harness, "PATCH", "/proxies/p/toxics/latency_downstream", #"{"attributes":{"jitter":5},"toxicity":0.5}"#)
        #expect(updated.status == 200)
        #expect(updated.json.objectValue?["attributes"] == ["latency": 100, "jitter": 5])
        #expect(updated.json.objectValue?["toxicity"] == .double(0.5))
        #expect(harness.service.state.fault(id: "toxiproxy.p.latency_downstream")?.spec.probability == 0.5)
        #expect(tcp(harness, "PATCH", "/proxies/p/toxics/latency_downstream", #"{"stream":"upstream"}"#).status == 400)
        #expect(tcp(harness, "PATCH", "/proxies/p/toxics/nope", #"{}"#).bodyText == "{\"error\":\"toxic not found\",\"status\":404}\n")

        let listed = tcp(harness, "GET", "/proxies/p/toxics")
        #expect(listed.json.arrayValue?.count == 1)
        #expect(tcp(harness, "GET", "/proxies").json.objectValue?["p"]?.objectValue?["toxics"]?.arrayValue?.count == 1)
        // The /v1 view shows the same fault under its namespaced id.
        #expect(harness.call("GET", "/v1/faults/toxiproxy.p.latency_downstream").status == 200)

        #expect(tcp(harness, "DELETE", "/proxies/p/toxics/latency_downstream").status == 204)
        #expect(harness.service.state.fault(id: "toxiproxy.p.latency_downstream") == nil)
        #expect(tcp(harness, "DELETE", "/proxies/p/toxics/latency_downstream").status == 404)
    }

    @Test func deletingAProxyTakesItsToxicsAlong() throws {
        let harness = try Harness()
        _ = tcp(harness, "POST", "/proxies", #"{"name":"p","listen":"127.0.0.1:0","upstream":"127.0.0.1:6379"}"#)
        _ = tcp(harness, "POST", "/proxies/p/toxics", #"{"type":"timeout","stream":"upstream"}"#)
        #expect(tcp(harness, "DELETE", "/proxies/p").status == 204)
        #expect(harness.service.state.route(named: "p") == nil)
        #expect(harness.service.state.faults.map(\.spec.id) == ["slow"])
        let events = harness.journal.entries(after: 0).entries.suffix(2).map(\.line)
        #expect(events.first?.contains(#""event":"fault.cleared","id":"toxiproxy.p.timeout_upstream""#) == true)
        #expect(events.last?.contains(#""event":"route.removed","route":"p""#) == true)
        // Route "a" is named by the file fault "slow": Toxiproxy cannot delete it from under it.
        #expect(tcp(harness, "DELETE", "/proxies/a").status == 409)
    }

    @Test func resetEnablesEverythingAndRemovesOnlyToxics() throws {
        let harness = try Harness()
        _ = tcp(harness, "POST", "/proxies", #"{"name":"p","listen":"127.0.0.1:0","upstream":"127.0.0.1:6379","enabled":false}"#)
        _ = tcp(harness, "POST", "/proxies/p/toxics", #"{"type":"limit_data","attributes":{"bytes":10}}"#)
        let reset = tcp(harness, "POST", "/reset")
        #expect(reset.status == 204)
        #expect(reset.body.isEmpty)
        #expect(harness.service.state.route(named: "p")?.spec.enabled == true)
        #expect(harness.service.state.faults.map(\.spec.id) == ["slow"], "a /v1 or file fault is not a toxic")
        let plans = harness.plane.plans.count
        #expect(tcp(harness, "POST", "/reset").status == 204)
        #expect(harness.plane.plans.count == plans, "nothing to reset: no new plan")
    }

    @Test func populateCreatesKeepsAndReplaces() throws {
        let harness = try Harness()
        _ = tcp(harness, "POST", "/proxies", #"{"name":"keep","listen":"127.0.0.1:0","upstream":"127.0.0.1:1"}"#)
        _ = tcp(harness, "POST", "/proxies/keep/toxics", #"{"type":"latency"}"#)
        _ = tcp(harness, "POST", "/proxies", #"{"name":"swap","listen":"127.0.0.1:0","upstream":"127.0.0.1:2"}"#)
        _ = tcp(harness, "POST", "/proxies/swap/toxics", #"{"type":"latency"}"#)
        let response = tcp(harness, "POST", "/populate", #"""
            [{"name":"keep","listen":"127.0.0.1:40001","upstream":"127.0.0.1:1"},
             {"name":"swap","listen":"127.0.0.1:0","upstream":"127.0.0.1:3"},
             {"name":"new","upstream":"127.0.0.1:4","enabled":null}]
            """#)
        #expect(response.status == 201)
        let proxies = try #require(response.json.objectValue?["proxies"]?.arrayValue)
        #expect(proxies.compactMap { $0.objectValue?["name"]?.stringValue } == ["keep", "swap", "new"])
        #expect(proxies[0].objectValue?["toxics"]?.arrayValue?.count == 1, "an unchanged proxy keeps its toxics")
        #expect(proxies[1].objectValue?["toxics"]?.arrayValue?.count == 0, "a replaced proxy loses them")
        #expect(proxies[1].objectValue?["upstream"] == "127.0.0.1:3")
        #expect(proxies[2].objectValue?["enabled"] == true)

        let plans = harness.plane.plans.count
        let bad = tcp(harness, "POST", "/populate", #"[{"name":"z","upstream":"127.0.0.1:5"},{"name":"y"}]"#)
        #expect(bad.bodyText == "{\"error\":\"missing required field: upstream at proxy 2\",\"status\":400,\"proxies\":null}\n")
        #expect(harness.plane.plans.count == plans)
        #expect(harness.service.state.route(named: "z") == nil, "populate checks every entry before changing anything")
        #expect(tcp(harness, "POST", "/populate", #"{"name":"z"}"#).status == 400)
    }

    @Test func applyFailureIsAToxiproxyError() throws {
        let harness = try Harness()
        harness.plane.failNextApply()
        let response = tcp(harness, "POST", "/proxies", #"{"name":"p","upstream":"127.0.0.1:1"}"#)
        #expect(response.status == 409)
        #expect(response.json.objectValue?["error"]?.stringValue == FakeApplyError().description)
        #expect(harness.service.state.route(named: "p") == nil)
    }

    @Test func wrongMethodsAre405WithAllow() throws {
        let harness = try Harness()
        let response = tcp(harness, "PUT", "/proxies")
        #expect(response.status == 405)
        #expect(response.headers["Allow"] == "GET, POST")
        #expect(tcp(harness, "GET", "/reset").status == 405)
        #expect(tcp(harness, "GET", "/proxies/a/b").status == 404)
    }
}
