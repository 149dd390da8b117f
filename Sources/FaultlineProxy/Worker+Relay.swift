import FaultlineCore
import FaultlineLoop
import FaultlineSystem

extension Worker {
    /// A new connection was admitted: decide its faults, then connect upstream.
    func connectionOpened(_ loop: EventLoop<Worker>, _ connection: Connection, route: Route) {
        startConnect(loop, connection, route: route)
    }

    /// A new plan arrived: recompute what faults act on this open connection.
    func replan(_ loop: EventLoop<Worker>, _ connection: Connection, route: Route) {
        if connection.state == .open { relay(loop, connection) }
    }

    /// A fault timer of this connection is due.
    func streamTimerFired(_ loop: EventLoop<Worker>, _ connection: Connection, kind: Tag.Kind) {
        if connection.state == .open { relay(loop, connection) }
    }

    /// Moves bytes both ways until both sides would block, the budget is spent, or it closes.
    func relay(_ loop: EventLoop<Worker>, _ connection: Connection) {
        guard connection.state == .open else { return }
        var budget = wakeBudget
        guard pump(loop, connection, .upstream, budget: &budget) else { return }
        guard pump(loop, connection, .downstream, budget: &budget) else { return }
        if connection.up.isFinished && connection.down.isFinished {
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
        switch flow {
        case .upstream:
            return pump(loop, connection, &connection.up, from: .client, budget: &budget)
        case .downstream:
            return pump(loop, connection, &connection.down, from: .upstream, budget: &budget)
        }
    }

    private func pump(
        _ loop: EventLoop<Worker>, _ c: Connection, _ stream: inout HalfStream, from source: Connection.Side,
        budget: inout Int
    ) -> Bool {
        let destination = Connection.opposite(source)
        let bytesCounter = source == .client ? c.counters.bytesUpstream : c.counters.bytesDownstream
        while budget > 0 {
            var progressed = false

            // Read from the source while there is room.
            let sourceReadable = source == .client ? c.clientReadable : c.upstreamReadable
            if sourceReadable && !stream.sourceEnded && stream.buffer.space > 0 && !stream.faults.readPaused {
                do {
                    let limit = budget
                    guard let result = try c.withSocket(source, { (fd) throws(SystemError) in
                        try stream.buffer.read(from: fd, limit: limit, pool: pool)
                    }) else { return false }
                    switch result {
                    case .processed(0):
                        stream.sourceEnded = true
                        progressed = true
                    case .processed(let n):
                        stream.buffer.didRead(n)
                        stream.bytesIn &+= UInt64(n)
                        progressed = true
                    case .wouldBlock:
                        if source == .client { c.clientReadable = false } else { c.upstreamReadable = false }
                    }
                } catch {
                    // The source reset. What it sent before is passed on if the other side
                    // takes it at once; then the reset travels on, as through a real network.
                    flushOnce(c, &stream, to: destination)
                    close(loop, c, reset: true)
                    return false
                }
            }

            // Write to the destination what it will take.
            let destinationWritable = source == .client ? c.upstreamWritable : c.clientWritable
            if !stream.buffer.isEmpty && destinationWritable {
                do {
                    let limit = budget
                    guard let result = try c.withSocket(destination, { (fd) throws(SystemError) in
                        try stream.buffer.write(to: fd, limit: limit)
                    }) else { return false }
                    switch result {
                    case .processed(let n):
                        stream.bytesOut &+= UInt64(n)
                        bytesCounter.add(UInt64(n))
                        budget -= n
                        progressed = progressed || n > 0
                    case .wouldBlock:
                        if source == .client { c.upstreamWritable = false } else { c.clientWritable = false }
                    }
                } catch {
                    // The destination is gone (EPIPE/ECONNRESET): it reset; so does the other side.
                    close(loop, c, reset: true)
                    return false
                }
            }

            if stream.buffer.isEmpty {
                stream.buffer.releaseIfEmpty(to: pool)
                // Half-close: pass the FIN on once everything before it was written.
                if stream.sourceEnded && !stream.finSent {
                    stream.finSent = true
                    _ = c.withSocket(destination) { fd in try? Posix.shutdown(fd, .write) }
                }
            }
            if !progressed { break }
        }
        return true
    }

    /// One nonblocking write of what is held, ignoring the outcome.
    private func flushOnce(_ c: Connection, _ stream: inout HalfStream, to side: Connection.Side) {
        guard !stream.buffer.isEmpty else { return }
        let limit = stream.buffer.count
        let result = c.withSocket(side) { fd in try? stream.buffer.write(to: fd, limit: limit) }
        if case .processed(let n)?? = result {
            (side == .upstream ? c.counters.bytesUpstream : c.counters.bytesDownstream).add(UInt64(n))
        }
    }
}
