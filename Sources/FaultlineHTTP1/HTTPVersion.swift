/// An HTTP/1.x protocol version as written on a start line (`HTTP/1.1`).
public struct HTTPVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The major digit: always 1 for versions this target speaks.
    public var major: Int
    /// The minor digit: 0 or 1.
    public var minor: Int

    /// A version from its two digits.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// `HTTP/1.0`.
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// `HTTP/1.1`.
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// `HTTP/1.1`.
    public var description: String { "HTTP/\(major).\(minor)" }

    public static func < (lhs: HTTPVersion, rhs: HTTPVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}
