/// The standard `process_*` metrics, read from /proc at scrape time.
///
/// Names and units follow the Prometheus client conventions, so existing dashboards work:
/// `process_resident_memory_bytes`, `process_open_fds`, `process_cpu_seconds_total`,
/// `process_start_time_seconds`.
public enum ProcessMetrics {
    /// Registers the process metrics, in the order listed above, into `registry`.
    ///
    /// A value that cannot be read at scrape time is left out; its `# HELP`/`# TYPE` lines
    /// are still printed.
    /// - Parameter registry: The registry to add the collectors to.
    public static func register(into registry: MetricsRegistry) {
        registry.register(.single(
            name: "process_resident_memory_bytes",
            help: "Resident memory size in bytes.",
            type: .gauge
        ) { residentMemoryBytes().map(SampleValue.unsigned) })
        registry.register(.single(
            name: "process_open_fds",
            help: "Number of open file descriptors.",
            type: .gauge
        ) { ProcFS.openFileDescriptorCount().map { .signed(Int64($0)) } })
        registry.register(.single(
            name: "process_cpu_seconds_total",
            help: "Total user and system CPU time spent in seconds.",
            type: .counter
        ) { statTimes()?.seconds.map(SampleValue.double) })
        registry.register(.single(
            name: "process_start_time_seconds",
            help: "Start time of the process since unix epoch in seconds.",
            type: .gauge
        ) { startTimeSeconds().map(SampleValue.double) })
    }

    /// Resident set size: the second field of /proc/self/statm (pages) times the page size.
    static func residentMemoryBytes() -> UInt64? {
        guard let statm = ProcFS.readText("/proc/self/statm") else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count >= 2, let pages = UInt64(fields[1]) else { return nil }
        return pages * UInt64(ProcFS.pageSize)
    }

    /// The fields of /proc/self/stat this file needs, in clock ticks.
    struct StatTimes {
        var userTicks: UInt64
        var systemTicks: UInt64
        var startTicksSinceBoot: UInt64

        /// User plus system CPU time in seconds.
        var seconds: Double? {
            let ticksPerSecond = ProcFS.clockTicksPerSecond
            guard ticksPerSecond > 0 else { return nil }
            return Double(userTicks + systemTicks) / Double(ticksPerSecond)
        }
    }

    /// utime, stime and starttime (fields 14, 15 and 22 of proc(5)) of this process.
    static func statTimes() -> StatTimes? {
        guard let stat = ProcFS.readText("/proc/self/stat") else { return nil }
        return parseStat(stat)
    }

    /// Parses a /proc/<pid>/stat line. The command name (field 2) is in parentheses and may
    /// itself contain spaces and parentheses, so fields are counted from the last `)`.
    static func parseStat(_ stat: String) -> StatTimes? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        // After ") " come fields 3 (state), 4, 5, ...: field n is at index n - 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19,
              let user = UInt64(fields[14 - 3]),
              let system = UInt64(fields[15 - 3]),
              let start = UInt64(fields[22 - 3])
        else { return nil }
        return StatTimes(userTicks: user, systemTicks: system, startTicksSinceBoot: start)
    }

    /// Boot time plus the process's start offset.
    static func startTimeSeconds() -> Double? {
        guard let times = statTimes(), let bootTime = bootTimeSeconds() else { return nil }
        let ticksPerSecond = ProcFS.clockTicksPerSecond
        guard ticksPerSecond > 0 else { return nil }
        return bootTime + Double(times.startTicksSinceBoot) / Double(ticksPerSecond)
    }

    /// `btime` of /proc/stat; where /proc shows only processes (systemd's `ProcSubset=pid`, a
    /// `subset=pid` mount), the wall clock minus the time since boot.
    static func bootTimeSeconds() -> Double? {
        if let stat = ProcFS.readText("/proc/stat"),
           let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
           let bootTime = line.split(separator: " ").last.flatMap({ UInt64($0) }) {
            return Double(bootTime)
        }
        return ProcFS.bootTimeFromClocks()
    }
}
