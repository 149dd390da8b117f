/// Builds the JSON paths that errors name: `workers`, `routes[0].name`, `nodes["a b"].addresses`.
///
/// The whole document is `$`; its keys are written bare (`routes`, not `$.routes`). A key made only
/// of ASCII letters, digits, `_` and `-` is appended with a dot; any other key is quoted in
/// brackets (`$["a.b"]`, `nodes["my node"]`) so a path is never ambiguous. An empty string is
/// accepted wherever a path is expected and means the root.
public enum JSONPath {
    /// The path of the whole document.
    public static let root = "$"

    /// The path of `key` inside the object at `base`.
    public static func child(_ base: String, _ key: String) -> String {
        let isRoot = base.isEmpty || base == root
        if isSimple(key) { return isRoot ? key : base + "." + key }
        return (isRoot ? root : base) + "[" + JSONWriter.render(.string(key)) + "]"
    }

    /// The path of element `index` inside the array at `base`.
    public static func index(_ base: String, _ index: Int) -> String {
        (base.isEmpty ? root : base) + "[\(index)]"
    }

    /// `base` with the empty string shown as `$`.
    static func display(_ base: String) -> String {
        base.isEmpty ? root : base
    }

    private static func isSimple(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2D
        }
    }
}
