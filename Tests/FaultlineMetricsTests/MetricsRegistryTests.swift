import Synchronization
import Testing
@testable import FaultlineMetrics

@Suite("MetricsRegistry")
struct MetricsRegistryTests {
    @Test("families render in registration order, empty ones with HELP and TYPE only")
    func registrationOrder() {
        let registry = MetricsRegistry()
        let accepted = CounterFamily(name: "faultline_connections_accepted_total", help: "Accepted connections.", labelNames: ["route"])
        let active = GaugeFamily(name: "faultline_connections_active", help: "Open connections.", labelNames: ["route"])
        let failures = CounterFamily(
            name: "faultline_upstream_connect_failures_total",
            help: "Failed upstream connects.",
            labelNames: ["route", "reason"]
        )
        // Registered in non-alphabetical order on purpose.
        registry.register(active)
        registry.register(failures)
        registry.register(accepted)
        accepted.shard(labels: ["api"], worker: 0).add(2)
        active.shard(labels: ["api"], worker: 0).add(1)

        #expect(registry.render() == """
            # HELP faultline_connections_active Open connections.
            # TYPE faultline_connections_active gauge
            faultline_connections_active{route="api"} 1
            # HELP faultline_upstream_connect_failures_total Failed upstream connects.
            # TYPE faultline_upstream_connect_failures_total counter
            # HELP faultline_connections_accepted_total Accepted connections.
            # TYPE faultline_connections_accepted_total counter
            faultline_connections_accepted_total{route="api"} 2

            """)
    }

    @Test("a histogram family renders in registration order, between the families around it")
    func histogramInRegistrationOrder() {
        let registry = MetricsRegistry()
        let requests = CounterFamily(name: "faultline_http_requests_total", help: "Requests.", labelNames: ["route"])
        let duration = HistogramFamily(
            name: "faultline_http_request_duration_seconds",
            help: "Request duration.",
            labelNames: ["route"],
            upperBoundsSeconds: [0.5]
        )
        let active = GaugeFamily(name: "faultline_connections_active", help: "Open connections.")
        registry.register(requests)
        registry.register(duration)
        registry.register(active)
        requests.shard(labels: ["api"], worker: 0).increment()
        duration.shard(labels: ["api"], worker: 0).observe(nanoseconds: 750_000_000)

        #expect(registry.render() == """
            # HELP faultline_http_requests_total Requests.
            # TYPE faultline_http_requests_total counter
            faultline_http_requests_total{route="api"} 1
            # HELP faultline_http_request_duration_seconds Request duration.
            # TYPE faultline_http_request_duration_seconds histogram
            faultline_http_request_duration_seconds_bucket{route="api",le="0.5"} 0
            faultline_http_request_duration_seconds_bucket{route="api",le="+Inf"} 1
            faultline_http_request_duration_seconds_sum{route="api"} 0.75
            faultline_http_request_duration_seconds_count{route="api"} 1
            # HELP faultline_connections_active Open connections.
            # TYPE faultline_connections_active gauge

            """)
    }

    @Test("an empty registry renders nothing")
    func emptyRegistry() {
        #expect(MetricsRegistry().render() == "")
    }

    @Test("label values escape backslash, double quote and line feed; HELP escapes backslash and line feed")
    func escaping() {
        let registry = MetricsRegistry()
        let family = CounterFamily(name: "c_total", help: "Line one\nsays \"hi\" \\ bye", labelNames: ["route"])
        registry.register(family)
        family.shard(labels: ["a\\b\"c\nd"], worker: 0).increment()
        family.shard(labels: ["plain ünïcode"], worker: 0).increment()

        #expect(registry.render() == #"""
            # HELP c_total Line one\nsays "hi" \\ bye
            # TYPE c_total counter
            c_total{route="a\\b\"c\nd"} 1
            c_total{route="plain ünïcode"} 1

            """#)
    }

    @Test("collectors run at every scrape and their samples are sorted by label values")
    func collectorsRunAtScrape() {
        let registry = MetricsRegistry()
        let active = Mutex<[String: Int64]>(["latency": 2, "bandwidth": 1])
        registry.register(Collector(
            name: "faultline_faults_active",
            help: "Faults in force.",
            type: .gauge,
            labelNames: ["type"]
        ) {
            active.withLock { faults in faults.map { Sample(labelValues: [$0.key], value: .signed($0.value)) } }
        })
        #expect(registry.render() == """
            # HELP faultline_faults_active Faults in force.
            # TYPE faultline_faults_active gauge
            faultline_faults_active{type="bandwidth"} 1
            faultline_faults_active{type="latency"} 2

            """)

        active.withLock { $0 = [:] }
        #expect(registry.render() == """
            # HELP faultline_faults_active Faults in force.
            # TYPE faultline_faults_active gauge

            """)
    }

    @Test("doubles print briefly and exactly; infinities and NaN as Prometheus spells them")
    func doubleFormatting() {
        let values: [(Double, String)] = [
            (0.25, "0.25"),
            (3.0, "3"),
            (-2.0, "-2"),
            (0.0, "0"),
            (1e-05, "1e-05"),
            (12.34, "12.34"),
            (1.5e20, "1.5e+20"),
            (.infinity, "+Inf"),
            (-.infinity, "-Inf"),
            (.nan, "NaN"),
        ]
        for (value, text) in values {
            #expect(SampleValue.double(value).exposition == text)
        }
        #expect(SampleValue.signed(-7).exposition == "-7")
        #expect(SampleValue.unsigned(UInt64.max).exposition == "18446744073709551615")
    }

    @Test("a single-value collector prints one unlabelled sample, or none when it has no value")
    func singleValueCollector() {
        let registry = MetricsRegistry()
        let seconds = Mutex<Double?>(0.25)
        registry.register(.single(name: "process_cpu_seconds_total", help: "CPU time.", type: .counter) {
            seconds.withLock { $0 }.map(SampleValue.double)
        })
        #expect(registry.render() == """
            # HELP process_cpu_seconds_total CPU time.
            # TYPE process_cpu_seconds_total counter
            process_cpu_seconds_total 0.25

            """)
        seconds.withLock { $0 = nil }
        #expect(registry.render() == """
            # HELP process_cpu_seconds_total CPU time.
            # TYPE process_cpu_seconds_total counter

            """)
    }

    @Test("build info is one sample with value 1")
    func buildInfo() {
        let registry = MetricsRegistry()
        BuildInfo.register(version: "1.2.0-rc.1", into: registry)
        #expect(registry.render() == """
            # HELP faultline_build_info Faultline build information; the value is always 1.
            # TYPE faultline_build_info gauge
            faultline_build_info{version="1.2.0-rc.1"} 1

            """)
    }

    @Test("samples(of:) gives a family's current totals by label set, summed over shards; nil for histograms and unknown names")
    func samplesByName() {
        let registry = MetricsRegistry()
        let bytes = CounterFamily(name: "faultline_bytes_total", help: "Bytes.", labelNames: ["route", "direction"])
        let active = GaugeFamily(name: "faultline_connections_active", help: "Open.", labelNames: ["route"])
        let duration = HistogramFamily(name: "faultline_http_request_duration_seconds", help: "Time.", labelNames: ["route"])
        registry.register(bytes)
        registry.register(active)
        registry.register(duration)
        registry.register(Collector(name: "faultline_faults_active", help: "Faults.", type: .gauge, labelNames: ["type"]) {
            [Sample(labelValues: ["stall"], value: .signed(2))]
        })
        bytes.shard(labels: ["web", "upstream"], worker: 0).add(100)
        bytes.shard(labels: ["web", "upstream"], worker: 1).add(23)
        bytes.shard(labels: ["api", "downstream"], worker: 1).add(5)
        bytes.sharedShard(labels: ["api", "downstream"]).add(1)
        active.shard(labels: ["web"], worker: 0).add(3)
        active.shard(labels: ["web"], worker: 1).add(-1)
        duration.shard(labels: ["web"], worker: 0).observe(nanoseconds: 1_000)

        #expect(registry.samples(of: "faultline_bytes_total") == [
            Sample(labelValues: ["api", "downstream"], value: .unsigned(6)),
            Sample(labelValues: ["web", "upstream"], value: .unsigned(123)),
        ])
        #expect(registry.samples(of: "faultline_connections_active") == [Sample(labelValues: ["web"], value: .signed(2))])
        #expect(registry.samples(of: "faultline_faults_active") == [Sample(labelValues: ["stall"], value: .signed(2))])
        #expect(registry.samples(of: "faultline_http_request_duration_seconds") == nil)
        #expect(registry.samples(of: "faultline_nope_total") == nil)
    }

    @Test("registering two families with the same name traps")
    func duplicateNameTraps() async {
        await #expect(processExitsWith: .failure) {
            let registry = MetricsRegistry()
            registry.register(CounterFamily(name: "c_total", help: "h"))
            registry.register(GaugeFamily(name: "c_total", help: "h"))
        }
        await #expect(processExitsWith: .failure) {
            let registry = MetricsRegistry()
            registry.register(HistogramFamily(name: "h_seconds", help: "h"))
            registry.register(CounterFamily(name: "h_seconds", help: "h"))
        }
    }
}
