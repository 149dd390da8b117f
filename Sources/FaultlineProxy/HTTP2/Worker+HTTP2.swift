import FaultlineCore
import FaultlineHTTP2
import FaultlineLoop
import FaultlineMetrics
import FaultlineSystem

/// HTTP/2 on an `http` route: the client's preface (or ALPN `h2`) turns the connection's codec
/// into an `H2Bridge`; bytes move socket → half-stream buffer (byte faults on the read side) →
/// nghttp2 (byte faults' write allowance decides how much enters) → events → the other session →
/// output queue → socket.
extension Worker {
    /// Frames made ready for a side while at most this much of its output waits for the socket.
    static var h2OutputWatermark: Int { 256 * 1024 }

    /// What the client's first bytes (or its ALPN) say the connection speaks.
    enum HTTPFlavour {
        case http1
        case h2
        case undecided
    }

    func httpFlavour(_ c: Connection) -> HTTPFlavour {
        // Nothing is made for a connection that has sent nothing yet.
        guard c.up.buffer.count > 0 else { return c.up.sourceEnded ? .http1 : .undecided }
        if let alpn = c.tls?.client?.session.negotiatedALPN { return alpn == "h2" ? .h2 : .http1 }
        let probe = c.up.buffer.copyBytes(from: 0, count: min(c.up.buffer.count, H2Preface.bytes.count))
        switch H2Preface.match(probe) {
        case .yes: return .h2
        case .no: return .http1
        case .maybe: return c.up.sourceEnded ? .http1 : .undecided
        }
    }

    /// Makes the connection's HTTP/2 engine; nil when nghttp2 could not (the connection closes).
    func makeH2(_ loop: EventLoop<Worker>, _ c: Connection, route: Route) -> H2Bridge? {
        do {
            let bridge = try H2Bridge(routeName: route.spec.name, serial: c.serial, faults: route.httpFaults, logging: c.log.isEnabled)
            c.h2 = bridge
            return bridge
        } catch {
            log.warning("http2.session_failed", ["route": c.routeName, "error": error.description])
            close(loop, c, reset: true)
            return nil
        }
    }

    /// Moves an HTTP/2 connection's bytes until nothing moves or the budget is spent.
    func h2Relay(_ loop: EventLoop<Worker>, _ c: Connection, _ bridge: H2Bridge) {
        guard c.state == .open else { return }
        if let tls = c.tls, !flushPendingTLS(c, tls) { return h2Close(loop, c, bridge, reset: true) }
        if let deadline = bridge.closeDeadline, loop.now >= deadline { return h2Close(loop, c, bridge, reset: true) }
        var budget = wakeBudget
        while budget > 0 {
            var progressed = false
            switch readSource(loop, c, &c.up, from: .client, budget: &budget) {
            case .failed: return h2Close(loop, c, bridge, reset: true, clientGone: true)
            case .progressed: progressed = true
            case .idle: break
            }
            if bridge.upstreamPhase == .connected {
                switch readSource(loop, c, &c.down, from: .upstream, budget: &budget) {
                case .failed:
                    h2UpstreamEnded(loop, c, bridge)
                    progressed = true
                case .progressed: progressed = true
                case .idle: break
                }
            }
            switch feed(loop, c, &c.up, bridge) {
            case .failed: progressed = true  // the bridge answers with GOAWAY and closes
            case .progressed: progressed = true
            case .idle: break
            }
            if bridge.upstreamPhase == .connected {
                switch feed(loop, c, &c.down, bridge) {
                case .failed:
                    h2UpstreamEnded(loop, c, bridge)
                    progressed = true
                case .progressed: progressed = true
                case .idle: break
                }
                if c.down.sourceEnded && c.down.buffer.isEmpty {
                    h2UpstreamEnded(loop, c, bridge)
                    progressed = true
                }
            }
            let seed = plan.seed
            let ledger = attemptLedger
            let faults = bridge.faults
            // Act, then make frames, until acting on what the sends queued (credit for body bytes
            // that went out) makes no more: the frames of one pass go out in one write a side.
            for _ in 0..<4 {
                if bridge.advance(now: loop.now, decide: { facts, index in
                    var counting = LedgerCounting(ledger: ledger)
                    return HTTPFaultDecider.decide(
                        faults: faults, request: facts, seed: seed, serial: c.serial, requestIndex: index,
                        attempts: &counting, http2: true)
                }) { progressed = true }
                guard h2ApplyEffects(loop, c, bridge) else { return }
                if h2Flush(loop, c, bridge, budget: &budget) { progressed = true }
                guard h2ApplyEffects(loop, c, bridge) else { return }
                if !bridge.server.hasEvents && !(bridge.upstream?.hasEvents ?? false) { break }
            }

            switch carryOut(loop, c, &bridge.toUpstream, &c.up, to: .upstream, connected: bridge.upstreamPhase == .connected, budget: &budget) {
            case .failed:
                h2UpstreamEnded(loop, c, bridge)
                progressed = true
            case .progressed: progressed = true
            case .idle: break
            }
            switch carryOut(loop, c, &bridge.toClient, &c.down, to: .client, connected: true, budget: &budget) {
            case .failed: return h2Close(loop, c, bridge, reset: true, clientGone: true)
            case .progressed: progressed = true
            case .idle: break
            }
            if c.up.sourceEnded && c.up.buffer.isEmpty {
                // The client is gone: so is every stream it had open.
                return h2Close(loop, c, bridge, reset: false, clientGone: true)
            }
            if (bridge.closeWhenFlushed || bridge.server.isDone) && bridge.toClient.isEmpty && !bridge.server.wantsWrite
                && !bridge.server.hasEvents
                && !(c.tls?.client.map { $0.session.pendingOutputCount > 0 } ?? false) {
                return h2Close(loop, c, bridge, reset: false)
            }
            if !progressed && !bridge.server.hasEvents && !(bridge.upstream?.hasEvents ?? false) { break }
        }
        guard enforceFaults(loop, c, .upstream), enforceFaults(loop, c, .downstream) else { return }
        if let due = bridge.timerAt, due != bridge.armedTimer {
            bridge.armedTimer = due
            loop.schedule(at: due, tag: tag(.httpTimer, c))
        }
        if budget <= 0 && !c.onReadyList {
            c.onReadyList = true
            readyList.append(c)
        }
    }

    /// Hands what the byte faults let through of a half-stream's buffer to its session.
    private func feed(_ loop: EventLoop<Worker>, _ c: Connection, _ stream: inout HalfStream, _ bridge: H2Bridge) -> IOOutcome {
        let held = stream.buffer.count
        guard held > 0 else { return .idle }
        var allowance = held
        if let faults = stream.faults {
            allowance = min(allowance, faults.state.writeAllowance(
                held: held, written: stream.bytesOut, kept: stream.bytesIn, now: loop.now))
        }
        guard allowance > 0 else { return .idle }
        let fromClient = stream.flow == .upstream
        let accepted = stream.buffer.withBytes(from: 0) { span in
            span.withUnsafeBufferPointer { buffer in
                let bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<allowance])
                return fromClient ? bridge.receiveFromClient(bytes, now: loop.now) : bridge.receiveFromUpstream(bytes, now: loop.now)
            }
        }
        stream.buffer.discard(allowance)
        stream.bytesOut &+= UInt64(allowance)
        stream.faults?.state.didWrite(allowance, written: stream.bytesOut, now: loop.now)
        if stream.buffer.isEmpty { stream.buffer.releaseIfEmpty(to: pool) }
        return accepted ? .progressed : .failed
    }

    /// Takes the frames both sessions have ready (below the watermark of what waits for each
    /// socket). With nothing queued before them they go straight to the socket from the worker's
    /// scratch buffers; what the socket does not take waits in the side's output queue.
    private func h2Flush(_ loop: EventLoop<Worker>, _ c: Connection, _ bridge: H2Bridge, budget: inout Int) -> Bool {
        let watermark = Worker.h2OutputWatermark
        let clientRoom = watermark - bridge.toClient.pendingInjectedBytes
        let upstreamRoom = watermark - bridge.toUpstream.pendingInjectedBytes
        guard clientRoom > 0 || upstreamRoom > 0 else { return false }
        var toClient = h2ScratchClient
        var toUpstream = h2ScratchUpstream
        h2ScratchClient = []
        h2ScratchUpstream = []
        toClient.removeAll(keepingCapacity: true)
        toUpstream.removeAll(keepingCapacity: true)
        bridge.flush(
            toClient: &toClient, clientLimit: max(0, clientRoom),
            toUpstream: &toUpstream, upstreamLimit: max(0, upstreamRoom), now: loop.now)
        let made = !toClient.isEmpty || !toUpstream.isEmpty
        h2Send(c, &bridge.toClient, toClient, to: .client, writable: c.clientWritable, budget: &budget)
        h2Send(c, &bridge.toUpstream, toUpstream, to: .upstream,
               writable: c.upstreamWritable && bridge.upstreamPhase == .connected, budget: &budget)
        h2ScratchClient = toClient
        h2ScratchUpstream = toUpstream
        return made
    }

    /// Writes `bytes` to `side` at once when nothing waits before them; the rest (or all, when
    /// the socket is not writable or a write failed: the next carry-out reports it) is queued.
    private func h2Send(
        _ c: Connection, _ queue: inout OutputQueue, _ bytes: [UInt8], to side: Connection.Side, writable: Bool, budget: inout Int
    ) {
        guard !bytes.isEmpty else { return }
        var offset = 0
        if queue.isEmpty && writable, case .wrote(let written) = writeMade(c, side, bytes[...], budget: &budget) {
            offset = written
        }
        if offset < bytes.count { queue.inject(Array(bytes[offset...])) }
    }

    /// Carries out what the bridge asked for. Returns false when the connection was closed.
    private func h2ApplyEffects(_ loop: EventLoop<Worker>, _ c: Connection, _ bridge: H2Bridge) -> Bool {
        for failure in bridge.takeProtocolErrors() {
            h2ProtocolErrorCounter(route: c.routeName, side: failure.side, reason: failure.reason).increment()
        }
        guard !bridge.effects.isEmpty else { return true }
        let effects = bridge.takeEffects()
        recordHTTPEffects(c, effects)
        if effects.dial {
            bridge.upstreamPhase = .connecting
            dialUpstream(loop, c)
        }
        if effects.close == .reset {
            h2Close(loop, c, bridge, reset: true)
            return false
        }
        return c.state == .open
    }

    /// The upstream connection closed or failed: its streams end (502 or reset), the client is
    /// sent GOAWAY, and the connection ends once the streams it still has are done.
    private func h2UpstreamEnded(_ loop: EventLoop<Worker>, _ c: Connection, _ bridge: H2Bridge) {
        guard c.upstream != nil else { return }
        bridge.upstreamGone(now: loop.now, reason: "upstream closed the connection")
        bridge.goAwayToClient()
        closeUpstream(loop, c)
        c.upstreamReadable = false
        c.upstreamWritable = false
        c.down.buffer.release(to: pool)
    }

    /// The upstream connect of an HTTP/2 connection failed: waiting streams get 502; the next
    /// request dials again.
    func h2ConnectFailed(_ loop: EventLoop<Worker>, _ c: Connection, _ bridge: H2Bridge, reason: ConnectFailure) {
        closeUpstream(loop, c)
        c.upstreamWritable = false
        c.upstreamReadable = false
        bridge.upstreamGone(now: loop.now, reason: "upstream connect failed: \(reason.rawValue)")
        bridge.toUpstream = OutputQueue()
        h2Relay(loop, c, bridge)
    }

    /// Ends the connection, counting the streams still open.
    func h2Close(_ loop: EventLoop<Worker>, _ c: Connection, _ bridge: H2Bridge, reset: Bool, clientGone: Bool = false) {
        bridge.connectionClosed(now: loop.now, clientGone: clientGone)
        recordHTTPEffects(c, bridge.takeEffects())
        if !reset, let client = c.tls?.client, !client.shutdownDone {
            _ = shutdownWrite(c, .client)
        }
        close(loop, c, reset: reset)
    }

    func h2ProtocolErrorCounter(route: String, side: String, reason: String) -> Counter {
        Self.shard(&h2ErrorCounters, H2ErrorKey(route: route, side: side, reason: reason)) {
            metrics.http2ProtocolErrors.shard(labels: [route, side, reason], worker: index)
        }
    }
}

/// Key of an HTTP/2 protocol error counter shard.
struct H2ErrorKey: Hashable {
    var route: String
    var side: String
    var reason: String
}
