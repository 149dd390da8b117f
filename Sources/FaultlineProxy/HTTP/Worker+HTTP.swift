import FaultlineCore
import FaultlineHTTP1
import FaultlineHTTP2
import FaultlineLoop
import FaultlineMetrics
import FaultlineSystem

extension Worker {
    /// How long a connection the proxy closes keeps reading (and dropping) what the client still
    /// sends, so the kernel does not answer those bytes with an RST that destroys the reply.
    static var lingerNanoseconds: UInt64 { 1_000_000_000 }

    /// An `http` connection was admitted and passed its connection-level faults: start reading
    /// requests. The upstream is dialled when the first request is to be forwarded.
    func openHTTP(_ loop: EventLoop<Worker>, _ connection: Connection, route: Route) {
        connection.isHTTP = true
        connection.state = .open
        httpRelay(loop, connection)
    }

    /// The connection's codec session, made once the client has sent something (or hung up).
    private func makeSession(_ c: Connection) -> HTTPSessionBox? {
        guard let route = routes[c.routeName] else { return nil }
        let session = HTTPSessionBox(HTTP1SessionStateMachine(
            routeName: route.spec.name, serial: c.serial, faults: route.httpFaults, logging: c.log.isEnabled))
        c.http = session
        return session
    }

    /// Dials the upstream for the first forwarded request.
    private func dialHTTP(_ loop: EventLoop<Worker>, _ connection: Connection, _ session: HTTPSessionBox) {
        guard session.machine.upstream == .none, connection.upstream == nil else { return }
        session.machine.upstream = .connecting
        dialUpstream(loop, connection)
    }

    /// Starts the upstream connect of an http connection, honouring `connect_delay` and a
    /// partition that holds connects.
    func dialUpstream(_ loop: EventLoop<Worker>, _ connection: Connection) {
        guard connection.upstream == nil, let route = routes[connection.routeName] else { return }
        if let delay = connection.policy.connectDelay {
            connection.connectDelayPending = true
            loop.schedule(at: loop.now &+ delay.value.nanosecondsClamped, tag: tag(.connectionFaultTimer, connection))
            return
        }
        if connection.policy.holdConnect != nil {
            connection.connectHeld = true
            return
        }
        startConnect(loop, connection, route: route)
    }

    /// Epoll readiness on an http connection.
    func httpReady(_ loop: EventLoop<Worker>, _ connection: Connection, side: Connection.Side) {
        if side == .upstream, connection.httpUpstreamConnecting, connection.upstream != nil {
            finishConnect(loop, connection)
            return
        }
        httpRelay(loop, connection)
    }

    /// The upstream connect of an http connection failed: the waiting request gets a 502.
    func httpConnectFailed(_ loop: EventLoop<Worker>, _ connection: Connection, reason: ConnectFailure) {
        if let bridge = connection.h2 { return h2ConnectFailed(loop, connection, bridge, reason: reason) }
        closeUpstream(loop, connection)
        connection.upstreamWritable = false
        connection.upstreamReadable = false
        guard let session = connection.http else { return }
        session.machine.upstream = .none
        session.machine.upstreamUnreachable(reason: reason.rawValue, now: loop.now)
        httpRelay(loop, connection)
    }

    /// The session's timer: a delayed head, spaced copies, or the end of a lingering close.
    func httpTimerFired(_ loop: EventLoop<Worker>, _ connection: Connection) {
        if let bridge = connection.h2 {
            bridge.armedTimer = 0
            bridge.timerFired(now: loop.now)
            h2Relay(loop, connection, bridge)
            return
        }
        guard let session = connection.http else { return }
        if session.machine.lingerUntil != 0 {
            if loop.now >= session.machine.lingerUntil { close(loop, connection, reset: false) }
            return
        }
        session.machine.timerFired(now: loop.now, connection.up.buffer)
        httpRelay(loop, connection)
    }

    /// Moves an http connection's bytes: read both sides, let the codec turn them into output,
    /// write what each side takes, until nothing moves or the budget is spent.
    func httpRelay(_ loop: EventLoop<Worker>, _ c: Connection) {
        guard c.state == .open else { return }
        if let bridge = c.h2 { return h2Relay(loop, c, bridge) }
        if c.http == nil {
            // The first bytes (or ALPN) choose the codec; read them into the buffer first.
            guard c.clientReadable || c.clientHangup || c.up.buffer.count > 0, let route = routes[c.routeName] else { return }
            var budget = wakeBudget
            // Until the preface is told apart, reading goes on while the socket has more (the
            // end of stream may sit behind the first bytes, with no edge to come for it).
            while c.up.buffer.count < H2Preface.bytes.count && httpFlavour(c) == .undecided {
                switch readSource(loop, c, &c.up, from: .client, budget: &budget) {
                case .failed: return close(loop, c, reset: true)
                case .progressed: continue
                case .idle: break
                }
                break
            }
            switch httpFlavour(c) {
            case .h2:
                if let bridge = makeH2(loop, c, route: route) { h2Relay(loop, c, bridge) }
                return
            case .undecided:
                return
            case .http1:
                break
            }
        }
        guard let session = c.http ?? makeSession(c) else { return }
        guard !session.machine.inRelay else { return }
        if session.machine.lingerUntil != 0 {
            // A close_notify that met a full socket when the linger began goes out now.
            if let client = c.tls?.client { flushCiphertext(c, .client, client) }
            linger(loop, c)
            return
        }
        if let tls = c.tls, !flushPendingTLS(c, tls) {
            return closeAfterReset(loop, c, session)
        }
        session.machine.inRelay = true
        defer { session.machine.inRelay = false }
        var budget = wakeBudget
        while budget > 0 {
            var progressed = false
            switch httpRead(loop, c, .upstream, budget: &budget) {
            case .failed: return closeAfterReset(loop, c, session, clientGone: true)
            case .progressed: progressed = true
            case .idle: break
            }
            if session.machine.upstream == .connected {
                switch httpRead(loop, c, .downstream, budget: &budget) {
                case .failed: return closeAfterReset(loop, c, session)
                case .progressed: progressed = true
                case .idle: break
                }
            }
            let now = loop.now
            let seed = plan.seed
            let ledger = attemptLedger
            // Read before the mutating call: the closure runs inside it.
            let faults = session.machine.faults
            if session.machine.advanceRequests(c.up.buffer, ended: c.up.sourceEnded, now: now, decide: { facts, index in
                var counting = LedgerCounting(ledger: ledger)
                return HTTPFaultDecider.decide(
                    faults: faults, request: facts, seed: seed, serial: c.serial, requestIndex: index,
                    attempts: &counting)
            }) { progressed = true }
            if c.up.sourceEnded && session.machine.clientLeftDuringHold(now: now) { progressed = true }
            if session.machine.upstream == .connected || c.down.sourceEnded {
                if session.machine.advanceResponses(c.down.buffer, ended: c.down.sourceEnded, now: now) { progressed = true }
            }
            if !session.machine.effects.isEmpty { progressed = true }
            guard applyEffects(loop, c, session) else { return }
            // A connect that finished or failed at once inside applyEffects left its own effects.
            if !session.machine.effects.isEmpty { progressed = true }

            switch httpWrite(loop, c, .upstream, budget: &budget) {
            case .failed: return closeAfterReset(loop, c, session)
            case .progressed: progressed = true
            case .idle: break
            }
            switch httpWrite(loop, c, .downstream, budget: &budget) {
            case .failed: return closeAfterReset(loop, c, session, clientGone: true)
            case .progressed: progressed = true
            case .idle: break
            }
            guard settle(loop, c, session) else { return }
            if !progressed { break }
        }
        guard enforceFaults(loop, c, .upstream), enforceFaults(loop, c, .downstream) else { return }
        if let due = session.machine.timerAt, due != session.machine.armedTimer {
            session.machine.armedTimer = due
            loop.schedule(at: due, tag: tag(.httpTimer, c))
        }
        if budget <= 0 && !c.onReadyList {
            c.onReadyList = true
            readyList.append(c)
        }
    }

    /// Carries out what the codec asked for: dial, journal, count, close.
    /// Returns false when the connection was closed.
    private func applyEffects(_ loop: EventLoop<Worker>, _ c: Connection, _ session: HTTPSessionBox) -> Bool {
        guard !session.machine.effects.isEmpty else { return true }
        let effects = session.machine.takeEffects()
        recordHTTPEffects(c, effects)
        if effects.dial { dialHTTP(loop, c, session) }
        switch effects.close {
        case .reset?:
            close(loop, c, reset: true)
            return false
        case .afterFlush?:
            session.machine.closeWhenFlushed = true
        case nil:
            break
        }
        return true
    }

    /// Counts, journals and logs what a codec (HTTP/1.1 or HTTP/2) reported.
    func recordHTTPEffects(_ c: Connection, _ effects: HTTP1SessionStateMachine.Effects) {
        for injection in effects.injections {
            injectionCounter(route: c.routeName, fault: injection.faultID, type: injection.type).increment()
        }
        if let events {
            for event in effects.journal { events.record(event) }
        }
        for done in effects.completed {
            c.counters.http.record(code: done.code, nanoseconds: done.nanoseconds)
            if c.log.isEnabled { logRequest(c, done) }
        }
    }

    /// End-of-connection rules after a round of writes. Returns false when it closed.
    private func settle(_ loop: EventLoop<Worker>, _ c: Connection, _ session: HTTPSessionBox) -> Bool {
        if session.machine.tunnel {
            // A byte relay now: FINs pass once everything before them was written.
            passFIN(loop, c, session, .upstream)
            passFIN(loop, c, session, .downstream)
            if c.up.finSent && c.down.finSent && !(c.tls?.hasPendingOutput ?? false) {
                close(loop, c, reset: false)
                return false
            }
            return true
        }
        if c.up.sourceEnded && (session.machine.hung || (session.machine.exchange == nil && session.machine.toClient.isEmpty)) {
            // The client is gone and owed nothing.
            session.machine.closeWhenFlushed = true
        }
        if session.machine.closeWhenFlushed && session.machine.toClient.isEmpty && !(c.tls?.client.map { $0.session.pendingOutputCount > 0 } ?? false) {
            if c.up.sourceEnded {
                // Under TLS the client is owed our close_notify before the socket closes, or a
                // close-delimited answer would look cut short.
                if let client = c.tls?.client, !client.shutdownDone, shutdownWrite(c, .client), !client.shutdownDone {
                    return true  // the rest goes out on EPOLLOUT
                }
                close(loop, c, reset: false)
                return false
            }
            // FIN to the client, then read and drop what it still sends until it closes too.
            shutdownWrite(c, .client)
            c.down.finSent = true
            closeUpstream(loop, c)
            session.machine.lingerUntil = loop.now &+ Worker.lingerNanoseconds
            loop.scheduleCoarse(at: session.machine.lingerUntil, tag: tag(.httpTimer, c))
            linger(loop, c)
            return false
        }
        return true
    }

    /// Closes the upstream socket alone; the client side stays open.
    func closeUpstream(_ loop: EventLoop<Worker>, _ c: Connection) {
        if let registration = c.upstreamRegistration { loop.deregister(registration) }
        c.upstreamRegistration = nil
        c.upstream.take()?.close()
        c.tls?.upstream = nil
    }

    /// Reads and drops the client's bytes until it closes; then the connection closes.
    private func linger(_ loop: EventLoop<Worker>, _ c: Connection) {
        while c.clientReadable {
            let result = c.withSocket(.client) { (fd) -> IOResult<Int>? in
                try? c.up.buffer.read(from: fd, limit: wakeBudget, pool: pool)
            }
            switch result {
            case .some(.some(.processed(let n))) where n > 0:
                continue  // not committed: dropped
            case .some(.some(.wouldBlock)):
                c.clientReadable = false
            default:
                c.up.buffer.release(to: pool)
                close(loop, c, reset: false)
                return
            }
        }
        c.up.buffer.release(to: pool)
    }

    /// In a tunnel: passes a side's FIN on once everything before it was written and the faults
    /// let it (slow_close holds it, a blackhole partition keeps it until it heals).
    private func passFIN(_ loop: EventLoop<Worker>, _ c: Connection, _ session: HTTPSessionBox, _ flow: Flow) {
        let destination: Connection.Side = flow == .upstream ? .upstream : .client
        var done: Bool
        switch flow {
        case .upstream:
            done = c.up.sourceEnded && !c.up.finSent && session.machine.toUpstream.isEmpty && c.up.buffer.isEmpty
                && (c.up.faults?.state.finMayPass(now: loop.now) ?? true)
            if done { c.up.finSent = true }
        case .downstream:
            done = c.down.sourceEnded && !c.down.finSent && session.machine.toClient.isEmpty && c.down.buffer.isEmpty
                && (c.down.faults?.state.finMayPass(now: loop.now) ?? true)
            if done { c.down.finSent = true }
        }
        if done { shutdownWrite(c, destination) }
    }

    /// A read or write failed: the connection is reset. `clientGone` when the client's side failed
    /// (its request is logged as aborted by the client).
    private func closeAfterReset(_ loop: EventLoop<Worker>, _ c: Connection, _ session: HTTPSessionBox, clientGone: Bool = false) {
        if let exchange = session.machine.exchange, !exchange.counted {
            let done = HTTP1SessionStateMachine.finished(exchange, code: "reset", now: loop.now)
            c.counters.http.record(code: done.code, nanoseconds: done.nanoseconds)
            if c.log.isEnabled { logRequest(c, done, outcome: clientGone ? .abortedByClient : nil) }
        }
        close(loop, c, reset: true)
    }

    /// Adds a finished request to the route's log.
    private func logRequest(_ c: Connection, _ done: HTTP1SessionStateMachine.FinishedRequest, outcome: RequestOutcome? = nil) {
        c.log.record(RequestRecord(
            seq: 0, timestamp: c.log.wallClock(done.startedAt), route: "", conn: c.serial, request: done.index,
            source: c.source, http: done.http, outcome: outcome ?? RequestOutcome(label: done.code) ?? .closed,
            fault: done.fault, upstreamNanoseconds: done.upstreamNanoseconds, totalNanoseconds: done.nanoseconds,
            grpcStatus: done.grpcStatus))
    }

    /// One read from the source of `flow` into its buffer, byte faults applied as on tcp routes.
    private func httpRead(_ loop: EventLoop<Worker>, _ c: Connection, _ flow: Flow, budget: inout Int) -> IOOutcome {
        switch flow {
        case .upstream: return readSource(loop, c, &c.up, from: .client, budget: &budget)
        case .downstream: return readSource(loop, c, &c.down, from: .upstream, budget: &budget)
        }
    }

    /// Carries out the front of a direction's output queue as far as its destination takes it.
    private func httpWrite(_ loop: EventLoop<Worker>, _ c: Connection, _ flow: Flow, budget: inout Int) -> IOOutcome {
        guard let session = c.http else { return .idle }
        switch flow {
        case .upstream:
            let connected = session.machine.upstream == .connected
            return carryOut(loop, c, &session.machine.toUpstream, &c.up, to: .upstream, connected: connected, budget: &budget)
        case .downstream:
            return carryOut(loop, c, &session.machine.toClient, &c.down, to: .client, connected: true, budget: &budget)
        }
    }

    /// What writing bytes the proxy made did.
    enum MadeWrite {
        /// This many went out (maybe fewer than offered).
        case wrote(Int)
        /// The socket would block (the side is marked blocked).
        case blocked
        case noSocket
        case failed
    }

    /// Writes bytes the proxy made (a reply, HTTP/2 frames) to `destination`, counting them in
    /// `faultline_bytes_total` and the wake's budget.
    func writeMade(_ c: Connection, _ destination: Connection.Side, _ bytes: ArraySlice<UInt8>, budget: inout Int) -> MadeWrite {
        do {
            guard let result = try writeBytes(c, destination, bytes) else { return .noSocket }
            switch result {
            case .processed(let written):
                (destination == .upstream ? c.counters.bytesUpstream : c.counters.bytesDownstream).add(UInt64(written))
                budget -= written
                return .wrote(written)
            case .wouldBlock:
                c.setBlocked(destination)
                return .blocked
            }
        } catch {
            return .failed
        }
    }

    func carryOut(
        _ loop: EventLoop<Worker>, _ c: Connection, _ queue: inout OutputQueue, _ stream: inout HalfStream,
        to destination: Connection.Side, connected: Bool, budget: inout Int
    ) -> IOOutcome {
        var outcome = IOOutcome.idle
        while budget > 0, let op = queue.first {
            let writable = destination == .upstream
                ? c.upstreamWritable && connected : c.clientWritable
            switch op {
            case .discard(let n):
                stream.buffer.discard(n)
                stream.bytesOut &+= UInt64(n)
                queue.consumed(n)
                outcome = .progressed
            case .relay(let n):
                guard writable else { return outcome }
                switch writeHeld(loop, c, &stream, to: destination, limit: n, budget: &budget) {
                case .wrote(let written, let short):
                    queue.consumed(written)
                    outcome = .progressed
                    if short { return outcome }
                case .held, .blocked:
                    return outcome
                case .failed:
                    return .failed
                }
            case .inject(let bytes, let offset):
                guard writable else { return outcome }
                switch writeMade(c, destination, bytes[offset...], budget: &budget) {
                case .wrote(let written):
                    queue.injected(written)
                    outcome = .progressed
                case .blocked, .noSocket:
                    return outcome
                case .failed:
                    return .failed
                }
            }
        }
        if stream.buffer.isEmpty { stream.buffer.releaseIfEmpty(to: pool) }
        return outcome
    }
}
