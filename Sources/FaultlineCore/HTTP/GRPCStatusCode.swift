/// The gRPC status codes (grpc/doc/statuscodes.md) by name and value, for `abort`'s
/// `grpc_status` on grpc routes.
public enum GRPCStatusCode {
    /// The names in value order: `names[code]` is the name of `code`, 0 (OK) to 16 (UNAUTHENTICATED).
    public static let names = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    /// Every valid code: 0…16.
    public static let range = 0...16

    /// The value of `name` (case-sensitive upper case, as gRPC writes it), or nil when it names no code.
    public static func value(named name: String) -> Int? {
        names.firstIndex(of: name)
    }

    /// Whether a call that ended with `code` failed the way the report counts failures (as a 5xx,
    /// 429 or 408 answer does): UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL,
    /// UNAVAILABLE, DATA_LOSS. The caller's own mistakes (INVALID_ARGUMENT, NOT_FOUND, …) are not.
    public static func isFailure(_ code: Int) -> Bool {
        [2, 4, 8, 10, 13, 14, 15].contains(code)
    }

    /// The name of `value`, or nil outside 0…16.
    public static func name(of value: Int) -> String? {
        range.contains(value) ? names[value] : nil
    }
}
