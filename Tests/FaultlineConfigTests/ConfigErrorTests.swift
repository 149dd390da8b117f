import FaultlineConfig
import Testing

/// Every error message of the config decoder, exactly as `--check-config` prints it.
@Suite struct ConfigErrorTests {
    @Test(arguments: [
        // Whole document.
        ("[]", ["$: expected an object, got array"]),
        ("{\"version\": 1,\n  \"workers\": 2,,\n}", ["$: invalid JSON at line 2, column 16: expected a string key"]),
        ("{}", ["version: missing required key"]),
        // Top-level scalars.
        (#"{"version": 2}"#, ["version: unsupported version 2 (expected 1)"]),
        (#"{"version": "1"}"#, ["version: expected an integer, got string"]),
        (#"{"version": 1.0}"#, ["version: expected an integer, got number"]),
        (config(#""workers": "4""#), ["workers: expected an integer, got string"]),
        (config(#""workers": 257"#), ["workers: must be between 0 and 256, got 257"]),
        (config(#""workers": -1"#), ["workers: must be between 0 and 256, got -1"]),
        (config(#""workers": null"#), ["workers: expected an integer, got null"]),
        (config(#""seed": -1"#), ["seed: must be between 0 and 18446744073709551615, got -1"]),
        (config(#""seed": 18446744073709551616"#), ["seed: out of range: must be between 0 and 18446744073709551615, got 1.8446744073709552e+19"]),
        (config(#""seed": true"#), ["seed: expected an integer, got boolean"]),
        (config(#""journal": """#), ["journal: must not be empty"]),
        (config(#""journal": 5"#), ["journal: expected a string, got integer"]),
        (config(#""metrics_listen": "127.0.0.1""#), [#"metrics_listen: "127.0.0.1" is not a valid address"#]),
        (config(#""colour": "red", "Version": 1"#), ["colour: unknown key", "Version: unknown key"]),
        (config(#""a b": 1"#), [#"$["a b"]: unknown key"#]),
        // Control.
        (config(#""control": []"#), ["control: expected an object, got array"]),
        (config(#""control": {"unix_socket": "", "allowed_uids": [1, -1, "x", 4294967296], "tokenfile": "t"}"#), [
            "control.unix_socket: must not be empty",
            "control.allowed_uids[1]: must be between 0 and 4294967295, got -1",
            "control.allowed_uids[2]: expected an integer, got string",
            "control.allowed_uids[3]: must be between 0 and 4294967295, got 4294967296",
            "control.tokenfile: unknown key",
        ]),
        (config(#""control": {"http_listen": "0.0.0.0:8474"}"#), [
            "control.http_listen: 0.0.0.0:8474 is not a loopback address, so control.token_file is required",
        ]),
        (config(#""control": {"http_listen": "[2001:db8::1]:8474", "token_file": null}"#), [
            "control.http_listen: [2001:db8:0:0:0:0:0:1]:8474 is not a loopback address, so control.token_file is required",
        ]),
        (config(#""control": {"http_listen": "localhost:99999"}"#), [#"control.http_listen: "localhost:99999" is not a valid address"#]),
        // Limits.
        (config(#""limits": {"max_connections": 0, "connect_timeout": "0s", "shutdown_grace": "-1s", "buffer_bytes": 4095}"#), [
            "limits.max_connections: must be at least 1, got 0",
            #"limits.connect_timeout: must be greater than 0s, got "0s""#,
            #"limits.shutdown_grace: "-1s" is not a duration (negative)"#,
            "limits.buffer_bytes: must be between 4096 and 16777216, got 4095",
        ]),
        (config(#""limits": {"buffer_bytes": 16777217, "connect_timeout": 5, "shutdown": "1s"}"#), [
            "limits.connect_timeout: expected a duration string, got integer",
            "limits.buffer_bytes: must be between 4096 and 16777216, got 16777217",
            "limits.shutdown: unknown key",
        ]),
        (config(#""limits": {"latency_queue_bytes": 4095}"#), [
            "limits.latency_queue_bytes: must be between 4096 and 1073741824, got 4095",
        ]),
        (config(#""limits": {"latency_queue_bytes": 1073741825}"#), [
            "limits.latency_queue_bytes: must be between 4096 and 1073741824, got 1073741825",
        ]),
        (config(#""limits": {"latency_queue_bytes": "8MiB"}"#), [
            "limits.latency_queue_bytes: expected an integer, got string",
        ]),
        (config(#""limits": {"latency_queue_bytes": 65536}"#), [
            "limits.latency_queue_bytes: must be at least limits.buffer_bytes (262144), got 65536",
        ]),
        (config(#""limits": {"latency_queue_bytes": 65536, "buffer_bytes": 131072}"#), [
            "limits.latency_queue_bytes: must be at least limits.buffer_bytes (131072), got 65536",
        ]),
        (config(#""limits": {"connect_timeout": "5", "shutdown_grace": "99999999999h"}"#), [
            #"limits.connect_timeout: "5" is not a duration (missing unit)"#,
            #"limits.shutdown_grace: "99999999999h" is not a duration (too large)"#,
        ]),
        // Nodes.
        (config(#""nodes": {"n1": {"addresses": ["10.77.0.11", "10.77.0.999"]}, "n2": {"addresses": ["10.77.0.11"], "zone": "a"}, "bad name": {"addresses": []}, "n3": {}}"#), [
            #"nodes.n1.addresses[1]: "10.77.0.999" is not a valid IP address"#,
            "nodes.n2.addresses[0]: 10.77.0.11 already belongs to nodes.n1",
            "nodes.n2.zone: unknown key",
            #"nodes["bad name"]: "bad name" is not a valid name (use letters, digits, '.', '_' and '-')"#,
            #"nodes["bad name"].addresses: must list at least one address"#,
            "nodes.n3.addresses: missing required key",
        ]),
    ])
    func topLevel(json: String, expected: [String]) {
        #expect(errorLines(json) == expected)
    }

    @Test func routeErrors() {
        let json = config(#"""
        "routes": [
          {"name": "a", "listen": "127.0.0.1:9000", "upstream": "127.0.0.1:19000", "colour": "red"},
          {"name": "b", "listen": "127.0.0.1:99999", "upstream": "127.0.0.1:19001"},
          {"name": "a", "listen": "127.0.0.1:9000", "upstream": "[::1]:19002"},
          {"name": "c d", "listen": "0.0.0.0:9000"},
          {"name": "", "listen": "[::]:9000", "upstream": "[::1]:1", "protocol": "udp", "enabled": "yes"},
          {"listen": "[::1]:9000", "upstream": "h..x:1", "from": "", "to": 3},
          {"name": "t", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", "tls": {"cert": "c"}, "upstream_tls": {"verify": 1}},
          {"name": "u", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"},
          "route"
        ]
        """#)
        #expect(errorLines(json) == [
            "routes[0].colour: unknown key",
            #"routes[1].listen: "127.0.0.1:99999" is not a valid address"#,
            #"routes[2].name: duplicate route name "a""#,
            "routes[2].listen: duplicate listen address 127.0.0.1:9000 (also routes[0].listen)",
            #"routes[3].name: "c d" is not a valid name (use letters, digits, '.', '_' and '-')"#,
            "routes[3].listen: listen address 0.0.0.0:9000 overlaps 127.0.0.1:9000 (routes[0].listen)",
            "routes[3].upstream: missing required key",
            "routes[4].name: must not be empty",
            #"routes[4].protocol: unknown protocol "udp" (expected tcp, http or grpc)"#,
            "routes[4].enabled: expected a boolean, got string",
            "routes[5].name: missing required key",
            "routes[5].listen: listen address [0:0:0:0:0:0:0:1]:9000 overlaps [0:0:0:0:0:0:0:0]:9000 (routes[4].listen)",
            #"routes[5].upstream: "h..x:1" is not a valid address"#,
            "routes[5].from: must not be empty",
            "routes[5].to: expected a string, got integer",
            "routes[6].tls.key: missing required key",
            "routes[6].upstream_tls.verify: expected a boolean, got integer",
            "routes[8]: expected an object, got string",
        ])
    }

    @Test func routesMustBeAnArray() {
        #expect(errorLines(config(#""routes": {}"#)) == ["routes: expected an array, got object"])
        #expect(errorLines(config(#""faults": "x""#)) == ["faults: expected an array, got string"])
    }

    @Test func duplicateKeysAreReportedWithOtherErrors() {
        let json = "{\"version\": 1, \"workers\": \"x\",\n \"routes\": [{\"name\": \"a\", \"name\": \"b\", \"listen\": \"127.0.0.1:1\", \"upstream\": \"127.0.0.1:2\"}],\n \"workers\": 3}"
        #expect(errorLines(json) == [
            #"routes[0]: duplicate key "name" at line 2, column 27"#,
            "$: duplicate key \"workers\" at line 3, column 2",
            "workers: expected an integer, got string",
        ])
    }

    @Test func errorsRenderAsPathColonMessage() {
        guard case .failure(let errors) = ConfigDecoder.decode(jsonText: config(#""workers": "4", "x": 1"#)) else {
            Issue.record("decoded")
            return
        }
        #expect(errors.errors == [
            ConfigError(path: "workers", message: "expected an integer, got string"),
            ConfigError(path: "x", message: "unknown key"),
        ])
        #expect(errors.description == "workers: expected an integer, got string\nx: unknown key")
        #expect(ConfigError(path: "", message: "m").description == "$: m")
    }

    @Test func decodingAParsedValueGivesTheSameErrors() throws {
        let value = try JSONParser.parse(config(#""workers": 300"#)).get()
        guard case .failure(let errors) = ConfigDecoder.decode(value) else {
            Issue.record("decoded")
            return
        }
        #expect(errors.lines == ["workers: must be between 0 and 256, got 300"])
    }
}
