/// Building blocks of the Prometheus text exposition format 0.0.4, shared by every family.
enum Exposition {
    /// Appends the `# HELP` and `# TYPE` lines that open a family.
    ///
    /// The type is the word printed on the `# TYPE` line rather than a ``MetricType``, because
    /// `histogram` is a type only ``HistogramFamily`` produces and must not be offered to a
    /// ``Collector``.
    static func writeHeader(into output: inout String, name: String, help: String, typeName: String) {
        output += "# HELP "
        output += name
        output += " "
        output += escapeHelp(help)
        output += "\n# TYPE "
        output += name
        output += " "
        output += typeName
        output += "\n"
    }

    /// Renders the part of a sample line before its value, `name{a="x",b="y"} ` (with the
    /// trailing space), so that emitting a sample is one concatenation.
    static func seriesPrefix(name: String, labelNames: [String], labelValues: [String]) -> String {
        precondition(
            labelValues.count == labelNames.count,
            "metric \(name) has labels \(labelNames) but was given \(labelValues.count) value(s)"
        )
        var prefix = name
        if !labelNames.isEmpty {
            prefix += "{"
            for index in labelNames.indices {
                if index > 0 { prefix += "," }
                prefix += labelNames[index]
                prefix += "=\""
                prefix += escapeLabelValue(labelValues[index])
                prefix += "\""
            }
            prefix += "}"
        }
        prefix += " "
        return prefix
    }

    /// A whole number of nanoseconds as decimal seconds, exactly: up to nine decimals, no
    /// trailing zeros and no exponent (`0`, `0.0005`, `2.5`, `18446744073.709551615`).
    ///
    /// Integer arithmetic rather than `Double`, so the text is the exact value whatever its
    /// size; every Prometheus parser reads it as a float.
    static func decimalSeconds(nanoseconds: UInt64) -> String {
        let nanosecondsPerSecond: UInt64 = 1_000_000_000
        let whole = String(nanoseconds / nanosecondsPerSecond)
        var fraction = nanoseconds % nanosecondsPerSecond
        guard fraction != 0 else { return whole }
        var digits = 9
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let fractionText = String(fraction)
        return whole + "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
    }

    /// Escapes a label value: backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String) -> String {
        escape(value, quote: true)
    }

    /// Escapes HELP text: backslash and line feed (quotes stay as they are in 0.0.4).
    static func escapeHelp(_ help: String) -> String {
        escape(help, quote: false)
    }

    private static func escape(_ text: String, quote: Bool) -> String {
        let needsEscaping = text.utf8.contains { byte in
            byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\n") || (quote && byte == UInt8(ascii: "\""))
        }
        guard needsEscaping else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\"" where quote: escaped += "\\\""
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    static func isValidMetricName(_ name: String) -> Bool {
        isValidName(name, allowColon: true)
    }

    /// Whether `name` matches `[a-zA-Z_][a-zA-Z0-9_]*` and is not reserved (`__` prefix).
    static func isValidLabelName(_ name: String) -> Bool {
        isValidName(name, allowColon: false) && !name.hasPrefix("__")
    }

    private static func isValidName(_ name: String, allowColon: Bool) -> Bool {
        guard let first = name.utf8.first, !isDigit(first) else { return false }
        return name.utf8.allSatisfy { byte in
            isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "_") || (allowColon && byte == UInt8(ascii: ":"))
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// Checks a family's name and label names; a bad name is a programmer error.
    static func validate(name: String, labelNames: [String]) {
        precondition(isValidMetricName(name), "invalid metric name \(name)")
        for label in labelNames {
            precondition(isValidLabelName(label), "invalid label name \(label) in metric \(name)")
        }
        precondition(Set(labelNames).count == labelNames.count, "duplicate label name in metric \(name)")
    }

    /// The deterministic order of label sets within a family: lexicographic by label values.
    static func precedes(_ lhs: [String], _ rhs: [String]) -> Bool {
        lhs.lexicographicallyPrecedes(rhs)
    }
}
