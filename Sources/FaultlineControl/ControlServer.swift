public import FaultlineConfig
public import FaultlineCore
import FaultlineLoop
public import FaultlineMetrics
public import FaultlineSystem
import Synchronization

/// Why the control server could not start.
public enum ControlServerError: Error, Sendable, CustomStringConvertible {
    /// `control.token_file` could not be read or is empty.
    case tokenFile(path: String, reason: String)
    /// The config's plan could not be put in force.
    case initialPlan(String)
    /// A control listener could not be bound.
    case listen(address: String, SystemError)
    /// The Unix socket path is unusable (live socket there, not a socket, too long).
    case socketPath(path: String, reason: String)
    /// The control thread could not start its loop.
    case loop(SystemError)

    public var description: String {
        switch self {
        case .tokenFile(let path, let reason): return "cannot use token file \(path): \(reason)"
        case .initialPlan(let reason): return "cannot start the routes: \(reason)"
        case .listen(let address, let error): return "cannot listen on \(address): \(error.reason)"
        case .socketPath(let path, let reason): return "cannot use control socket \(path): \(reason)"
        case .loop(let error): return "control loop: \(error)"
        }
    }
}

/// The control API server (SPEC §4) on its own thread and event loop: HTTP/1.1 on the Unix
/// socket, on `control.http_listen` and on `metrics_listen`, in front of a `ControlService`.
///
/// `start()` puts the config's plan in force, binds the listeners and journals `daemon.started`;
/// `reload()` (SIGHUP) runs the same path as `POST /v1/reload` on the control thread; `stop()`
/// closes everything and removes the socket file.
public final class ControlServer: Sendable {
    /// Limits and timeouts.
    public struct Options: Sendable, Hashable {
        /// Time from a request's first byte to its last; then 408 and close.
        public var requestTimeout: Duration
        /// Time a keep-alive connection may sit idle; then it is closed.
        public var idleTimeout: Duration
        /// Time to keep reading (and discarding) after answering with `Connection: close`, so the
        /// answer is not lost to an RST.
        public var lingerTimeout: Duration
        /// Largest request head.
        public var maxHeadBytes: Int
        /// Largest request body; larger gets 413.
        public var maxBodyBytes: Int
        /// Connections open at once on the TCP listener (`control.http_listen`). Each listener
        /// kind has its own budget, so clients of one cannot lock out another (the Unix socket
        /// stays usable whatever happens on TCP). At the limit a new connection evicts the one
        /// that has waited longest — idle, or with an incomplete request — and is refused only
        /// when every open one is mid-answer.
        public var maxTCPConnections: Int
        /// Connections open at once on the Unix socket; as `maxTCPConnections`.
        public var maxUnixConnections: Int
        /// Connections open at once on `metrics_listen`; as `maxTCPConnections`.
        public var maxMetricsConnections: Int

        public init(
            requestTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60),
            lingerTimeout: Duration = .seconds(2), maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 1024 * 1024,
            maxTCPConnections: Int = 256, maxUnixConnections: Int = 128, maxMetricsConnections: Int = 64
        ) {
            self.requestTimeout = requestTimeout
            self.idleTimeout = idleTimeout
            self.lingerTimeout = lingerTimeout
            self.maxHeadBytes = maxHeadBytes
            self.maxBodyBytes = maxBodyBytes
            self.maxTCPConnections = maxTCPConnections
            self.maxUnixConnections = maxUnixConnections
            self.maxMetricsConnections = maxMetricsConnections
        }

        /// The budget of a listener kind.
        func maxConnections(_ kind: ControlListenerKind) -> Int {
            switch kind {
            case .tcp: maxTCPConnections
            case .unix: maxUnixConnections
            case .metrics: maxMetricsConnections
            }
        }
    }

    /// Where the server listens, ports resolved.
    public struct Addresses: Sendable, Hashable {
        public var unixSocket: String?
        public var http: Endpoint?
        public var metrics: Endpoint?
    }

    private let config: DaemonConfig
    private let configPath: String
    private let dataPlane: any DataPlane
    private let journal: Journal
    private let registry: MetricsRegistry
    private let metrics: ControlMetrics
    private let version: String
    private let log: Logger
    private let options: Options
    private let running = Mutex<(mailbox: Mailbox<ControlMessage>, thread: ThreadHandle)?>(nil)
    private let snapshot: ConfigSnapshot

    /// A server for `config`; nothing happens until `start()`.
    public init(
        config: DaemonConfig, configPath: String, dataPlane: any DataPlane, journal: Journal,
        registry: MetricsRegistry, metrics: ControlMetrics, version: String, log: Logger, options: Options = Options()
    ) {
        self.config = config
        self.configPath = configPath
        self.dataPlane = dataPlane
        self.journal = journal
        self.registry = registry
        self.metrics = metrics
        self.version = version
        self.log = log
        self.options = options
        snapshot = ConfigSnapshot(config)
    }

    /// The config in force (as last loaded or reloaded), readable from any thread.
    public var currentConfig: DaemonConfig { snapshot.value }

    /// Reads the token file, starts the control thread, puts the config's plan in force, binds
    /// the listeners and logs `control.listening` for each. Returns once serving.
    /// - Throws: `ControlServerError`; nothing is left running then.
    @discardableResult
    public func start() throws(ControlServerError) -> Addresses {
        var token: [UInt8]?
        if let path = config.control.tokenFile {
            token = try Self.readToken(path: path)
        }
        let outcome = Mutex<Result<Addresses, ControlServerError>?>(nil)
        let mailboxSlot = Mutex<Mailbox<ControlMessage>?>(nil)
        let ready = CountdownLatch(count: 1)
        let settings = ControlLoop.Settings(
            config: config, configPath: configPath, dataPlane: dataPlane, journal: journal, registry: registry,
            metrics: metrics, version: version, log: log, options: options, token: token, snapshot: snapshot
        )
        let thread = Threads.spawn(name: "fl-control") {
            let loop: EventLoop<ControlLoop>
            do throws(SystemError) {
                loop = try EventLoop<ControlLoop>()
            } catch {
                outcome.withLock { $0 = .failure(.loop(error)) }
                ready.countDown()
                return
            }
            let controlLoop = ControlLoop(settings: settings)
            do throws(ControlServerError) {
                let addresses = try controlLoop.start(loop)
                mailboxSlot.withLock { $0 = loop.mailbox }
                outcome.withLock { $0 = .success(addresses) }
            } catch {
                controlLoop.closeEverything(loop)
                outcome.withLock { $0 = .failure(error) }
                ready.countDown()
                return
            }
            ready.countDown()
            do {
                try loop.run(controlLoop)
            } catch {
                settings.log.error("control.loop_failed", ["error": "\(error)"])
                controlLoop.closeEverything(loop)
            }
        }
        ready.wait()
        switch outcome.withLock({ $0 }) {
        case .success(let addresses):
            let mailbox = mailboxSlot.withLock { $0 }!
            running.withLock { $0 = (mailbox, thread) }
            return addresses
        case .failure(let error):
            thread.join()
            throw error
        case nil:
            thread.join()
            throw .initialPlan("control thread ended without starting")
        }
    }

    /// Re-reads the config file on the control thread, as `POST /v1/reload` does, and returns the
    /// answer that endpoint would give. Blocks the caller (the main thread on SIGHUP).
    public func reload() -> ControlResponse {
        guard let mailbox = running.withLock({ $0?.mailbox }) else {
            return .error(503, code: "not_running", message: "the control server is not running")
        }
        let ticket = ReloadTicket()
        mailbox.post(.reload(ticket))
        return ticket.wait()
    }

    /// Closes every control connection and listener, removes the socket file and joins the thread.
    public func stop() {
        guard let (mailbox, thread) = running.withLock({ state in
            defer { state = nil }
            return state
        }) else { return }
        mailbox.post(.stop)
        thread.join()
    }

    private static func readToken(path: String) throws(ControlServerError) -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path: path, maxBytes: 4096)
        } catch {
            throw .tokenFile(path: path, reason: error.reason)
        }
        // A trailing newline (echo > file) is not part of the token; inner whitespace would be.
        var token = bytes[...]
        while let last = token.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { token = token.dropLast() }
        while let first = token.first, first == 0x20 || first == 0x09 { token = token.dropFirst() }
        guard !token.isEmpty else { throw .tokenFile(path: path, reason: "the file is empty") }
        guard token.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .tokenFile(path: path, reason: "the token must be printable ASCII without spaces")
        }
        return Array(token)
    }
}

/// The config in force, published by the control thread for others to read.
final class ConfigSnapshot: Sendable {
    private let config: Mutex<DaemonConfig>
    init(_ config: DaemonConfig) { self.config = Mutex(config) }
    var value: DaemonConfig { config.withLock { $0 } }
    func publish(_ value: DaemonConfig) { config.withLock { $0 = value } }
}

/// What other threads ask of the control thread.
enum ControlMessage: Sendable {
    case reload(ReloadTicket)
    case stop
}

/// A reload request and the place its answer comes back.
final class ReloadTicket: Sendable {
    private let latch = CountdownLatch(count: 1)
    private let answer = Mutex<ControlResponse?>(nil)

    func complete(_ response: ControlResponse) {
        answer.withLock { $0 = response }
        latch.countDown()
    }

    /// The answer, or 503 when the control thread gave none within `timeoutNanoseconds` (its
    /// loop died): SIGHUP must never hang the main thread.
    func wait(timeoutNanoseconds: UInt64 = 60_000_000_000) -> ControlResponse {
        guard latch.wait(timeoutNanoseconds: timeoutNanoseconds), let response = answer.withLock({ $0 }) else {
            return .error(503, code: "not_running", message: "the control thread did not answer")
        }
        return response
    }
}
