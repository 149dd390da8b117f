/// One problem in a config (or a control-API body), named by its JSON path.
///
/// Rendered as `PATH: MESSAGE`. PATH is `$` only for problems with the whole document (unreadable
/// file, invalid JSON, a root that is not an object); otherwise it starts at a top-level key:
/// `workers`, `routes[1].listen`, `schedule.steps[0].apply.type` (see `JSONPath`). The messages
/// this target produces:
///
/// | problem | MESSAGE |
/// |---|---|
/// | syntax | `invalid JSON at line L, column C: REASON` (path `$`; REASONs listed at `JSONParseError`) |
/// | repeated key | `duplicate key "K" at line L, column C` (path of the object) |
/// | unreadable file | `cannot read FILE: STRERROR` (path `$`) |
/// | unknown key | `unknown key`; in a fault: `unknown key for type T` |
/// | missing key | `missing required key` |
/// | wrong JSON kind | `expected an integer, got string` (kinds: see `JSONValue.kindName`; also `a duration string`, `a route name, a list of route names or "*"`) |
/// | range | `must be between A and B, got X`, `must be at least A, got X`, `must be greater than 0s, got "0s"`, `must not be empty` |
/// | duration | `"20x" is not a duration`, plus ` (negative)`, ` (missing unit)` or ` (too large)` when that is why |
/// | address | `"127.0.0.1:99999" is not a valid address`, `"x" is not a valid IP address` |
/// | name / id | `"a b" is not a valid name (use letters, digits, '.', '_' and '-')` |
/// | choice | `unknown protocol "udp" (expected tcp, http or grpc)` (also `direction`, `distribution`, `value`) |
/// | version | `unsupported version 2 (expected 1)` |
/// | routes | `duplicate route name "a"`, `duplicate listen address A (also routes[0].listen)`, `listen address A overlaps B (routes[0].listen)` |
/// | TLS | `routes[i].tls.cert: missing required key`, `…tls.alpn[0]: unknown ALPN protocol`, a file the proxy cannot use (`routes[i].tls.key: …`) |
/// | control | `A is not a loopback address, so control.token_file is required` |
/// | nodes | `ADDR already belongs to nodes.N`, `must list at least one address` |
/// | faults | `unknown fault type "partition"`, `unknown route "x"`, `must name at least one route`, `"*" cannot be combined with route names`, `duplicate route "a"`, `must be less than average_size (N), got M`, `duplicate fault id "x" (also faults[0].id)`, `generated id "T-i" is already used by faults[j].id; give this fault an id` |
/// | schedule | `"x" is not on_load, manual or an RFC 3339 time`, `must have at least one step`, `needs "apply" or "clear"`, `has both "apply" and "clear"; use one per step`, `only allowed with "apply"`, `must not be earlier than the previous step (D), got "E"`, `no fault with id "x"`, `must be longer than the steps it repeats (they run until D), got "E"` |
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The JSON path of the offending value; `$` for the whole document.
    public var path: String
    /// What is wrong, without the path.
    public var message: String

    /// An error at `path` (the empty string is shown as `$`).
    public init(path: String, message: String) {
        self.path = JSONPath.display(path)
        self.message = message
    }

    /// `PATH: MESSAGE`.
    public var description: String { "\(path): \(message)" }
}
