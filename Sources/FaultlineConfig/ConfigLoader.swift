internal import Glibc

/// Reads a config file from disk and decodes it with `ConfigDecoder`.
///
/// Uses `open`/`read` directly because this target has no Foundation and no dependency on
/// FaultlineSystem (Package.swift); the raw calls stay inside this file.
public enum ConfigLoader {
    /// Files larger than this are refused rather than read into memory.
    public static let maxFileBytes = 16 * 1024 * 1024

    /// Loads and decodes the config at `path`.
    ///
    /// A file that cannot be read gives one error at `$`: `cannot read PATH: STRERROR`, or
    /// `cannot read PATH: larger than 16777216 bytes`.
    public static func load(path: String) -> Result<DaemonConfig, ConfigErrors> {
        switch readFile(path: path) {
        case .success(let bytes): return ConfigDecoder.decode(bytes: bytes)
        case .failure(let error): return .failure(ConfigErrors([error]))
        }
    }

    /// The file's bytes, or the `$` error describing why they could not be read.
    static func readFile(path: String) -> Result<[UInt8], ConfigError> {
        func failure(_ reason: String) -> Result<[UInt8], ConfigError> {
            .failure(ConfigError(path: JSONPath.root, message: "cannot read \(path): \(reason)"))
        }
        var fd: Int32
        repeat {
            fd = open(path, O_RDONLY | O_CLOEXEC)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else { return failure(String(cString: strerror(errno))) }
        // close errors are ignored: the descriptor is gone either way and nothing was written.
        defer { _ = close(fd) }

        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.count
            let got = read(fd, &chunk, count)
            if got < 0 {
                if errno == EINTR { continue }
                return failure(String(cString: strerror(errno)))
            }
            if got == 0 { break }
            contents.append(contentsOf: chunk[0..<got])
            if contents.count > maxFileBytes { return failure("larger than \(maxFileBytes) bytes") }
        }
        return .success(contents)
    }
}
