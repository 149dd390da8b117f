/// Reads and writes the duration strings of the config: `"250ms"`, `"2s"`, `"1m30s"`, `"1.5s"`.
///
/// Grammar: one or more `NUMBER UNIT` parts with units strictly decreasing (`1h30m`, not `30m1h`),
/// where NUMBER is digits with an optional `.digits` fraction and UNIT is one of `h`, `m`, `s`,
/// `ms`, `us` (also `µs` and `μs`), `ns`. There is no sign, no space and no bare number (`"0"` must
/// be written `"0s"`). The value is kept to the nanosecond (finer digits are dropped) and may not
/// exceed `Int64.max` nanoseconds (about 292 years).
public enum DurationParser {
    /// Why a string is not a duration.
    public enum Failure: Error, Sendable, Hashable {
        /// The string is empty.
        case empty
        /// The string starts with `-`.
        case negative
        /// A number has no unit (`"5"`).
        case missingUnit
        /// Anything else that does not follow the grammar (`"20x"`, `"1.s"`, `"30s1m"`).
        case malformed
        /// The total is more than `Int64.max` nanoseconds.
        case tooLarge
    }

    private static let units: [(name: String, nanoseconds: UInt64)] = [
        ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000),
        ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ns", 1),
    ]

    /// Parses a duration string.
    public static func parse(_ text: String) -> Result<Duration, Failure> {
        if text.isEmpty { return .failure(.empty) }
        if text.hasPrefix("-") { return .failure(.negative) }
        let scalars = Array(text.unicodeScalars)
        var index = 0
        var total: UInt64 = 0
        var previousUnit = UInt64.max
        while index < scalars.count {
            var whole: UInt64 = 0
            let wholeStart = index
            var overflow = false
            while index < scalars.count, let digit = digitValue(scalars[index]) {
                let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(digit)
                overflow = overflow || o1 || o2
                whole = sum
                index += 1
            }
            if index == wholeStart { return .failure(.malformed) }
            var fraction: UInt64 = 0
            var fractionScale: UInt64 = 1
            if index < scalars.count, scalars[index] == "." {
                index += 1
                let fractionStart = index
                while index < scalars.count, let digit = digitValue(scalars[index]) {
                    // 18 digits fit in UInt64; later ones are below any unit's nanosecond anyway.
                    if fractionScale < 1_000_000_000_000_000_000 {
                        fraction = fraction * 10 + digit
                        fractionScale *= 10
                    }
                    index += 1
                }
                if index == fractionStart { return .failure(.malformed) }
            }
            let unitStart = index
            while index < scalars.count, digitValue(scalars[index]) == nil, scalars[index] != "." { index += 1 }
            if unitStart == index { return .failure(.missingUnit) }
            var unitName = String.UnicodeScalarView()
            unitName.append(contentsOf: scalars[unitStart..<index])
            guard let unit = units.first(where: { $0.name == String(unitName) })?.nanoseconds,
                  unit < previousUnit
            else { return .failure(.malformed) }
            previousUnit = unit
            if overflow { return .failure(.tooLarge) }
            let (wholeNanos, o1) = whole.multipliedReportingOverflow(by: unit)
            let product = fraction.multipliedFullWidth(by: unit)
            let fractionNanos = fractionScale.dividingFullWidth(product).quotient
            let (part, o2) = wholeNanos.addingReportingOverflow(fractionNanos)
            let (sum, o3) = total.addingReportingOverflow(part)
            if o1 || o2 || o3 || sum > UInt64(Int64.max) { return .failure(.tooLarge) }
            total = sum
        }
        return .success(.nanoseconds(Int64(total)))
    }

    /// The canonical string of a duration, which `parse` reads back to the same value (to the
    /// nanosecond).
    ///
    /// Under a second the largest whole unit is used (`"250ms"`, `"1500us"`, `"7ns"`); from a second
    /// up, hours, minutes and seconds with zero parts left out and a fraction on the seconds
    /// (`"1h"`, `"1m30s"`, `"1.5s"`, `"2h0.25s"`). Zero is `"0s"`; a negative duration (which the
    /// config never holds) is written with a leading `-`.
    public static func render(_ duration: Duration) -> String {
        if duration < .zero { return "-" + render(.zero - duration) }
        let (seconds, attoseconds) = duration.components
        let nanoseconds = attoseconds / 1_000_000_000
        if seconds == 0 {
            if nanoseconds == 0 { return "0s" }
            if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
            if nanoseconds % 1_000 == 0 { return "\(nanoseconds / 1_000)us" }
            return "\(nanoseconds)ns"
        }
        var text = ""
        let hours = seconds / 3600
        let minutes = seconds % 3600 / 60
        let secs = seconds % 60
        if hours > 0 { text += "\(hours)h" }
        if minutes > 0 { text += "\(minutes)m" }
        if secs > 0 || nanoseconds > 0 {
            text += "\(secs)"
            if nanoseconds > 0 {
                var digits = String(nanoseconds)
                digits = String(repeating: "0", count: 9 - digits.count) + digits
                while digits.hasSuffix("0") { digits.removeLast() }
                text += "." + digits
            }
            text += "s"
        }
        return text
    }

    private static func digitValue(_ scalar: Unicode.Scalar) -> UInt64? {
        scalar.value >= 0x30 && scalar.value <= 0x39 ? UInt64(scalar.value - 0x30) : nil
    }
}
