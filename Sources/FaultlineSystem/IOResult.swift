/// The outcome of a nonblocking call: it did something, or it would have blocked.
public enum IOResult<T: Sendable>: Sendable {
    case processed(T)
    case wouldBlock
}

extension IOResult: Equatable where T: Equatable {}
