public import FaultlineConfig
import FaultlineCore

/// How the API shows a schedule, and the wall-clock arithmetic it needs.
public enum ScheduleJSON {
    /// The config file's `schedule` object for `spec` (what `PUT /v1/schedule` accepts).
    public static func encode(_ spec: ScheduleSpec) -> JSONValue {
        var object = JSONObject()
        object["start"] = .string(startText(spec.start))
        object["steps"] = .array(spec.steps.map { step in
            var item = JSONObject()
            item["at"] = .string(DurationParser.render(step.at))
            switch step.action {
            case .apply(let fault): item["apply"] = FaultEncoder.encode(fault)
            case .clear(let id): item["clear"] = .string(id)
            }
            if let duration = step.forDuration { item["for"] = .string(DurationParser.render(duration)) }
            return .object(item)
        })
        if let repetition = spec.repeat {
            object["repeat"] = [
                "every": .string(DurationParser.render(repetition.every)), "times": .integer(Int64(repetition.times)),
            ]
        }
        return .object(object)
    }

    /// `on_load`, `manual`, or the instant as written.
    public static func startText(_ start: ScheduleSpec.Start) -> String {
        switch start {
        case .onLoad: return "on_load"
        case .manual: return "manual"
        case .at(let text): return text
        }
    }

    /// Nanoseconds since 1970 of an RFC 3339 `date-time` (as `ConfigDecoder` validated it); nil
    /// for text it cannot read. A leap second (`:60`) counts as the first second of the next minute.
    public static func epochNanoseconds(rfc3339 text: String) -> Int64? {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ count: Int) -> Int64? {
            guard i + count <= b.count else { return nil }
            var value: Int64 = 0
            for byte in b[i..<i + count] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            i += count
            return value
        }
        func skip() -> Bool {
            guard i < b.count else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), skip(), let month = digits(2), skip(), let day = digits(2), skip(),
              let hour = digits(2), skip(), let minute = digits(2), skip(), let second = digits(2) else { return nil }
        var fraction: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100_000_000
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                fraction += Int64(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
        }
        var offsetSeconds: Int64 = 0
        guard i < b.count else { return nil }
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let offsetHour = digits(2), skip(), let offsetMinute = digits(2) else { return nil }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
        default:
            return nil
        }
        guard i == b.count else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm), the inverse of `Timestamp.rfc3339`.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000_000 + fraction
    }

    /// The monotonic time at which the realtime clock will read `epochNanoseconds`, given both
    /// clocks read now (0 when that lies before the monotonic clock's start).
    public static func monotonic(atEpoch epochNanoseconds: Int64, monotonicNow: UInt64, realtimeNow: UInt64) -> UInt64 {
        let target = Int64(clamping: monotonicNow) + (epochNanoseconds - Int64(clamping: realtimeNow))
        return target > 0 ? UInt64(target) : 0
    }

    /// The realtime reading (ns since 1970) at monotonic time `monotonic`, given both clocks read now.
    public static func realtime(atMonotonic monotonic: UInt64, monotonicNow: UInt64, realtimeNow: UInt64) -> UInt64 {
        let value = Int64(clamping: realtimeNow) + (Int64(clamping: monotonic) - Int64(clamping: monotonicNow))
        return value > 0 ? UInt64(value) : 0
    }
}
