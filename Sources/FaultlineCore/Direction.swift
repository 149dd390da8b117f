/// Which half-stream a fault acts on.
public enum Direction: String, Sendable, Hashable, CaseIterable {
    /// client → service
    case upstream
    /// service → client
    case downstream
    case both

    /// Whether this selector covers the given concrete half-stream.
    public func covers(_ flow: Flow) -> Bool {
        switch self {
        case .both: return true
        case .upstream: return flow == .upstream
        case .downstream: return flow == .downstream
        }
    }
}

/// A concrete half-stream of a connection.
public enum Flow: Int, Sendable, Hashable, CaseIterable {
    /// client → service
    case upstream = 0
    /// service → client
    case downstream = 1

    public var label: String { self == .upstream ? "upstream" : "downstream" }
}
