extension ReportJSON {
    /// `2026-12-02T18:00:00.123456Z`: UTC with microseconds (truncated, not rounded) from
    /// nanoseconds since the Unix epoch. Instants before 1970 work too (floor division).
    public static func timestamp(_ nanosecondsSinceEpoch: Int64) -> String {
        let (seconds, nanoseconds) = floorDivision(nanosecondsSinceEpoch, 1_000_000_000)
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        var text = ""
        text.reserveCapacity(27)
        append(year, width: 4, to: &text)
        text += "-"
        append(month, width: 2, to: &text)
        text += "-"
        append(day, width: 2, to: &text)
        text += "T"
        append(secondOfDay / 3600, width: 2, to: &text)
        text += ":"
        append(secondOfDay / 60 % 60, width: 2, to: &text)
        text += ":"
        append(secondOfDay % 60, width: 2, to: &text)
        text += "."
        append(nanoseconds / 1000, width: 6, to: &text)
        text += "Z"
        return text
    }

    /// Nanoseconds since the Unix epoch of an RFC 3339 `date-time` (`2026-12-02T18:00:00.123456Z`,
    /// `…T19:00:00+01:00`, with or without a fraction; digits past the ninth are dropped); nil for
    /// any other text, an impossible date or time, or an instant outside `Int64` nanoseconds
    /// (1677…2262). A leap second (`:60`) reads as the first second of the next minute.
    public static func parseTimestamp(_ text: String) -> Int64? {
        var scanner = DigitScanner(text)
        guard let year = scanner.digits(4), scanner.expect("-"), let month = scanner.digits(2), scanner.expect("-"),
              let day = scanner.digits(2), scanner.expect("Tt"), let hour = scanner.digits(2), scanner.expect(":"),
              let minute = scanner.digits(2), scanner.expect(":"), let second = scanner.digits(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var fraction: Int64 = 0
        if scanner.expect(".") {
            var scale: Int64 = 100_000_000
            var count = 0
            while let digit = scanner.digit() {
                fraction += digit * scale
                scale /= 10
                count += 1
            }
            guard count > 0 else { return nil }
        }
        var offsetSeconds: Int64 = 0
        if !scanner.expect("Zz") {
            guard let sign = scanner.sign(), let offsetHour = scanner.digits(2), scanner.expect(":"),
                  let offsetMinute = scanner.digits(2), offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
        }
        guard scanner.atEnd else { return nil }
        let seconds = days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflowAdding) = scaled.addingReportingOverflow(fraction)
        return overflowAdding ? nil : total
    }

    /// (quotient, remainder) with the quotient rounded down, so the remainder is never negative.
    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    /// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day count from 1970-01-01.
    private static func civil(fromDays dayCount: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = dayCount + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Howard Hinnant's `days_from_civil`, the inverse of `civil(fromDays:)`.
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func append(_ value: Int64, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
        text += digits
    }
}

/// Reads an ASCII timestamp byte by byte.
private struct DigitScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var atEnd: Bool { index == bytes.count }

    /// The next byte as a digit's value, consumed; nil (nothing consumed) for anything else.
    mutating func digit() -> Int64? {
        guard index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 else { return nil }
        index += 1
        return Int64(bytes[index - 1] - 0x30)
    }

    /// Exactly `count` digits as a number.
    mutating func digits(_ count: Int) -> Int64? {
        var value: Int64 = 0
        for _ in 0..<count {
            guard let digit = digit() else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    /// Consumes one byte if it is one of `options`.
    mutating func expect(_ options: String) -> Bool {
        guard index < bytes.count, options.utf8.contains(bytes[index]) else { return false }
        index += 1
        return true
    }

    /// `+` as 1, `-` as −1.
    mutating func sign() -> Int64? {
        if expect("+") { return 1 }
        if expect("-") { return -1 }
        return nil
    }
}
