import FaultlineConfig
import FaultlineCore
import FaultlineMetrics
import FaultlineProxy
import FaultlineSystem

/// The daemon's main thread: loads the config, starts the proxy, then waits on signals.
final class Daemon {
    let configPath: String
    let log: Logger
    private let notifier = SystemdNotifier()
    private var planVersion: UInt64 = 0

    init(configPath: String, log: Logger) {
        self.configPath = configPath
        self.log = log
    }

    /// Runs until SIGTERM/SIGINT; returns the exit status.
    func run() -> Int32 {
        // Block the lifecycle signals before any thread starts, so every thread inherits the mask
        // and only the signalfd sees them.
        let signals: FileDescriptor
        do {
            signals = try Linux.lifecycleSignalFD()
        } catch {
            log.error("daemon.signals_failed", ["error": "\(error)"])
            return 1
        }
        Posix.raiseOpenFileLimit()

        let config: DaemonConfig
        switch ConfigLoader.load(path: configPath) {
        case .success(let loaded):
            config = loaded
        case .failure(let errors):
            for line in errors.lines { log.error("config.invalid", ["error": line]) }
            return 2
        }

        let registry = MetricsRegistry()
        BuildInfo.register(version: FaultlineVersion.current, into: registry)
        let metrics = ProxyMetrics(registry: registry)
        ProcessMetrics.register(into: registry)

        let proxy: Proxy
        do {
            proxy = try Proxy(workers: config.workers, metrics: metrics, log: log)
            try proxy.apply(plan(for: config))
        } catch {
            log.error("daemon.start_failed", ["error": "\(error)"])
            return 1
        }
        var current = config
        log.info("daemon.started", [
            "version": FaultlineVersion.current, "seed": "\(config.seed)", "workers": "\(proxy.workerCount)",
            "routes": "\(config.routes.count)", "pid": "\(Posix.processID)",
        ])
        notifier.notify("READY=1", log: log)

        let tick: Int32 = notifier.watchdogInterval.map { Int32(clamping: $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? -1
        while true {
            if Posix.waitReadable(signals, timeoutMilliseconds: tick) {
                while let signal = Linux.readSignal(signals) {
                    switch signal {
                    case .hangup:
                        notifier.notify("RELOADING=1", log: log)
                        current = reload(proxy: proxy, current: current)
                        notifier.notify("READY=1", log: log)
                    case .terminate, .interrupt:
                        notifier.notify("STOPPING=1", log: log)
                        log.info("daemon.stopping", ["grace": DurationParser.render(current.limits.shutdownGrace),
                                                     "open_connections": "\(proxy.openConnections)"])
                        let clean = proxy.drain(grace: current.limits.shutdownGrace)
                        log.info("daemon.stopped", ["drained": clean ? "all" : "grace expired"])
                        return 0
                    }
                }
            }
            if notifier.watchdogInterval != nil { notifier.notify("WATCHDOG=1", log: log) }
        }
    }

    /// Re-reads the config; an invalid file or a failed bind changes nothing.
    private func reload(proxy: Proxy, current: DaemonConfig) -> DaemonConfig {
        switch ConfigLoader.load(path: configPath) {
        case .failure(let errors):
            log.error("config.reload_rejected", ["path": configPath, "errors": "\(errors.errors.count)"])
            for line in errors.lines { log.error("config.invalid", ["error": line]) }
            return current
        case .success(let config):
            if config.workers != current.workers {
                log.warning("config.reload_ignored", ["key": "workers", "reason": "takes effect on restart"])
            }
            do {
                try proxy.apply(plan(for: config))
            } catch {
                log.error("config.reload_rejected", ["path": configPath, "error": "\(error)"])
                return current
            }
            log.info("config.reloaded", ["path": configPath, "routes": "\(config.routes.count)", "faults": "\(config.faults.count)"])
            return config
        }
    }

    private func plan(for config: DaemonConfig) -> FaultPlan {
        planVersion += 1
        return FaultPlan(version: planVersion, seed: config.seed, limits: config.limits, routes: config.routes, faults: config.faults)
    }
}
