/// The errors collected while decoding one document; decoders add to it and carry on.
struct Diagnostics {
    private(set) var errors: [ConfigError] = []

    var isEmpty: Bool { errors.isEmpty }

    mutating func add(_ path: String, _ message: String) {
        errors.append(ConfigError(path: path, message: message))
    }

    mutating func append(contentsOf other: [ConfigError]) {
        errors.append(contentsOf: other)
    }

    /// `.success(value)` when nothing was reported, otherwise every error.
    func result<T>(_ value: @autoclosure () -> T?) -> Result<T, ConfigErrors> {
        if errors.isEmpty, let value = value() { return .success(value) }
        return .failure(ConfigErrors(errors))
    }
}
