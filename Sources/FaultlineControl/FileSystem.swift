internal import Glibc
import FaultlineSystem

/// The few file and buffer calls the control side needs (token file, journal, Unix socket path,
/// reading sockets into arrays) that FaultlineSystem does not offer yet. Kept in this one file,
/// like `ConfigLoader`'s reader, so raw calls and unsafe buffers stay fenced; they belong in
/// FaultlineSystem's `Posix` once its owner takes them.
enum FileSystem {
    /// The whole file, or the reason it could not be read.
    static func readFile(path: String, maxBytes: Int) throws(SystemError) -> [UInt8] {
        let fd = try openFile(path: path, flags: O_RDONLY | O_CLOEXEC, mode: 0)
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.count
            let got = fd.withUnsafeHandle { raw in chunk.withUnsafeMutableBytes { Glibc.read(raw, $0.baseAddress, count) } }
            if got < 0 {
                if errno == EINTR { continue }
                throw SystemError(errno: errno, call: "read")
            }
            if got == 0 { break }
            contents.append(contentsOf: chunk[0..<got])
            if contents.count > maxBytes { throw SystemError(errno: EFBIG, call: "read") }
        }
        fd.close()
        return contents
    }

    /// Opens (creating with mode 0644) a file for appending, readable too (for its tail).
    static func openForAppend(path: String) throws(SystemError) -> FileDescriptor {
        try openFile(path: path, flags: O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, mode: 0o644)
    }

    /// The last `maxBytes` (at most) of a regular file, read with pread so an O_APPEND
    /// descriptor's position does not matter.
    static func readTail(_ fd: borrowing FileDescriptor, maxBytes: Int) throws(SystemError) -> [UInt8] {
        var status = stat()
        guard fd.withUnsafeHandle({ fstat($0, &status) }) == 0 else { throw SystemError(errno: errno, call: "fstat") }
        let size = Int(status.st_size)
        let start = max(0, size - maxBytes)
        var bytes = [UInt8](repeating: 0, count: size - start)
        var done = 0
        while done < bytes.count {
            let want = bytes.count - done
            let got = fd.withUnsafeHandle { raw in
                bytes.withUnsafeMutableBytes { Glibc.pread(raw, $0.baseAddress! + done, want, off_t(start + done)) }
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw SystemError(errno: errno, call: "pread")
            }
            if got == 0 { break }
            done += got
        }
        return Array(bytes[0..<done])
    }

    /// Writes all of `bytes` to a blocking descriptor (a regular file).
    static func writeAll(_ fd: borrowing FileDescriptor, _ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let result: IOResult<Int>
            do {
                result = try bytes.withUnsafeBytes { buffer in
                    try Posix.writeFile(fd, from: UnsafeRawBufferPointer(rebasing: buffer[offset...]))
                }
            } catch let error as SystemError {
                throw error
            } catch {
                throw SystemError(errno: EIO, call: "write")
            }
            switch result {
            case .processed(let written): offset += written
            case .wouldBlock: throw SystemError(errno: EAGAIN, call: "write")
            }
        }
    }

    /// Reads what is available from a nonblocking socket into `buffer` (its whole capacity);
    /// `.processed(0)` is end of stream.
    static func readSome(_ fd: borrowing FileDescriptor, into buffer: inout [UInt8]) throws(SystemError) -> IOResult<Int> {
        do {
            return try buffer.withUnsafeMutableBytes { bytes in try Posix.read(fd, into: bytes) }
        } catch let error as SystemError {
            throw error
        } catch {
            throw SystemError(errno: EIO, call: "read")
        }
    }

    /// Writes from `bytes[offset...]` to a nonblocking socket.
    static func writeSome(_ fd: borrowing FileDescriptor, _ bytes: [UInt8], from offset: Int) throws(SystemError) -> IOResult<Int> {
        do {
            return try bytes.withUnsafeBytes { buffer in
                try Posix.write(fd, from: UnsafeRawBufferPointer(rebasing: buffer[offset...]))
            }
        } catch let error as SystemError {
            throw error
        } catch {
            throw SystemError(errno: EIO, call: "send")
        }
    }

    /// What is at a path.
    enum Kind { case missing, socket, other }

    /// The kind of file at `path` (not following a final symlink).
    static func kind(of path: String) -> Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        return (info.st_mode & S_IFMT) == S_IFSOCK ? .socket : .other
    }

    /// Removes a file; a missing file is not an error.
    static func unlink(path: String) throws(SystemError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw SystemError(errno: errno, call: "unlink") }
    }

    /// Creates a directory with `mode` (the umask applies); an existing directory is fine.
    static func makeDirectory(path: String, mode: UInt32) throws(SystemError) {
        if Glibc.mkdir(path, mode_t(mode)) != 0 && errno != EEXIST { throw SystemError(errno: errno, call: "mkdir") }
    }

    /// Sets a file's permission bits.
    static func chmod(path: String, mode: UInt32) throws(SystemError) {
        if Glibc.chmod(path, mode_t(mode)) != 0 { throw SystemError(errno: errno, call: "chmod") }
    }

    /// Runs `body` with the process umask set to `mask`, then restores it. The umask is
    /// process-wide: used only while binding the control socket at start, before any other
    /// thread creates files.
    static func withUmask<R: ~Copyable, E: Error>(_ mask: UInt32, _ body: () throws(E) -> R) throws(E) -> R {
        let previous = umask(mode_t(mask))
        defer { umask(previous) }
        return try body()
    }

    /// True when something accepts connections on the Unix socket at `path`.
    static func unixSocketIsLive(path: String) -> Bool {
        guard let fd = try? Posix.socket(family: .unix, nonBlocking: false) else { return false }
        let connected = (try? Posix.connect(fd, to: SocketAddress(unixPath: path))) ?? false
        fd.close()
        return connected
    }

    private static func openFile(path: String, flags: Int32, mode: UInt32) throws(SystemError) -> FileDescriptor {
        while true {
            let fd = Glibc.open(path, flags, mode_t(mode))
            if fd >= 0 { return FileDescriptor(unsafeTaking: fd) }
            if errno == EINTR { continue }
            throw SystemError(errno: errno, call: "open")
        }
    }
}
