import Foundation

/// The sanitizer the suite runs under, from `$FAULTLINE_SANITIZER` (`Scripts/test --sanitize`
/// sets it to `address` or `thread`); nil in a plain run.
///
/// A sanitized build runs several times slower and less evenly, so a test whose assertion is a
/// wall-clock bound of a few milliseconds measures the sanitizer, not Faultline. Such a test skips
/// under a sanitizer (`wallClockSkipReason`) instead of loosening its bound for every run; the plain
/// `Scripts/test` still checks it.
public enum Sanitizer {
    /// `address`, `thread`, or nil.
    public static var active: String? {
        guard let name = ProcessInfo.processInfo.environment["FAULTLINE_SANITIZER"], !name.isEmpty else { return nil }
        return name
    }

    /// A reason to skip a test bounded by wall-clock time of `bound`, or nil when no sanitizer runs.
    public static func wallClockSkipReason(_ bound: String) -> String? {
        active.map { "skipped under the \($0) sanitizer: the test bounds wall-clock time (\(bound)); the plain Scripts/test checks it" }
    }
}
