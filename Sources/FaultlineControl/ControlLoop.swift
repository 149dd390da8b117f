import FaultlineConfig
import FaultlineCore
import FaultlineHTTP1
import FaultlineLoop
import FaultlineMetrics
import FaultlineSystem

/// The control thread's loop delegate: listeners, connections, HTTP framing, timeouts, peer
/// checks and bearer tokens in front of the `ControlService`.
final class ControlLoop: EventLoopDelegate {
    typealias Message = ControlMessage

    /// Everything the thread needs, handed over once at start.
    struct Settings: Sendable {
        var config: DaemonConfig
        var configPath: String
        var dataPlane: any DataPlane
        var journal: Journal
        var registry: MetricsRegistry
        var metrics: ControlMetrics
        var version: String
        var log: Logger
        var options: ControlServer.Options
        var token: [UInt8]?
        var snapshot: ConfigSnapshot
    }

    private final class Listener {
        let kind: ControlListenerKind
        let index: Int
        var fd: FileDescriptor?
        var registration: Registration?
        /// Out of descriptors (or memory): when to try again (the workers' path too).
        var backoff = AcceptBackoff()
        /// Whether its read interest is on (off while backed off).
        var watched = true
        /// Its `faultline_accept_failures_total` series, made on first use.
        var failureCounters: [AcceptFailureReason: SharedCounter] = [:]
        /// Connections of this listener open now.
        var open = 0
        /// Connections evicted or refused at the limit since the last `control.connection_limit` line.
        var evicted = 0
        var refused = 0
        var limitLoggedAt: UInt64?
        init(kind: ControlListenerKind, index: Int, fd: consuming FileDescriptor) {
            self.kind = kind
            self.index = index
            self.fd = consume fd
        }
    }

    /// The shortest gap between two `control.connection_limit` lines of a listener.
    private static let limitLogInterval: UInt64 = 10_000_000_000

    /// Listener tags have the top bit set; connection tags are connection ids.
    private static let listenerTagBit: UInt64 = 1 << 63
    /// The timer tag of the schedule runner and of faults applied with `for`.
    private static let scheduleTimerTag: UInt64 = 1 << 62

    private let settings: Settings
    private let log: Logger
    private let service: ControlService
    private let limits: HTTPParserLimits
    private let allowedUIDs: Set<UInt32>
    private var listeners: [Listener] = []
    /// Listeners in an accept back-off episode; a closing connection tells them a descriptor is free.
    private var exhaustedListeners = 0
    private var connections: [UInt64: ControlConnection] = [:]
    private var nextConnectionID: UInt64 = 1
    private var unixSocketPath: String?
    /// The status page's cookie on the TCP listener (set once it is bound).
    private var pageSession: StatusPageSession?
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    /// The schedule deadline a timer was last set for (timers cannot be cancelled: one that fires
    /// for a deadline that moved finds nothing due and is ignored).
    private var scheduleTimerDeadline: UInt64?

    init(settings: Settings) {
        self.settings = settings
        log = settings.log
        service = ControlService(
            config: settings.config, configPath: settings.configPath, dataPlane: settings.dataPlane,
            journal: settings.journal, registry: settings.registry, metrics: settings.metrics,
            version: settings.version, log: settings.log
        )
        limits = HTTPParserLimits(maxHeadBytes: settings.options.maxHeadBytes, maxBodyBytes: settings.options.maxBodyBytes)
        allowedUIDs = Set([0, Posix.effectiveUID] + settings.config.control.allowedUIDs)
    }

    // MARK: Start and stop

    /// Puts the first plan in force, then binds and registers the listeners.
    func start(_ loop: EventLoop<ControlLoop>) throws(ControlServerError) -> ControlServer.Addresses {
        // The control listeners first: they fail fast (a socket in use) and the loop does not
        // answer before `run`, so nothing is served before the plan is in force; and a start
        // that fails anywhere journals nothing (`daemon.started` comes with the plan).
        var addresses = ControlServer.Addresses()
        let control = settings.config.control
        var socketPath = control.unixSocket
        if !control.isGiven {
            socketPath = try defaultSocket()
        }
        if let path = socketPath {
            try bindUnixSocket(path, loop)
            addresses.unixSocket = path
            log.info("control.listening", ["address": path, "kind": "unix"])
        }
        if let endpoint = control.httpListen {
            let bound = try bindTCP(endpoint, kind: .tcp, loop)
            addresses.http = bound
            pageSession = StatusPageSession(port: bound.port)
            log.info("control.listening", ["address": "\(bound)", "kind": "tcp", "token": settings.token == nil ? "off" : "on"])
        }
        if let endpoint = settings.config.metricsListen {
            let bound = try bindTCP(endpoint, kind: .metrics, loop)
            addresses.metrics = bound
            log.info("metrics.listening", ["address": "\(bound)"])
        }
        do {
            try service.start()
        } catch {
            throw .initialPlan("\(error)")
        }
        armScheduleTimer(loop)
        return addresses
    }

    /// The socket of a config without a `control` section (`ControlConfig.defaultUnixSocket`),
    /// its directory created 0700; nil, with a warning saying so, when there is none.
    private func defaultSocket() throws(ControlServerError) -> String? {
        guard let path = ControlConfig.defaultUnixSocket(
            effectiveUID: Posix.effectiveUID, runtimeDirectory: Posix.environment("XDG_RUNTIME_DIR"),
            serviceRuntimeDirectory: Posix.environment("RUNTIME_DIRECTORY")
        ) else {
            log.warning("control.off", ["reason": "the config has no control section and XDG_RUNTIME_DIR is not set; add control.unix_socket"])
            return nil
        }
        let directory = String(path.dropLast("/control.sock".count))
        // 0700 when we create it; an existing one (systemd's RuntimeDirectory) is left as it is.
        do throws(SystemError) {
            try FileSystem.makeDirectory(path: directory, mode: 0o700)
        } catch {
            throw .socketPath(path: path, reason: "cannot create \(directory): \(error.reason)")
        }
        return path
    }

    /// Sets a timer for the schedule's next deadline or the next fault's expiry (timerfd, so a
    /// step or an expiry lands within a few milliseconds of its due time), unless one is set for
    /// it already.
    private func armScheduleTimer(_ loop: EventLoop<ControlLoop>) {
        guard let deadline = service.timerDeadline, deadline != scheduleTimerDeadline else { return }
        loop.schedule(at: deadline, tag: Self.scheduleTimerTag)
        scheduleTimerDeadline = deadline
    }

    func closeEverything(_ loop: EventLoop<ControlLoop>) {
        for connection in Array(connections.values) { close(connection, loop) }
        for listener in listeners {
            if let registration = listener.registration { loop.deregister(registration) }
            listener.fd.take()?.close()
        }
        listeners.removeAll()
        if let path = unixSocketPath {
            try? FileSystem.unlink(path: path)
            unixSocketPath = nil
        }
    }

    private func bindUnixSocket(_ path: String, _ loop: EventLoop<ControlLoop>) throws(ControlServerError) {
        guard path.utf8.count < 108 else { throw .socketPath(path: path, reason: "longer than 107 bytes") }
        switch FileSystem.kind(of: path) {
        case .missing:
            break
        case .socket:
            // A socket file with nobody behind it is left over from a daemon that died; one that
            // answers belongs to a running daemon and must not be stolen.
            if FileSystem.unixSocketIsLive(path: path) {
                throw .socketPath(path: path, reason: "another process is listening on it")
            }
            do { try FileSystem.unlink(path: path) } catch { throw .socketPath(path: path, reason: error.reason) }
            log.info("control.stale_socket_removed", ["path": path])
        case .other:
            throw .socketPath(path: path, reason: "exists and is not a socket")
        }
        let fd = try Self.listenUnix(path)
        unixSocketPath = path
        try register(Listener(kind: .unix, index: listeners.count, fd: fd), loop, address: path)
    }

    private static func listenUnix(_ path: String) throws(ControlServerError) -> FileDescriptor {
        do throws(SystemError) {
            // umask 0177 makes the socket 0600 from the moment it exists; chmod makes sure.
            let fd = try FileSystem.withUmask(0o177) { () throws(SystemError) in
                try Posix.listen(at: SocketAddress(unixPath: path), reusePort: false, backlog: 128)
            }
            try FileSystem.chmod(path: path, mode: 0o600)
            return fd
        } catch {
            throw .listen(address: path, error)
        }
    }

    private static func listenTCP(_ endpoint: Endpoint, port: inout UInt16) throws(ControlServerError) -> FileDescriptor {
        do throws(SystemError) {
            let fd = try Posix.listen(at: SocketAddress(endpoint), reusePort: false, backlog: 128)
            port = try Posix.localAddress(fd).port
            return fd
        } catch {
            throw .listen(address: "\(endpoint)", error)
        }
    }

    private func bindTCP(_ endpoint: Endpoint, kind: ControlListenerKind, _ loop: EventLoop<ControlLoop>) throws(ControlServerError) -> Endpoint {
        var bound = endpoint
        let fd = try Self.listenTCP(endpoint, port: &bound.port)
        try register(Listener(kind: kind, index: listeners.count, fd: fd), loop, address: "\(endpoint)")
        return bound
    }

    private func register(_ listener: Listener, _ loop: EventLoop<ControlLoop>, address: String) throws(ControlServerError) {
        let tag = Self.listenerTagBit | UInt64(listener.index)
        do {
            switch listener.fd {
            case .some(let fd): listener.registration = try loop.register(fd, interest: .readable, tag: tag)
            case .none: break
            }
        } catch {
            throw .listen(address: address, error)
        }
        listeners.append(listener)
    }

    // MARK: Loop callbacks

    func loop(_ loop: EventLoop<ControlLoop>, ready events: Linux.EpollEvents, tag: UInt64) {
        if tag & Self.listenerTagBit != 0 {
            acceptAll(loop, listener: listeners[Int(tag & ~Self.listenerTagBit)])
            return
        }
        guard let connection = connections[tag] else { return }
        if events.contains(.writable) || events.contains(.error) {
            flush(connection, loop)
        }
        guard connections[tag] != nil else { return }
        if events.contains(.readable) || events.contains(.hangup) || events.contains(.error) {
            readAvailable(connection, loop)
        }
    }

    func loop(_ loop: EventLoop<ControlLoop>, timerFired tag: UInt64) {
        if tag == Self.scheduleTimerTag {
            if let deadline = scheduleTimerDeadline, deadline <= loop.now { scheduleTimerDeadline = nil }
            service.timerTick()
            armScheduleTimer(loop)
            return
        }
        if tag & Self.listenerTagBit != 0 {
            let index = Int(tag & ~Self.listenerTagBit)
            if index < listeners.count { acceptRetryDue(loop, listener: listeners[index]) }
            return
        }
        guard let connection = connections[tag], connection.deadline != 0, connection.deadline <= loop.now else { return }
        switch connection.deadlineKind {
        case .idle, .linger:
            close(connection, loop)
        case .request:
            guard connection.phase == .open, connection.requestInProgress else {
                close(connection, loop)
                return
            }
            log.info("control.request_timeout", ["connection": "\(connection.id)"])
            respond(connection, .error(408, code: "request_timeout",
                                       message: "the request was not complete within \(Self.render(settings.options.requestTimeout))"),
                    keepAlive: false, loop)
            flush(connection, loop)
        }
    }

    func loop(_ loop: EventLoop<ControlLoop>, received messages: [ControlMessage]) {
        for message in messages {
            switch message {
            case .reload(let ticket):
                let response = service.reload()
                settings.snapshot.publish(service.state.config)
                armScheduleTimer(loop)
                ticket.complete(response)
            case .stop:
                closeEverything(loop)
                loop.stop()
                return
            }
        }
    }

    func loopTurnEnded(_ loop: EventLoop<ControlLoop>) -> Bool { false }

    // MARK: Accept

    /// Accepts what is queued (the listeners are level-triggered: what is left wakes the next
    /// turn), making room at the listener's limit.
    private func acceptAll(_ loop: EventLoop<ControlLoop>, listener: Listener) {
        // Backed off: the retry timer, or a closing connection, brings it back.
        if listener.backoff.paused { return }
        for _ in 0..<64 {
            let accepted: Posix.Accepted?
            do {
                switch listener.fd {
                case .some(let fd): accepted = try Posix.accept(fd)
                case .none: accepted = nil
                }
            } catch {
                if acceptFailed(loop, listener, error) { continue }
                return
            }
            if listener.backoff.inEpisode { acceptWorked(loop, listener) }
            guard let accepted else { return }
            admit(accepted.takeDescriptor(), listener: listener, loop)
        }
    }

    /// True when `listener` may take one more connection: under its limit, or at it once the
    /// connection that has waited longest (idle, or with an incomplete request) is closed. A
    /// connection writing an answer or lingering after one is never chosen; when all are, the
    /// new connection is refused.
    private func makeRoom(on listener: Listener, _ loop: EventLoop<ControlLoop>) -> Bool {
        let limit = settings.options.maxConnections(listener.kind)
        guard listener.open >= limit else { return true }
        var oldest: ControlConnection?
        for connection in connections.values where connection.kind == listener.kind && connection.isEvictable {
            // Connections accepted in one turn share a time; the older id goes first.
            if let current = oldest, (current.waitingSince, current.id) <= (connection.waitingSince, connection.id) { continue }
            oldest = connection
        }
        if let oldest {
            log.debug("control.connection_evicted", [
                "connection": "\(oldest.id)", "listener": listener.kind.listenerLabel,
                "waiting": oldest.requestInProgress ? "request" : "idle",
            ])
            close(oldest, loop)
            listener.evicted += 1
        } else {
            listener.refused += 1
        }
        // At most one line per interval, with what happened since the last one.
        if listener.limitLoggedAt.map({ loop.now &- $0 >= Self.limitLogInterval }) ?? true {
            log.warning("control.connection_limit", [
                "listener": listener.kind.listenerLabel, "limit": "\(limit)",
                "evicted": "\(listener.evicted)", "refused": "\(listener.refused)",
            ])
            listener.limitLoggedAt = loop.now
            listener.evicted = 0
            listener.refused = 0
        }
        return oldest != nil
    }

    /// Counts a failed accept and follows the back-off. True: accept the next connection.
    private func acceptFailed(_ loop: EventLoop<ControlLoop>, _ listener: Listener, _ error: SystemError) -> Bool {
        let reason = AcceptFailureReason(errno: error.errno)
        failureCounter(listener, reason).increment()
        let wasInEpisode = listener.backoff.inEpisode
        switch listener.backoff.failed(reason, now: loop.now) {
        case .acceptNext:
            return true
        case .pause(let retryAt, let startsEpisode):
            if !wasInEpisode { exhaustedListeners += 1 }
            if startsEpisode {
                log.warning("accept.exhausted", [
                    "listener": listener.kind.listenerLabel, "reason": reason.rawValue, "error": error.reason,
                ])
            }
            // Level-triggered: a listener still watched would wake every turn and spin.
            watch(loop, listener, false)
            loop.scheduleCoarse(at: retryAt, tag: Self.listenerTagBit | UInt64(listener.index))
            return false
        }
    }

    /// An accept call worked (or found the queue empty) during an episode.
    private func acceptWorked(_ loop: EventLoop<ControlLoop>, _ listener: Listener) {
        switch listener.backoff.succeeded(now: loop.now) {
        case .none:
            break
        case .resume(let checkAt):
            watch(loop, listener, true)
            loop.scheduleCoarse(at: checkAt, tag: Self.listenerTagBit | UInt64(listener.index))
        }
    }

    private func acceptRetryDue(_ loop: EventLoop<ControlLoop>, listener: Listener) {
        switch listener.backoff.timerFired(now: loop.now) {
        case .none:
            break
        case .retry:
            acceptAll(loop, listener: listener)
        case .ended(let episode):
            exhaustedListeners -= 1
            log.info("accept.recovered", [
                "listener": listener.kind.listenerLabel, "reason": episode.reason.rawValue,
                "failures": "\(episode.failures)", "duration_ms": "\((episode.recoveredAt &- episode.startedAt) / 1_000_000)",
            ])
        }
    }

    /// Turns a listener's read interest on or off.
    private func watch(_ loop: EventLoop<ControlLoop>, _ listener: Listener, _ on: Bool) {
        guard listener.watched != on, let registration = listener.registration else { return }
        switch listener.fd {
        case .some(let fd):
            do {
                try loop.modify(registration, fd, interest: on ? .readable : [])
                listener.watched = on
            } catch {
                log.warning("control.epoll_failed", ["error": "\(error)"])
            }
        case .none:
            break
        }
    }

    private func failureCounter(_ listener: Listener, _ reason: AcceptFailureReason) -> SharedCounter {
        if let counter = listener.failureCounters[reason] { return counter }
        let counter = settings.metrics.acceptFailures.sharedShard(labels: [listener.kind.listenerLabel, reason.rawValue])
        listener.failureCounters[reason] = counter
        return counter
    }

    private func admit(_ fd: consuming FileDescriptor, listener: Listener, _ loop: EventLoop<ControlLoop>) {
        let kind = listener.kind
        var refusedUID: UInt32?
        if kind == .unix {
            do {
                let credentials = try Posix.peerCredentials(fd)
                if !allowedUIDs.contains(credentials.uid) {
                    refusedUID = credentials.uid
                    log.warning("control.peer_refused", ["uid": "\(credentials.uid)", "pid": "\(credentials.pid)"])
                }
            } catch {
                refusedUID = UInt32.max
                log.warning("control.peer_refused", ["error": "\(error)"])
            }
        }
        // Room is made only for a peer that may use the API: a refused one (answered 403) never
        // evicts an allowed user's connection, and at the limit it is simply closed.
        if refusedUID != nil, listener.open >= settings.options.maxConnections(kind) {
            fd.close()
            return
        }
        guard makeRoom(on: listener, loop) else {
            fd.close()
            return
        }
        let id = nextConnectionID
        nextConnectionID += 1
        let connection = ControlConnection(id: id, kind: kind, fd: fd, limits: limits)
        connection.refusedUID = refusedUID
        do {
            switch connection.fd {
            case .some(let fd): connection.registration = try loop.register(fd, interest: .readable, tag: id)
            case .none: return
            }
        } catch {
            log.warning("control.register_failed", ["error": "\(error)"])
            connection.fd.take()?.close()
            return
        }
        connections[id] = connection
        listener.open += 1
        setDeadline(connection, .idle, after: settings.options.idleTimeout, loop)
    }

    // MARK: Reading and answering

    private func readAvailable(_ connection: ControlConnection, _ loop: EventLoop<ControlLoop>) {
        // A few reads per wake: one client must not hold the loop.
        for _ in 0..<4 {
            let result: IOResult<Int>
            do {
                switch connection.fd {
                case .some(let fd): result = try FileSystem.readSome(fd, into: &readBuffer)
                case .none: return
                }
            } catch {
                close(connection, loop)
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                connection.peerClosed = true
                if connection.phase == .lingering {
                    close(connection, loop)
                    return
                }
                connection.parser.finish()
                process(connection, loop)
                if connections[connection.id] != nil && connection.phase == .open && connection.pendingOutput == 0 {
                    close(connection, loop)
                }
                return
            case .processed(let count):
                if connection.phase != .open { continue }
                let wasIdle = !connection.requestInProgress
                connection.parser.feed(readBuffer[0..<count])
                if wasIdle {
                    setDeadline(connection, .request, after: settings.options.requestTimeout, loop)
                }
                process(connection, loop)
                guard connections[connection.id] != nil else { return }
                // Answers the client is not reading pile up: stop reading (and being woken for
                // input, which a level-triggered socket would do every turn) until they drain.
                if connection.pendingOutput > settings.options.maxBodyBytes {
                    setInterest(connection, .writable, loop)
                    return
                }
            }
        }
    }

    /// Turns parser events into answers, in order, until the parser needs more bytes.
    private func process(_ connection: ControlConnection, _ loop: EventLoop<ControlLoop>) {
        while connection.phase == .open {
            let event: HTTPRequestParser.Event?
            do {
                event = try connection.parser.next()
            } catch {
                log.info("control.bad_request", ["connection": "\(connection.id)", "error": error.description])
                respond(connection, Self.response(for: error), keepAlive: false, loop)
                break
            }
            guard let event else { break }
            switch event {
            case .head(let head):
                if let coding = Self.unsupportedCoding(head.headers) {
                    // The parser takes `gzip, chunked` (a proxy forwards it); this server would
                    // have to decode it, and decodes only chunked.
                    log.info("control.bad_request", ["connection": "\(connection.id)", "coding": coding])
                    respond(connection, Self.response(for: .unsupportedTransferCoding(coding)), keepAlive: false, loop)
                    break
                }
                connection.head = head
                connection.body.removeAll(keepingCapacity: true)
                if head.expectsContinue && head.framing != .none && head.framing != .contentLength(0) {
                    connection.output.append(contentsOf: Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                }
            case .body(let bytes):
                connection.body.append(contentsOf: bytes)
            case .end:
                guard let head = connection.head else { break }
                connection.head = nil
                let body = connection.body
                connection.body = []
                let response = answer(head, body: body, connection)
                armScheduleTimer(loop)
                let keepAlive = head.keepAlive && connection.refusedUID == nil
                respond(connection, response, keepAlive: keepAlive, loop)
                if keepAlive {
                    if connection.requestInProgress {
                        setDeadline(connection, .request, after: settings.options.requestTimeout, loop)
                    } else {
                        setDeadline(connection, .idle, after: settings.options.idleTimeout, loop)
                    }
                }
            }
        }
        flush(connection, loop)
    }

    private func answer(_ head: HTTPRequestHead, body: [UInt8], _ connection: ControlConnection) -> ControlResponse {
        if let uid = connection.refusedUID {
            return .error(403, code: "forbidden", message: uid == UInt32.max
                ? "the peer's credentials could not be read"
                : "uid \(uid) is not allowed on the control socket (see control.allowed_uids)")
        }
        if connection.kind == .tcp, let refusal = Self.browserRefusal(method: head.method, target: head.target, headers: head.headers) {
            return refusal
        }
        if connection.kind == .tcp, let token = settings.token, let session = pageSession {
            switch session.admit(method: head.method, target: head.target, headers: head.headers, token: token) {
            case .allowed: break
            case .answer(let response): return response
            }
        } else if connection.kind != .metrics, head.method == "GET",
                  let page = ControlRequest(method: head.method, target: head.target),
                  page.segments == ["ui"], page.queryValue("token") != nil {
            // A status page URL with a token, on a listener that needs none: just drop it.
            return StatusPageSession.dropToken
        }
        guard let request = ControlRequest(method: head.method, target: head.target, headers: head.headers, body: body) else {
            return .error(400, code: "invalid_target", message: "the request target must be a path with valid percent-escapes")
        }
        let response = service.handle(request, on: connection.kind)
        if request.method != "GET" { settings.snapshot.publish(service.state.config) }
        return response
    }

    /// Queues one answer; without keep-alive the connection closes after it.
    private func respond(_ connection: ControlConnection, _ response: ControlResponse, keepAlive: Bool, _ loop: EventLoop<ControlLoop>) {
        var head = HTTPResponseHead(status: response.status, headers: response.headers)
        if !keepAlive { head.headers.append(name: "Connection", value: "close") }
        let bytes: [UInt8]
        do {
            bytes = try HTTP1Serializer.response(head, body: response.body)
        } catch {
            log.error("control.response_invalid", ["error": "\(error)"])
            bytes = Array("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        }
        connection.output.append(contentsOf: bytes)
        if !keepAlive {
            connection.phase = .closing
            setDeadline(connection, .linger, after: settings.options.lingerTimeout, loop)
        }
    }

    private func flush(_ connection: ControlConnection, _ loop: EventLoop<ControlLoop>) {
        while connection.pendingOutput > 0 {
            let result: IOResult<Int>
            do {
                switch connection.fd {
                case .some(let fd): result = try FileSystem.writeSome(fd, connection.output, from: connection.outputOffset)
                case .none: return
                }
            } catch {
                close(connection, loop)
                return
            }
            switch result {
            case .processed(let written):
                connection.outputOffset += written
            case .wouldBlock:
                let backlogged = connection.pendingOutput > settings.options.maxBodyBytes
                setInterest(connection, backlogged ? .writable : [.readable, .writable], loop)
                return
            }
        }
        connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
        connection.outputOffset = 0
        switch connection.phase {
        case .open:
            setInterest(connection, .readable, loop)
            if connection.peerClosed { close(connection, loop) }
        case .closing:
            if connection.peerClosed {
                close(connection, loop)
                return
            }
            // Shut our side, then read and drop whatever the client still sends, so closing with
            // unread input does not turn into an RST that destroys the answer in flight.
            switch connection.fd {
            case .some(let fd): try? Posix.shutdown(fd, .write)
            case .none: break
            }
            connection.phase = .lingering
            setInterest(connection, .readable, loop)
        case .lingering:
            break
        }
    }

    private func setInterest(_ connection: ControlConnection, _ interest: Linux.EpollEvents, _ loop: EventLoop<ControlLoop>) {
        guard connection.interest != interest, let registration = connection.registration else { return }
        switch connection.fd {
        case .some(let fd):
            do {
                try loop.modify(registration, fd, interest: interest)
                connection.interest = interest
            } catch {
                log.warning("control.epoll_failed", ["error": "\(error)"])
            }
        case .none:
            break
        }
    }

    private func setDeadline(_ connection: ControlConnection, _ kind: ControlConnection.DeadlineKind, after delay: Duration, _ loop: EventLoop<ControlLoop>) {
        let deadline = Linux.monotonicNanoseconds() &+ Self.nanoseconds(delay)
        // Each idle stretch and each request starts a wait; a linger is no wait (never evicted).
        if kind != .linger { connection.waitingSince = loop.now }
        connection.deadline = deadline
        connection.deadlineKind = kind
        loop.schedule(at: deadline, tag: connection.id)
    }

    private func close(_ connection: ControlConnection, _ loop: EventLoop<ControlLoop>) {
        if let registration = connection.registration { loop.deregister(registration) }
        connection.registration = nil
        connection.fd.take()?.close()
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        for listener in listeners where listener.kind == connection.kind { listener.open -= 1 }
        if exhaustedListeners > 0 {
            for listener in listeners where listener.backoff.paused {
                if let retryAt = listener.backoff.descriptorFreed(now: loop.now) {
                    loop.scheduleCoarse(at: retryAt, tag: Self.listenerTagBit | UInt64(listener.index))
                }
            }
        }
    }

    // MARK: Helpers

    /// The guard against web pages on the TCP listener: a request whose `User-Agent` starts with
    /// `Mozilla/` (every browser's) is refused with 403 on Toxiproxy's paths, as Toxiproxy does
    /// (same text body), and on the rest of the API unless it is a GET — so a page in a browser
    /// can neither create a proxy nor POST a fault or a partition to a loopback port, while the
    /// status page (GET only) still opens. A page cannot send another `User-Agent` without a
    /// CORS preflight, which this listener never grants.
    /// - Returns: the refusal, or nil to go on.
    static func browserRefusal(method: String, target: String, headers: HTTPHeaders) -> ControlResponse? {
        guard headers.values(for: "user-agent").contains(where: { $0.hasPrefix("Mozilla/") }) else { return nil }
        if let first = ControlRequest(method: method, target: target)?.segments.first, ToxiproxyCompatibility.ownsPath(first) {
            return .text(403, "User agent not allowed\n")
        }
        if method == "GET" || method == "HEAD" { return nil }
        return .error(403, code: "forbidden", message:
            "a browser (User-Agent Mozilla/...) may only GET on the TCP control listener; \(method) needs a non-browser client")
    }

    /// `Authorization: Bearer <token>`, compared in constant time.
    static func authorised(_ headers: HTTPHeaders, token: [UInt8]) -> Bool {
        let values = headers.values(for: "authorization")
        guard values.count == 1 else { return false }
        let value = Array(values[0].utf8)
        let scheme = Array("bearer ".utf8)
        guard value.count > scheme.count,
              zip(value.prefix(scheme.count), scheme).allSatisfy({ ($0 | 0x20) == $1 || ($0 == 0x20 && $1 == 0x20) }) else {
            return false
        }
        return constantTimeEquals(Array(value.dropFirst(scheme.count)), token)
    }

    /// Whether `presented` equals `secret`, in time that depends only on the secret's length.
    static func constantTimeEquals(_ presented: [UInt8], _ secret: [UInt8]) -> Bool {
        var difference = UInt8(presented.count == secret.count ? 0 : 1)
        for (index, byte) in secret.enumerated() {
            let other = index < presented.count ? presented[index] : 0
            difference |= byte ^ other
        }
        return difference == 0
    }

    /// The first transfer coding of a request other than `chunked`, which is all this server
    /// decodes; nil when there is none.
    static func unsupportedCoding(_ headers: HTTPHeaders) -> String? {
        headers.tokens(for: "transfer-encoding").first { $0 != "chunked" }
    }

    static func response(for error: HTTPParseError) -> ControlResponse {
        let status = error.suggestedStatus
        let code: String
        switch status {
        case 413: code = "body_too_large"
        case 431: code = "head_too_large"
        case 501: code = "not_implemented"
        case 505: code = "unsupported_version"
        default: code = "malformed_request"
        }
        if case .unsupportedTransferCoding = error {
            return .error(status, code: code, message: error.description + "; the control API decodes chunked only")
        }
        return .error(status, code: code, message: error.description)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    static func render(_ duration: Duration) -> String {
        DurationParser.render(duration)
    }
}

@available(*, unavailable)
extension ControlLoop: Sendable {}

extension ControlListenerKind {
    /// The `listener` label of its `faultline_accept_failures_total` series and log lines.
    var listenerLabel: String {
        switch self {
        case .tcp: "control-tcp"
        case .unix: "control-unix"
        case .metrics: "metrics"
        }
    }
}

extension SocketAddress {
    /// The socket address of a config endpoint. (FaultlineProxy has the same internal helper;
    /// System cannot see Core's `Endpoint`, so each side converts.)
    init(_ endpoint: Endpoint) {
        switch endpoint.address {
        case .v4(let a, let b, let c, let d): self.init(ipv4: a, b, c, d, port: endpoint.port)
        case .v6(let bytes): self.init(ipv6: bytes, port: endpoint.port)
        }
    }
}
