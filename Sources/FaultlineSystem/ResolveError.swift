/// A host name that getaddrinfo could not resolve: its `EAI_*` code and `gai_strerror` text.
public struct ResolveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `EAI_*` code getaddrinfo returned.
    public var code: Int32
    /// Why, in getaddrinfo's words (`Name or service not known`).
    public var reason: String

    public init(code: Int32, reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "getaddrinfo: \(reason) (EAI \(code))" }
}
