/// Reading samples out of a Prometheus text exposition (SPEC §5), for exact metric assertions.
public enum PrometheusText {
    /// The value of the sample `name{labels}` in `text` (labels compared as a set: all of them,
    /// no more), or nil when there is no such sample.
    public static func value(of name: String, _ labels: [String: String], in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let sample = String(line)
            guard let valueStart = sample.lastIndex(of: " ") else { continue }
            var found: [String: String] = [:]
            if let open = sample.firstIndex(of: "{"), let close = sample.lastIndex(of: "}") {
                for pair in sample[sample.index(after: open)..<close].split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    var value = Substring(parts[1])
                    if value.hasPrefix("\"") { value.removeFirst() }
                    if value.hasSuffix("\"") { value.removeLast() }
                    found[String(parts[0])] = String(value)
                }
            }
            if found == labels { return Double(sample[sample.index(after: valueStart)...]) }
        }
        return nil
    }
}
