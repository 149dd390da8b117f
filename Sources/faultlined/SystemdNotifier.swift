import FaultlineSystem

/// sd_notify without libsystemd: datagrams to `$NOTIFY_SOCKET` when systemd set it.
struct SystemdNotifier {
    let socketPath: String?
    /// Half of `$WATCHDOG_USEC`, the interval at which `WATCHDOG=1` is sent; nil when unset.
    let watchdogInterval: Duration?

    init() {
        socketPath = Posix.environment("NOTIFY_SOCKET").flatMap { $0.isEmpty ? nil : $0 }
        if let text = Posix.environment("WATCHDOG_USEC"), let usec = UInt64(text), usec > 0 {
            watchdogInterval = .microseconds(usec / 2)
        } else {
            watchdogInterval = nil
        }
    }

    func notify(_ state: String, log: Logger) {
        guard let socketPath else { return }
        do {
            try Posix.sendDatagram(state, toUnixPath: socketPath)
        } catch {
            log.warning("systemd.notify_failed", ["state": state, "error": "\(error)"])
        }
    }
}
