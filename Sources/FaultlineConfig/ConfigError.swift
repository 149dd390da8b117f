/// One problem in a config (or a control-API body), named by its JSON path.
///
/// Rendered as `PATH: MESSAGE`. PATH is `$` only for problems with the whole document (unreadable
/// file, invalid JSON, a root that is not an object); otherwise it starts at a top-level key:
/// `workers`, `routes[1].listen`, `schedule.steps[0].apply.type` (see `JSONPath`). The messages
/// this target produces:
///
/// | problem | MESSAGE |
/// |---|---|
/// | syntax | `invalid JSON at line L, column C: REASON` (path `$`) |
/// | repeated key | `duplicate key "K" at line L, column C` (path of the object) |
/// | unreadable file | `cannot read FILE: STRERROR` (path `$`) |
/// | unknown key | `unknown key`; in a fault: `unknown key for type T` |
/// | missing key | `missing required key` |
/// | wrong JSON kind | `expected an integer, got string` (kinds: see `JSONValue.kindName`) |
/// | out of range | `must be between A and B, got X` / `must be at least A, got X` |
/// | bad duration | `"20x" is not a duration`, with ` (negative)`, ` (missing unit)` or ` (too large)` when that is why |
/// | bad address | `"127.0.0.1:99999" is not a valid address` / `"x" is not a valid IP address` |
/// | bad name | `"a b" is not a valid name (use letters, digits, '.', '_' and '-')` |
/// | bad choice | `unknown protocol "udp" (expected tcp, http or grpc)` |
/// | duplicates | `duplicate route name "a"`, `duplicate listen address A (also routes[0].listen)`, `duplicate fault id "x" (also faults[0].id)` |
/// | references | `unknown route "x"`, `no fault with id "x"` |
/// | fault type | `unknown fault type "partition"` |
/// | unsupported | `not supported yet` |
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
