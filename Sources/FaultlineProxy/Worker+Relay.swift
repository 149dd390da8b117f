import FaultlineCore
import FaultlineLoop
import FaultlineSystem

/// What one read or write step did.
enum IOOutcome {
    case idle
    case progressed
    /// A side reset or failed (or its socket is gone).
    case failed
}

/// What one write of held bytes did.
enum WriteOutcome {
    /// `count` bytes went out; `short` when the socket took fewer than were offered.
    case wrote(count: Int, short: Bool)
    /// The faults hold the bytes for now (or the budget is spent).
    case held
    /// The destination would block.
    case blocked
    /// The destination is gone (EPIPE/ECONNRESET).
    case failed
}

extension Worker {
    /// Moves bytes both ways until both sides would block, the budget is spent, a fault holds
    /// them, or the connection closes.
    func relay(_ loop: EventLoop<Worker>, _ connection: Connection) {
        guard connection.state == .open else { return }
        if connection.isHTTP {
            httpRelay(loop, connection)
            return
        }
        if let tls = connection.tls, !flushPendingTLS(connection, tls) {
            close(loop, connection, reset: true)
            return
        }
        var budget = wakeBudget
        guard pump(loop, connection, .upstream, budget: &budget) else { return }
        guard pump(loop, connection, .downstream, budget: &budget) else { return }
        if connection.up.isFinished && connection.down.isFinished && !(connection.tls?.hasPendingOutput ?? false) {
            close(loop, connection, reset: false)
            return
        }
        if budget <= 0 && !connection.onReadyList {
            connection.onReadyList = true
            readyList.append(connection)
        }
    }

    /// One direction's read → write loop. Returns false when the connection was closed.
    private func pump(_ loop: EventLoop<Worker>, _ connection: Connection, _ flow: Flow, budget: inout Int) -> Bool {
        // The half-stream is borrowed for the pump; closing (which touches both half-streams)
        // happens only after that access ends.
        let stillOpen: Bool
        switch flow {
        case .upstream:
            stillOpen = pump(loop, connection, &connection.up, from: .client, budget: &budget)
        case .downstream:
            stillOpen = pump(loop, connection, &connection.down, from: .upstream, budget: &budget)
        }
        guard stillOpen else {
            close(loop, connection, reset: true)
            return false
        }
        return enforceFaults(loop, connection, flow)
    }

    /// Returns false when a side reset or failed: the caller resets the connection.
    private func pump(
        _ loop: EventLoop<Worker>, _ c: Connection, _ stream: inout HalfStream, from source: Connection.Side,
        budget: inout Int
    ) -> Bool {
        let destination = Connection.opposite(source)
        let faults = stream.faults
        while budget > 0 {
            var progressed = false

            // Read from the source while there is room.
            switch readSource(loop, c, &stream, from: source, budget: &budget) {
            case .progressed:
                progressed = true
            case .idle:
                break
            case .failed:
                // The source reset. What it sent before is passed on if the other side
                // takes it at once; then the reset travels on, as through a real network.
                flushOnce(c, &stream, to: destination, now: loop.now)
                return false
            }

            // Write to the destination what it will take and the faults allow.
            let destinationWritable = source == .client ? c.upstreamWritable : c.clientWritable
            if destinationWritable && (!stream.buffer.isEmpty || !(faults?.delayed.isEmpty ?? true)) {
                switch writeHeld(loop, c, &stream, to: destination, limit: .max, budget: &budget) {
                case .wrote(let n, _):
                    progressed = progressed || n > 0
                case .held, .blocked:
                    break
                case .failed:
                    // The destination reset; so does the other side.
                    return false
                }
            }

            if stream.buffer.isEmpty {
                stream.buffer.releaseIfEmpty(to: pool)
                let drained = faults.map { $0.delayed.isEmpty } ?? true
                // Half-close: pass the FIN on once everything before it was written.
                if drained && stream.sourceEnded && !stream.finSent && (faults?.state.finMayPass(now: loop.now) ?? true) {
                    stream.finSent = true
                    shutdownWrite(c, destination)
                }
                // A cleared latency kept the fault state until its queue drained.
                if drained, let faults, faults.state.policy.isEmpty, stream.faults === faults { stream.faults = nil }
            }
            if !progressed { break }
        }
        return true
    }

    /// Carries out what a direction's faults require now (close, reset) and arms its timer.
    /// Returns false when the connection was closed.
    func enforceFaults(_ loop: EventLoop<Worker>, _ c: Connection, _ flow: Flow) -> Bool {
        guard let faults = flow == .upstream ? c.up.faults : c.down.faults else { return true }
        let written = flow == .upstream ? c.up.bytesOut : c.down.bytesOut
        let verdict = faults.state.verdict(written: written, now: loop.now)
        let wake = faults.state.pendingWake(after: loop.now)
        switch verdict {
        case .none:
            break
        case .close(let faultID):
            if faults.state.policy.timeout?.faultID == faultID { c.logOutcome = c.logOutcome ?? .timedOut }
            c.logFault = c.logFault ?? faultID
            close(loop, c, reset: false)
            return false
        case .reset(let faultID):
            c.logFault = c.logFault ?? faultID
            close(loop, c, reset: true)
            return false
        }
        if let wake {
            let armed = faults.state.armedWake
            if armed <= loop.now || wake < armed {  // nothing armed in the future, or this is sooner
                loop.schedule(at: wake, tag: tag(flow == .upstream ? .upstreamStreamTimer : .downstreamStreamTimer, c))
                faults.state.armedWake = wake
            }
        }
        return true
    }

    /// One read from `source` into the stream's buffer, while there is room and the faults let
    /// it read; bytes a blackhole, timeout or partition drops are never committed, but they are
    /// counted (`faultline_bytes_discarded_total`) and spend the wake's budget like bytes
    /// written, so a fast sender into a blackhole cannot starve the worker's other connections.
    @inline(__always)
    func readSource(
        _ loop: EventLoop<Worker>, _ c: Connection, _ stream: inout HalfStream, from source: Connection.Side,
        budget: inout Int
    ) -> IOOutcome {
        let faults = stream.faults
        let readable = source == .client ? c.clientReadable : c.upstreamReadable
        guard readable, !stream.sourceEnded, stream.buffer.space > 0, !(faults?.state.readPaused ?? false) else { return .idle }
        var limit = budget
        if let faults, faults.queuesDelayed {
            // Latency holds at most `limits.latency_queue_bytes` in the direction (queue and
            // buffer together): while that is full, reading stops and backpressure reaches the
            // sender, as when the relay buffer fills on a clean relay.
            let room = latencyQueueBytes - faults.delayed.count - stream.buffer.count
            guard room > 0 else { return .idle }
            limit = min(limit, room)
        }
        do {
            let result: IOResult<Int>
            let tls = c.tls?.side(source)
            if let tls {
                result = try stream.buffer.read(limit: limit, pool: pool) { (plaintext) throws(SystemError) in
                    try readPlaintext(c, source, tls, into: plaintext)
                }
            } else {
                guard let read = try c.withSocket(source, { (fd) throws(SystemError) in
                    try stream.buffer.read(from: fd, limit: limit, pool: pool)
                }) else { return .failed }
                result = read
            }
            switch result {
            case .processed(0):
                stream.sourceEnded = true
                return .progressed
            case .processed(let n):
                // Edge-triggered: a short read drained the socket, and new bytes bring a new
                // edge, so the read that would only say EAGAIN is skipped. Not after a hangup:
                // then the FIN may sit right behind these bytes with no edge to come.
                // (Not under TLS either: a session hands out one record at a time.)
                if n < stream.buffer.lastReadRequest && tls == nil {
                    if source == .client {
                        if !c.clientHangup { c.clientReadable = false }
                    } else if !c.upstreamHangup {
                        c.upstreamReadable = false
                    }
                }
                if let faults {
                    if !faults.state.discardsInput {
                        stream.buffer.didRead(n)
                        faults.state.didRead(n, totalKeptBefore: stream.bytesIn, buffer: &stream.buffer, now: loop.now)
                        stream.bytesIn &+= UInt64(n)
                        if faults.queuesDelayed { queueDelayed(c, &stream, faults, budget: &budget) }
                    } else {
                        // At least 16 KiB a read: reads into a nearly full buffer drop little each,
                        // and the wake must still end.
                        budget -= max(n, 16_384)
                        (source == .client ? c.counters.discardedUpstream : c.counters.discardedDownstream).add(UInt64(n))
                    }
                } else {
                    stream.buffer.didRead(n)
                    stream.bytesIn &+= UInt64(n)
                }
                return .progressed
            case .wouldBlock:
                if source == .client { c.clientReadable = false } else { c.upstreamReadable = false }
                return .idle
            }
        } catch {
            return .failed
        }
    }

    /// One write of at most `limit` held bytes to `destination`, as much as the budget and the
    /// faults allow; counts the bytes and tells the faults.
    @inline(__always)
    func writeHeld(
        _ loop: EventLoop<Worker>, _ c: Connection, _ stream: inout HalfStream, to destination: Connection.Side,
        limit: Int, budget: inout Int
    ) -> WriteOutcome {
        var allowance = min(limit, budget)
        if let faults = stream.faults {
            allowance = min(allowance, faults.state.writeAllowance(
                held: stream.buffer.count + faults.delayed.count, written: stream.bytesOut, kept: stream.bytesIn, now: loop.now))
            // Queued bytes come before those in the buffer.
            if !faults.delayed.isEmpty {
                guard allowance > 0 else { return .held }
                return writeDelayed(loop, c, &stream, faults, to: destination, allowance: allowance, budget: &budget)
            }
        }
        guard allowance > 0 else { return .held }
        let offered = min(allowance, stream.buffer.count)
        do {
            let result: IOResult<Int>
            if let tls = c.tls?.side(destination) {
                result = try stream.buffer.write(limit: allowance) { (plaintext) throws(SystemError) in
                    try writePlaintext(c, destination, tls, plaintext)
                }
            } else {
                guard let written = try c.withSocket(destination, { (fd) throws(SystemError) in
                    try stream.buffer.write(to: fd, limit: allowance)
                }) else { return .failed }
                result = written
            }
            return didWrite(loop, c, &stream, result, offered: offered, to: destination, queued: false, budget: &budget)
        } catch {
            return .failed
        }
    }

    /// Counts a write of held bytes (from the relay buffer, or from the latency queue when
    /// `queued`) and tells the faults.
    @inline(__always)
    private func didWrite(
        _ loop: EventLoop<Worker>, _ c: Connection, _ stream: inout HalfStream, _ result: IOResult<Int>, offered: Int,
        to destination: Connection.Side, queued: Bool, budget: inout Int
    ) -> WriteOutcome {
        switch result {
        case .processed(let n):
            stream.bytesOut &+= UInt64(n)
            (destination == .upstream ? c.counters.bytesUpstream : c.counters.bytesDownstream).add(UInt64(n))
            if queued { (stream.flow == .upstream ? c.counters.queuedUpstream : c.counters.queuedDownstream).add(-Int64(n)) }
            budget -= n
            stream.faults?.state.didWrite(n, written: stream.bytesOut, now: loop.now)
            return .wrote(count: n, short: n < offered)
        case .wouldBlock:
            c.setBlocked(destination)
            return .blocked
        }
    }

    /// Moves what the relay buffer holds into the latency queue (everything fits: the read was
    /// limited to the queue's room). The bytes spend the wake's budget now, as a write would, so
    /// a sender into a long delay cannot hold the worker until the queue is full.
    private func queueDelayed(_ c: Connection, _ stream: inout HalfStream, _ faults: StreamFaultsBox, budget: inout Int) {
        let n = stream.buffer.count
        guard n > 0 else { return }
        faults.delayed.append(takingFrom: &stream.buffer, count: n, pool: pool)
        budget -= n
        (stream.flow == .upstream ? c.counters.queuedUpstream : c.counters.queuedDownstream).add(Int64(n))
    }

    /// One write from the front of the latency queue (`allowance` already asked of the faults).
    private func writeDelayed(
        _ loop: EventLoop<Worker>, _ c: Connection, _ stream: inout HalfStream, _ faults: StreamFaultsBox,
        to destination: Connection.Side, allowance: Int, budget: inout Int
    ) -> WriteOutcome {
        let offered = min(allowance, faults.delayed.frontCount)
        do {
            let result: IOResult<Int>
            if let tls = c.tls?.side(destination) {
                result = try faults.delayed.write(limit: allowance, pool: pool) { (plaintext) throws(SystemError) in
                    try writePlaintext(c, destination, tls, plaintext)
                }
            } else {
                guard let written = try c.withSocket(destination, { (fd) throws(SystemError) in
                    try faults.delayed.write(to: fd, limit: allowance, pool: pool)
                }) else { return .failed }
                result = written
            }
            return didWrite(loop, c, &stream, result, offered: offered, to: destination, queued: true, budget: &budget)
        } catch {
            return .failed
        }
    }

    /// Gives back a direction's queued bytes when its connection closes (what they held is
    /// dropped, like the relay buffer's bytes).
    func releaseDelayed(_ c: Connection, _ stream: inout HalfStream) {
        guard let faults = stream.faults, !faults.delayed.isEmpty else { return }
        (stream.flow == .upstream ? c.counters.queuedUpstream : c.counters.queuedDownstream).add(-Int64(faults.delayed.count))
        faults.delayed.release(to: pool)
    }

    /// One nonblocking write of what is held, ignoring the outcome.
    private func flushOnce(_ c: Connection, _ stream: inout HalfStream, to side: Connection.Side, now: UInt64) {
        if let faults = stream.faults, !faults.delayed.isEmpty {
            // The queue's bytes come first; what the buffer holds waits behind them.
            let limit = faults.state.writeAllowance(
                held: stream.buffer.count + faults.delayed.count, written: stream.bytesOut, kept: stream.bytesIn, now: now)
            guard limit > 0 else { return }
            let result: IOResult<Int>?
            if let tls = c.tls?.side(side) {
                result = try? faults.delayed.write(limit: limit, pool: pool) { (plaintext) throws(SystemError) in
                    try writePlaintext(c, side, tls, plaintext)
                }
            } else {
                result = c.withSocket(side) { fd in try? faults.delayed.write(to: fd, limit: limit, pool: pool) } ?? nil
            }
            if case .processed(let n)? = result {
                stream.bytesOut &+= UInt64(n)
                (side == .upstream ? c.counters.bytesUpstream : c.counters.bytesDownstream).add(UInt64(n))
                (stream.flow == .upstream ? c.counters.queuedUpstream : c.counters.queuedDownstream).add(-Int64(n))
            }
            return
        }
        guard !stream.buffer.isEmpty else { return }
        // Faults still hold what they hold (latency, bandwidth, limits): only what they would
        // let out now leaves.
        let limit = stream.faults.map {
            $0.state.writeAllowance(held: stream.buffer.count, written: stream.bytesOut, kept: stream.bytesIn, now: now)
        } ?? stream.buffer.count
        guard limit > 0 else { return }
        let result: IOResult<Int>?
        if let tls = c.tls?.side(side) {
            result = try? stream.buffer.write(limit: limit) { (plaintext) throws(SystemError) in
                try writePlaintext(c, side, tls, plaintext)
            }
        } else {
            result = c.withSocket(side) { fd in try? stream.buffer.write(to: fd, limit: limit) } ?? nil
        }
        if case .processed(let n)? = result {
            (side == .upstream ? c.counters.bytesUpstream : c.counters.bytesDownstream).add(UInt64(n))
        }
    }
}
