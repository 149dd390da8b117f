import FaultlineConfig
import FaultlineControl
import FaultlineCore
import FaultlineMetrics
import FaultlineProxy
import FaultlineSystem

/// The daemon's main thread: loads the config, starts the proxy and the control server, then
/// waits on signals. The control server owns the routes and faults: it puts the config's plan in
/// force at start, and SIGHUP goes through its reload path, the same as `POST /v1/reload`.
final class Daemon {
    let configPath: String
    let log: Logger
    private let notifier = SystemdNotifier()

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
        do throws(ProxyError) {
            try Proxy.checkTLS(config.routes)
        } catch {
            log.error("config.invalid", ["error": "\(error)"])
            return 2
        }

        let registry = MetricsRegistry()
        BuildInfo.register(version: FaultlineVersion.current, into: registry)
        let metrics = ProxyMetrics(registry: registry)
        ProcessMetrics.register(into: registry)
        let controlMetrics = ControlMetrics(acceptFailures: metrics.acceptFailures)
        controlMetrics.register(into: registry)

        let journal: Journal
        do {
            journal = try Journal(path: config.journal, log: log)
        } catch where error.call == "flock" {
            log.error("journal.locked", [
                "path": config.journal ?? "",
                "error": "the journal file is locked by another process (another faultlined writes it); give each daemon its own journal",
            ])
            return 1
        } catch {
            log.error("journal.open_failed", ["path": config.journal ?? "", "error": "\(error)"])
            return 1
        }

        let proxy: Proxy
        do {
            proxy = try Proxy(
                workers: config.workers, bufferBytes: config.limits.bufferBytes, metrics: metrics, log: log, events: journal)
        } catch {
            log.error("daemon.start_failed", ["error": "\(error)"])
            return 1
        }
        registry.register(proxy.workerConnections)
        let control = ControlServer(
            config: config, configPath: configPath, dataPlane: proxy, journal: journal, registry: registry,
            metrics: controlMetrics, version: FaultlineVersion.current, log: log
        )
        do {
            try control.start()
        } catch {
            log.error("daemon.start_failed", ["error": "\(error)"])
            proxy.stop()
            return 1
        }
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
                        // The control thread logs the outcome (config.reloaded or the errors).
                        notifier.notify("RELOADING=1", log: log)
                        _ = control.reload()
                        notifier.notify("READY=1", log: log)
                    case .terminate, .interrupt:
                        notifier.notify("STOPPING=1", log: log)
                        let grace = control.currentConfig.limits.shutdownGrace
                        log.info("daemon.stopping", ["grace": DurationParser.render(grace),
                                                     "open_connections": "\(proxy.openConnections)"])
                        control.stop()
                        let clean = proxy.drain(grace: grace)
                        log.info("daemon.stopped", ["drained": clean ? "all" : "grace expired"])
                        return 0
                    }
                }
            }
            if notifier.watchdogInterval != nil { notifier.notify("WATCHDOG=1", log: log) }
        }
    }
}
