// FaultlineMetrics may import no other Faultline target (ARCHITECTURE.md), so it cannot use
// FaultlineSystem's syscall door; these few read-only /proc calls are fenced here instead.
// Every failure is reported as `nil`: a metric that cannot be read is left out of the scrape
// rather than stopping it.
import Glibc

/// Reads small files and directories under /proc without Foundation.
enum ProcFS {
    /// The whole contents of a (small) file, or `nil` if it cannot be read.
    static func readFile(_ path: String) -> [UInt8]? {
        let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        // close's EINTR is not retried: on Linux the descriptor is released even then, and a
        // retry could close a descriptor another thread has just been given.
        defer { _ = close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                retryingEINTR { read(fd, buffer.baseAddress, buffer.count) }
            }
            if count < 0 { return nil }
            if count == 0 { return contents }
            contents.append(contentsOf: chunk[..<count])
        }
    }

    /// The whole contents of a (small) text file, or `nil` if it cannot be read.
    static func readText(_ path: String) -> String? {
        readFile(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The number of open file descriptors of this process, not counting the one used to
    /// list /proc/self/fd; `nil` if it cannot be listed.
    static func openFileDescriptorCount() -> Int? {
        numericEntryCount(in: "/proc/self/fd")
    }

    /// The entries of `path` whose names are decimal numbers (descriptors, in a /proc fd
    /// directory), not counting the descriptor of the directory stream itself.
    static func numericEntryCount(in path: String) -> Int? {
        guard let directory = opendir(path) else { return nil }
        defer { _ = closedir(directory) }
        let ownDescriptor = dirfd(directory)
        var count = 0
        // The name is read in place, up to its NUL. Not `entry.pointee.d_name`: that copies a
        // whole `struct dirent` (280 bytes), while readdir's records are only `d_reclen` long, so
        // the copy of the last record of a getdents buffer could read past its end (it did, with
        // 20,000 descriptors open: a SIGSEGV in the daemon while /metrics was scraped).
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(directory) {
            let name = (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: UInt8.self)
            var number: Int? = 0
            var index = 0
            while name[index] != 0 {
                let byte = name[index]
                guard let value = number, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                    number = nil
                    break
                }
                number = value * 10 + Int(byte - UInt8(ascii: "0"))
                index += 1
            }
            if index == 0 { number = nil }
            // "." and ".." are not descriptors; our own directory stream is transient.
            if let number, number != Int(ownDescriptor) {
                count += 1
            }
        }
        return count
    }

    /// The size of a memory page in bytes.
    static var pageSize: Int {
        sysconf(Int32(_SC_PAGESIZE))
    }

    /// Clock ticks per second, the unit of times in /proc/self/stat.
    static var clockTicksPerSecond: Int {
        sysconf(Int32(_SC_CLK_TCK))
    }

    /// Boot time in seconds since the epoch from two clocks: CLOCK_REALTIME minus CLOCK_BOOTTIME
    /// (which, like /proc's start times, counts time suspended). `nil` if a clock cannot be read.
    static func bootTimeFromClocks() -> Double? {
        var wall = timespec()
        var sinceBoot = timespec()
        guard clock_gettime(CLOCK_REALTIME, &wall) == 0, clock_gettime(CLOCK_BOOTTIME, &sinceBoot) == 0 else { return nil }
        return Double(wall.tv_sec - sinceBoot.tv_sec) + Double(wall.tv_nsec - sinceBoot.tv_nsec) / 1e9
    }

    private static func retryingEINTR<Result: BinaryInteger>(_ call: () -> Result) -> Result {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}
