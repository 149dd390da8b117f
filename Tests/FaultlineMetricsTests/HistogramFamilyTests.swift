import Glibc
import Synchronization
import Testing
@testable import FaultlineMetrics

@Suite("HistogramFamily")
struct HistogramFamilyTests {
    private func render(_ family: HistogramFamily) -> String {
        var output = ""
        family.emit(into: &output)
        return output
    }

    @Test("shards of two workers are summed into cumulative buckets, a sum in seconds and a count")
    func shardsAreSummed() {
        let duration = HistogramFamily(
            name: "faultline_http_request_duration_seconds",
            help: "Request duration.",
            labelNames: ["route"],
            upperBoundsSeconds: [0.001, 0.01, 0.1]
        )
        let api0 = duration.shard(labels: ["api"], worker: 0)
        let api1 = duration.shard(labels: ["api"], worker: 1)
        api0.observe(nanoseconds: 250_000)
        api0.observe(nanoseconds: 1_000_000)  // exactly on le="0.001": belongs to it
        api1.observe(nanoseconds: 1_000_001)  // one nanosecond above: the next bucket
        api1.observe(nanoseconds: 100_000_000)  // exactly on the last finite bound
        api1.observe(nanoseconds: 2_000_000_000)  // above every bound: +Inf only
        // A series exists, and is printed with zeros, as soon as a shard is handed out.
        _ = duration.shard(labels: ["we\"b\\"], worker: 1)

        let output = render(duration)
        #expect(output == #"""
            # HELP faultline_http_request_duration_seconds Request duration.
            # TYPE faultline_http_request_duration_seconds histogram
            faultline_http_request_duration_seconds_bucket{route="api",le="0.001"} 2
            faultline_http_request_duration_seconds_bucket{route="api",le="0.01"} 3
            faultline_http_request_duration_seconds_bucket{route="api",le="0.1"} 4
            faultline_http_request_duration_seconds_bucket{route="api",le="+Inf"} 5
            faultline_http_request_duration_seconds_sum{route="api"} 2.102250001
            faultline_http_request_duration_seconds_count{route="api"} 5
            faultline_http_request_duration_seconds_bucket{route="we\"b\\",le="0.001"} 0
            faultline_http_request_duration_seconds_bucket{route="we\"b\\",le="0.01"} 0
            faultline_http_request_duration_seconds_bucket{route="we\"b\\",le="0.1"} 0
            faultline_http_request_duration_seconds_bucket{route="we\"b\\",le="+Inf"} 0
            faultline_http_request_duration_seconds_sum{route="we\"b\\"} 0
            faultline_http_request_duration_seconds_count{route="we\"b\\"} 0

            """#)
        #expect(HistogramRules.violations(in: output, name: duration.name) == [])

        #expect(api0.snapshot == HistogramSnapshot(
            upperBoundsNanoseconds: [1_000_000, 10_000_000, 100_000_000],
            bucketCounts: [2, 0, 0, 0],
            sumNanoseconds: 1_250_000
        ))
        let total = duration.snapshot(labels: ["api"])
        #expect(total?.cumulativeCounts == [2, 3, 4, 5])
        #expect(total?.count == 5)
        #expect(total?.sumNanoseconds == 2_102_250_001)
        #expect(duration.snapshot(labels: ["db"]) == nil)
    }

    @Test("the default buckets run from 0.5 ms to 10 s, and 0 ns falls in the first")
    func defaultBuckets() {
        let family = HistogramFamily(name: "faultline_upstream_connect_seconds", help: "Connect time.")
        #expect(family.upperBoundsNanoseconds == [
            500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000,
            100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000, 5_000_000_000,
            10_000_000_000,
        ])
        let shard = family.shard(labels: [], worker: 0)
        shard.observe(nanoseconds: 0)
        shard.observe(nanoseconds: 10_000_000_000)
        #expect(render(family) == """
            # HELP faultline_upstream_connect_seconds Connect time.
            # TYPE faultline_upstream_connect_seconds histogram
            faultline_upstream_connect_seconds_bucket{le="0.0005"} 1
            faultline_upstream_connect_seconds_bucket{le="0.001"} 1
            faultline_upstream_connect_seconds_bucket{le="0.0025"} 1
            faultline_upstream_connect_seconds_bucket{le="0.005"} 1
            faultline_upstream_connect_seconds_bucket{le="0.01"} 1
            faultline_upstream_connect_seconds_bucket{le="0.025"} 1
            faultline_upstream_connect_seconds_bucket{le="0.05"} 1
            faultline_upstream_connect_seconds_bucket{le="0.1"} 1
            faultline_upstream_connect_seconds_bucket{le="0.25"} 1
            faultline_upstream_connect_seconds_bucket{le="0.5"} 1
            faultline_upstream_connect_seconds_bucket{le="1"} 1
            faultline_upstream_connect_seconds_bucket{le="2.5"} 1
            faultline_upstream_connect_seconds_bucket{le="5"} 1
            faultline_upstream_connect_seconds_bucket{le="10"} 2
            faultline_upstream_connect_seconds_bucket{le="+Inf"} 2
            faultline_upstream_connect_seconds_sum 10
            faultline_upstream_connect_seconds_count 2

            """)
    }

    @Test("sums print as exact decimal seconds, with no trailing zeros and no exponent")
    func decimalSeconds() {
        let cases: [(UInt64, String)] = [
            (0, "0"),
            (1, "0.000000001"),
            (10_000, "0.00001"),
            (500_000, "0.0005"),
            (1_000_000_000, "1"),
            (1_500_000_000, "1.5"),
            (2_101_250_001, "2.101250001"),
            (3_000_000_070, "3.00000007"),
            (UInt64.max, "18446744073.709551615"),
        ]
        for (nanoseconds, text) in cases {
            #expect(Exposition.decimalSeconds(nanoseconds: nanoseconds) == text)
            // Read back as Prometheus does, the text is the nearest Double to the exact value.
            #expect(Double(text) == Double(nanoseconds) / 1e9)
        }
    }

    @Test("the same label set and worker get the same shard; another worker gets its own")
    func shardIdentity() {
        let family = HistogramFamily(name: "h_seconds", help: "h", labelNames: ["route"])
        let first = family.shard(labels: ["api"], worker: 0)
        #expect(family.shard(labels: ["api"], worker: 0) === first)
        #expect(family.shard(labels: ["api"], worker: 1) !== first)
        #expect(family.shard(labels: ["web"], worker: 0) !== first)
    }

    @Test("2 worker threads × 1,000,000 observations on their own shards sum exactly, while every scrape is a valid histogram")
    func concurrentWorkersSumExactly() {
        let registry = MetricsRegistry()
        let family = HistogramFamily(
            name: "h_seconds",
            help: "h",
            labelNames: ["route"],
            upperBoundsSeconds: [0.001, 0.01]
        )
        registry.register(family)
        let shards = [family.shard(labels: ["api"], worker: 0), family.shard(labels: ["api"], worker: 1)]
        // Below, on and just above the first bound, and past the last: every bucket moves.
        let durations: [UInt64] = [0, 1_000_000, 1_000_001, 20_000_000_000]
        let violations = Mutex<[String]>([])
        let scrapes = Atomic<Int>(0)
        let workersDone = Atomic<Int>(0)
        runOnThreads(count: 3) { index in
            if index < 2 {
                for iteration in 0..<1_000_000 {
                    shards[index].observe(nanoseconds: durations[iteration % durations.count])
                }
                workersDone.wrappingAdd(1, ordering: .releasing)
            } else {
                // A scraper on a third thread: each scrape must pass the promtool rules, and
                // counts must never go down from one scrape to the next. It naps between
                // scrapes so that the two workers, not it, occupy the two cores.
                var lastCounts: [UInt64] = [0, 0, 0]
                while workersDone.load(ordering: .acquiring) < 2 {
                    let text = registry.render()
                    var found = HistogramRules.violations(in: text, name: "h_seconds")
                    let counts = HistogramRules.bucketCounts(in: text, name: "h_seconds")
                    if counts.count != 3 || zip(lastCounts, counts).contains(where: { $0 > $1 }) {
                        found.append("buckets went from \(lastCounts) to \(counts)")
                    }
                    lastCounts = counts
                    if !found.isEmpty { violations.withLock { $0 += found } }
                    scrapes.wrappingAdd(1, ordering: .relaxed)
                    usleep(200)
                }
            }
        }
        #expect(violations.withLock { $0 } == [])
        #expect(scrapes.load(ordering: .relaxed) > 0)
        // 500,000 of each duration: 1,000,000 ≤ 1 ms, 1,500,000 ≤ 10 ms, and a sum of
        // 500,000 × 20,002,000,001 ns.
        #expect(registry.render() == """
            # HELP h_seconds h
            # TYPE h_seconds histogram
            h_seconds_bucket{route="api",le="0.001"} 1000000
            h_seconds_bucket{route="api",le="0.01"} 1500000
            h_seconds_bucket{route="api",le="+Inf"} 2000000
            h_seconds_sum{route="api"} 10001000.0005
            h_seconds_count{route="api"} 2000000

            """)
    }

    @Test("the promtool rule check catches decreasing buckets, a wrong +Inf and a missing +Inf")
    func ruleCheckCanFail() {
        let decreasing = """
            h_bucket{le="0.1"} 3
            h_bucket{le="1"} 2
            h_bucket{le="+Inf"} 3
            h_sum 1
            h_count 3
            """
        #expect(HistogramRules.violations(in: decreasing, name: "h") == ["h: bucket count 2 is below the previous 3"])
        let wrongInf = """
            h_bucket{route="a",le="+Inf"} 4
            h_sum{route="a"} 1
            h_count{route="a"} 5
            """
        #expect(HistogramRules.violations(in: wrongInf, name: "h") == [#"h{route="a"}: +Inf bucket 4 differs from count 5"#])
        let noInf = """
            h_bucket{le="0.1"} 1
            h_sum 1
            h_count 1
            """
        #expect(HistogramRules.violations(in: noInf, name: "h") == ["h: last bucket is le=\"0.1\", not +Inf"])
    }

    @Test("a label named le, non-increasing, infinite or negative bounds, and a wrong label count trap")
    func invalidDefinitionsTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = HistogramFamily(name: "h_seconds", help: "h", labelNames: ["route", "le"])
        }
        await #expect(processExitsWith: .failure) {
            _ = HistogramFamily(name: "h_seconds", help: "h", upperBoundsSeconds: [0.1, 0.1])
        }
        await #expect(processExitsWith: .failure) {
            // Distinct as doubles, but the same bound once rounded to nanoseconds.
            _ = HistogramFamily(name: "h_seconds", help: "h", upperBoundsSeconds: [0.001, 0.0010000000001])
        }
        await #expect(processExitsWith: .failure) {
            _ = HistogramFamily(name: "h_seconds", help: "h", upperBoundsSeconds: [1, .infinity])
        }
        await #expect(processExitsWith: .failure) {
            _ = HistogramFamily(name: "h_seconds", help: "h", upperBoundsSeconds: [-1, 1])
        }
        await #expect(processExitsWith: .failure) {
            let family = HistogramFamily(name: "h_seconds", help: "h", labelNames: ["route", "code"])
            _ = family.shard(labels: ["api"], worker: 0)
        }
    }
}

/// The histogram rules `promtool check metrics` and Prometheus' parser enforce, applied to
/// exposition text: per label set, `le` values strictly increasing and ending in `+Inf`,
/// cumulative counts non-decreasing, the `+Inf` bucket equal to `_count`, and a `_sum`.
enum HistogramRules {
    private struct Series {
        var bounds: [String] = []
        var counts: [UInt64] = []
        var sum: Double?
        var count: UInt64?
    }

    /// One message per broken rule, in order of label sets; empty when the text is valid.
    static func violations(in text: String, name: String) -> [String] {
        var order: [String] = []
        var series: [String: Series] = [:]
        func touch(_ key: String) {
            if series[key] == nil {
                order.append(key)
                series[key] = Series()
            }
        }
        var problems: [String] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let metric = String(line[..<space])
            let value = String(line[line.index(after: space)...])
            if let (key, bound) = splitBucket(metric, name: name) {
                touch(key)
                guard let count = UInt64(value) else {
                    problems.append("\(key): bucket value \(value) is not a count")
                    continue
                }
                series[key]!.bounds.append(bound)
                series[key]!.counts.append(count)
            } else if metric.hasPrefix(name + "_sum") {
                let key = name + metric.dropFirst(name.count + 4)
                touch(key)
                series[key]!.sum = Double(value)
            } else if metric.hasPrefix(name + "_count") {
                let key = name + metric.dropFirst(name.count + 6)
                touch(key)
                series[key]!.count = UInt64(value)
            }
        }
        for key in order {
            let histogram = series[key]!
            var previousBound = -Double.infinity
            for bound in histogram.bounds {
                guard let value = bound == "+Inf" ? Double.infinity : Double(bound), value > previousBound else {
                    problems.append("\(key): le=\"\(bound)\" does not increase")
                    continue
                }
                previousBound = value
            }
            for (previous, count) in zip(histogram.counts, histogram.counts.dropFirst()) where count < previous {
                problems.append("\(key): bucket count \(count) is below the previous \(previous)")
            }
            if histogram.bounds.last != "+Inf" {
                problems.append("\(key): last bucket is le=\"\(histogram.bounds.last ?? "")\", not +Inf")
            } else if let infinity = histogram.counts.last, infinity != histogram.count {
                problems.append("\(key): +Inf bucket \(infinity) differs from count \(histogram.count.map(String.init) ?? "none")")
            }
            if histogram.sum == nil {
                problems.append("\(key): no parsable _sum")
            }
        }
        return problems
    }

    /// The bucket counts of the first label set in `text`, in order.
    static func bucketCounts(in text: String, name: String) -> [UInt64] {
        var first: String?
        var counts: [UInt64] = []
        for line in text.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "),
                  let (key, _) = splitBucket(String(line[..<space]), name: name),
                  let count = UInt64(line[line.index(after: space)...])
            else { continue }
            if first == nil { first = key }
            if key == first { counts.append(count) }
        }
        return counts
    }

    /// For `name_bucket{a="x",le="0.1"}`: the series key `name{a="x"}` and `0.1`. The writer
    /// always puts `le` last, so the key is everything before it.
    private static func splitBucket(_ metric: String, name: String) -> (key: String, bound: String)? {
        let prefix = name + "_bucket{"
        guard metric.hasPrefix(prefix), metric.hasSuffix("\"}") else { return nil }
        let labels = metric.dropFirst(prefix.count).dropLast(2)
        var start = labels.endIndex
        while start > labels.startIndex {
            start = labels.index(before: start)
            let atLabel = start == labels.startIndex || labels[labels.index(before: start)] == ","
            guard atLabel, labels[start...].hasPrefix("le=\"") else { continue }
            let others = start == labels.startIndex ? "" : labels[..<labels.index(before: start)]
            let key = others.isEmpty ? name : name + "{" + others + "}"
            return (key, String(labels[start...].dropFirst(4)))
        }
        return nil
    }
}
