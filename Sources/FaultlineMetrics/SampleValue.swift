/// The number carried by one sample line of the exposition.
///
/// Integers are printed exactly, without a decimal point, so that counts of bytes stay exact
/// beyond 2^53; doubles are for values such as `process_cpu_seconds_total`.
public enum SampleValue: Sendable, Hashable {
    /// An unsigned integer, such as a counter's total.
    case unsigned(UInt64)
    /// A signed integer, such as a gauge's value.
    case signed(Int64)
    /// A floating-point value; `+Inf`, `-Inf` and `NaN` are printed as Prometheus spells them.
    case double(Double)

    /// The value as written in the text exposition format 0.0.4.
    public var exposition: String {
        switch self {
        case .unsigned(let value):
            return String(value)
        case .signed(let value):
            return String(value)
        case .double(let value):
            return Self.format(value)
        }
    }

    private static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        // Integral values print as integers ("3", not "3.0"); below 2^53 the conversion is
        // exact. Everything else uses Swift's shortest round-tripping form ("0.25", "1e-05",
        // "1.5e+20"), which Prometheus' float parser reads back to the same Double.
        if value == value.rounded(.towardZero), Swift.abs(value) < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return value.description
    }
}
