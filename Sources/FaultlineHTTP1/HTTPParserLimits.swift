/// Size limits a parser enforces; exceeding one is an `HTTPParseError`.
public struct HTTPParserLimits: Sendable, Hashable {
    /// Longest head (start line, fields, the empty line; CRLFs included), and separately longest
    /// trailer section. Default 16 KiB.
    public var maxHeadBytes: Int
    /// Most header fields in one head (and trailer fields in one trailer section). Default 100.
    public var maxHeaderCount: Int
    /// Longest body, decoded (chunk framing not counted). Default unlimited (`Int.max`).
    public var maxBodyBytes: Int
    /// Longest chunk-size line, extensions included. Default 4 KiB.
    public var maxChunkLineBytes: Int

    /// Limits; every parameter has the default listed on its property.
    public init(
        maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = .max,
        maxChunkLineBytes: Int = 4 * 1024
    ) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineBytes = maxChunkLineBytes
    }

    /// The defaults.
    public static let defaults = HTTPParserLimits()
}
