import FaultlineConfig
import FaultlineCore
import Testing

/// The example of SPEC §2, verbatim.
let specExample = #"""
{
  "version": 1,
  "seed": 42,
  "workers": 0,
  "control": {
    "unix_socket": "/run/faultline/control.sock",
    "http_listen": "127.0.0.1:8474",
    "token_file": null,
    "allowed_uids": []
  },
  "metrics_listen": null,
  "journal": "/var/lib/faultline/journal.jsonl",
  "limits": { "max_connections": 100000, "connect_timeout": "5s", "shutdown_grace": "10s",
              "buffer_bytes": 65536 },
  "routes": [
    { "name": "n1-n2", "listen": "127.0.0.1:12380", "upstream": "127.0.0.1:22380",
      "protocol": "tcp", "from": "n1", "to": "n2", "enabled": true }
  ],
  "faults": [
    { "id": "slow-db", "route": "orders-db", "type": "latency", "direction": "downstream",
      "delay": "100ms", "jitter": "10ms", "probability": 1.0 }
  ],
  "schedule": {
    "start": "on_load",
    "steps": [
      { "at": "5s",  "apply": { "id": "cut", "type": "partition", "groups": [["n1"], ["n2", "n3"]] }, "for": "20s" },
      { "at": "30s", "apply": { "id": "lag", "route": "*", "type": "latency", "delay": "50ms" } },
      { "at": "60s", "clear": "lag" }
    ]
  }
}
"""#

@Suite struct SpecExampleTests {
    @Test func verbatimExampleReportsOnlyWhatThisBuildLacks() {
        // The example's fault names a route the example does not define.
        #expect(errorLines(specExample) == [
            #"faults[0].route: unknown route "orders-db""#,
        ])
    }

    @Test func exampleWithRouteAndWithoutPartitionDecodesFully() throws {
        let text = specExample
            .replacing(
                #""protocol": "tcp", "from": "n1", "to": "n2", "enabled": true }"#,
                with: #""protocol": "tcp", "from": "n1", "to": "n2", "enabled": true },"#
                    + #"{ "name": "orders-db", "listen": "[::1]:5433", "upstream": "[2001:db8::5]:5432", "protocol": "http", "enabled": false }"#
            )
            .replacing(
                #"{ "id": "cut", "type": "partition", "groups": [["n1"], ["n2", "n3"]] }"#,
                with: #"{ "id": "cut", "type": "blackhole", "route": ["n1-n2"], "direction": "upstream" }"#
            )
        let config = try #require(decodedConfig(text))
        let expected = DaemonConfig(
            version: 1, seed: 42, workers: 0,
            control: ControlConfig(
                unixSocket: "/run/faultline/control.sock",
                httpListen: Endpoint(address: .v4(127, 0, 0, 1), port: 8474), tokenFile: nil, allowedUIDs: [],
                isGiven: true
            ),
            metricsListen: nil, journal: "/var/lib/faultline/journal.jsonl",
            limits: Limits(
                maxConnections: 100_000, connectTimeout: .seconds(5), shutdownGrace: .seconds(10), bufferBytes: 65536
            ),
            routes: [
                RouteSpec(
                    name: "n1-n2", listen: Endpoint(address: .v4(127, 0, 0, 1), port: 12380),
                    upstream: UpstreamAddress(Endpoint(address: .v4(127, 0, 0, 1), port: 22380)), protocolKind: .tcp,
                    from: "n1", to: "n2", enabled: true
                ),
                RouteSpec(
                    name: "orders-db", listen: Endpoint(address: .v6([UInt8](repeating: 0, count: 15) + [1]), port: 5433),
                    upstream: UpstreamAddress(Endpoint(address: .v6([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [5]), port: 5432)),
                    protocolKind: .http, enabled: false
                ),
            ],
            faults: [
                FaultSpec(
                    id: "slow-db", routes: .names(["orders-db"]), direction: .downstream, probability: 1,
                    kind: .latency(delay: .milliseconds(100), jitter: .milliseconds(10), distribution: .uniform)
                ),
            ],
            nodes: [:],
            schedule: ScheduleSpec(
                start: .onLoad,
                steps: [
                    .init(
                        at: .seconds(5),
                        action: .apply(FaultSpec(id: "cut", routes: .names(["n1-n2"]), direction: .upstream, kind: .blackhole)),
                        forDuration: .seconds(20)
                    ),
                    .init(
                        at: .seconds(30),
                        action: .apply(FaultSpec(
                            id: "lag", kind: .latency(delay: .milliseconds(50), jitter: .zero, distribution: .uniform)
                        ))
                    ),
                    .init(at: .seconds(60), action: .clear("lag")),
                ]
            )
        )
        #expect(config == expected)
    }

    @Test func minimalConfigGetsDefaults() throws {
        let config = try #require(decodedConfig(#"{"version": 1}"#))
        #expect(config == DaemonConfig())
        #expect(config.limits == Limits.defaults)
        #expect(config.schedule == nil)
        #expect(config.control == ControlConfig())
    }

    @Test func everyTopLevelKeyWithNonDefaults() throws {
        let config = try #require(decodedConfig(#"""
        {
          "version": 1, "seed": 18446744073709551615, "workers": 256,
          "control": {"unix_socket": "/tmp/c.sock", "http_listen": "0.0.0.0:8474", "token_file": "/etc/tok",
                      "allowed_uids": [0, 1000, 4294967295]},
          "metrics_listen": "[::]:9100",
          "journal": null,
          "limits": {"max_connections": 1, "connect_timeout": "1ns", "shutdown_grace": "0s", "buffer_bytes": 4096,
                     "latency_queue_bytes": 4096},
          "nodes": {"n1": {"addresses": ["10.77.0.11", "fe80::1"]}, "n2": {"addresses": ["10.77.0.12"]}},
          "routes": [{"name": "A.b_c-1", "listen": "localhost:0", "upstream": "127.0.0.1:1", "protocol": "http",
                      "from": null, "to": "n2"}],
          "schedule": {"start": "manual", "steps": [{"at": "0s", "clear": "x"}, {"at": "1s", "apply": {"id": "x", "type": "stall"}}],
                       "repeat": {"every": "1m", "times": 3}}
        }
        """#))
        #expect(config.seed == UInt64.max)
        #expect(config.workers == 256)
        #expect(config.control == ControlConfig(
            unixSocket: "/tmp/c.sock", httpListen: Endpoint(parsing: "0.0.0.0:8474"), tokenFile: "/etc/tok",
            allowedUIDs: [0, 1000, UInt32.max], isGiven: true
        ))
        #expect(config.metricsListen == Endpoint(parsing: "[::]:9100"))
        #expect(config.journal == nil)
        #expect(config.limits == Limits(
            maxConnections: 1, connectTimeout: .nanoseconds(1), shutdownGrace: .zero, bufferBytes: 4096, latencyQueueBytes: 4096))
        #expect(config.nodes == [
            "n1": [IPAddress(parsing: "10.77.0.11")!, IPAddress(parsing: "fe80::1")!],
            "n2": [IPAddress(parsing: "10.77.0.12")!],
        ])
        #expect(config.routes == [RouteSpec(
            name: "A.b_c-1", listen: Endpoint(address: .v4(127, 0, 0, 1), port: 0),
            upstream: UpstreamAddress(Endpoint(address: .v4(127, 0, 0, 1), port: 1)), protocolKind: .http, from: nil, to: "n2"
        )])
        #expect(config.schedule == ScheduleSpec(
            start: .manual,
            steps: [
                .init(at: .zero, action: .clear("x")),
                .init(at: .seconds(1), action: .apply(FaultSpec(id: "x", kind: .stall))),
            ],
            repeat: .init(every: .seconds(60), times: 3)
        ))
    }

    @Test(arguments: [
        "2026-11-24T10:00:00Z", "2026-11-24t10:00:00.123456z", "2024-02-29T23:59:60+14:00", "2026-01-01T00:00:00-05:30",
    ])
    func scheduleStartsAtAnInstant(instant: String) throws {
        let text = config(#""schedule": {"start": "\#(instant)", "steps": [{"at": "0s", "apply": {"type": "stall"}}]}"#)
        let config = try #require(decodedConfig(text))
        #expect(config.schedule?.start == .at(instant))
        #expect(config.schedule?.steps.first?.action == .apply(FaultSpec(id: "stall-step0", kind: .stall)))
    }
}
