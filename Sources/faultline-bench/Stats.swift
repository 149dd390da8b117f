// Latency summaries and the one-line JSON the bench script parses.

/// Percentiles of a sample of nanosecond latencies.
struct LatencySummary {
    let count: Int
    let p50Microseconds: Double
    let p90Microseconds: Double
    let p99Microseconds: Double
    let p999Microseconds: Double
    let meanMicroseconds: Double
    let minMicroseconds: Double
    let maxMicroseconds: Double

    /// Summarises `samples` (nanoseconds); sorts in place.
    init(nanoseconds samples: inout [UInt64]) {
        samples.sort()
        count = samples.count
        func rank(_ q: Double) -> Double {
            guard !samples.isEmpty else { return 0 }
            // Nearest rank: the smallest value with at least q of the sample at or below it.
            let index = max(0, min(samples.count - 1, Int((q * Double(samples.count)).rounded(.up)) - 1))
            return Double(samples[index]) / 1000
        }
        p50Microseconds = rank(0.50)
        p90Microseconds = rank(0.90)
        p99Microseconds = rank(0.99)
        p999Microseconds = rank(0.999)
        let total = samples.reduce(0.0) { $0 + Double($1) }
        meanMicroseconds = samples.isEmpty ? 0 : total / Double(samples.count) / 1000
        minMicroseconds = samples.isEmpty ? 0 : Double(samples[0]) / 1000
        maxMicroseconds = samples.isEmpty ? 0 : Double(samples[samples.count - 1]) / 1000
    }

    var fields: [(String, JSONValue)] {
        [
            ("samples", .int(count)),
            ("p50_us", .number(p50Microseconds)), ("p90_us", .number(p90Microseconds)),
            ("p99_us", .number(p99Microseconds)), ("p999_us", .number(p999Microseconds)),
            ("mean_us", .number(meanMicroseconds)),
            ("min_us", .number(minMicroseconds)), ("max_us", .number(maxMicroseconds)),
        ]
    }
}

/// The few JSON value shapes the tool prints.
enum JSONValue {
    case int(Int)
    case number(Double)
    case string(String)

    var rendered: String {
        switch self {
        case .int(let value): return String(value)
        case .number(let value):
            guard value.isFinite else { return "null" }
            // Two decimals are plenty for µs and MB/s and keep the line readable.
            let scaled = (value * 100).rounded() / 100
            return scaled == scaled.rounded() && abs(scaled) < 1e15 ? String(Int64(scaled)) : String(scaled)
        case .string(let value):
            var out = "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default:
                    if scalar.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16) }
                    else { out.unicodeScalars.append(scalar) }
                }
            }
            return out + "\""
        }
    }
}

/// Renders an ordered, flat JSON object on one line.
func jsonLine(_ fields: [(String, JSONValue)]) -> String {
    "{" + fields.map { "\(JSONValue.string($0.0).rendered):\($0.1.rendered)" }.joined(separator: ",") + "}"
}
