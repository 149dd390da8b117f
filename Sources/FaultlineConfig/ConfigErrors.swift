/// Every problem found in one config, in the order the decoder met them.
///
/// The decoder does not stop at the first problem, so one `--check-config` run shows them all.
/// `description` prints one `PATH: MESSAGE` per line.
public struct ConfigErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, never empty when returned by a decoder.
    public var errors: [ConfigError]

    /// A collection of the given errors.
    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    /// One `PATH: MESSAGE` line per error, joined by newlines (no trailing newline).
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }

    /// The errors rendered one per element, as `--check-config` prints them.
    public var lines: [String] { errors.map(\.description) }
}
