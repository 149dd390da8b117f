import FaultlineLoop
import FaultlineMetrics
import FaultlineSystem

// Accepting on the route listeners, and backing off when accept fails for want of descriptors
// or memory (`AcceptBackoff`, the control thread's path too).
extension Worker {
    /// Accepts up to a batch of connections; a listener with more waiting goes on the ready list.
    func acceptAll(_ loop: EventLoop<Worker>, listenerSlot: UInt32) {
        guard Int(listenerSlot) < listeners.count, let listener = listeners[Int(listenerSlot)],
              let route = routes[listener.routeName] else { return }
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
            admit(loop, route: route, accepted: accepted)
        }
        if !listener.pending {
            listener.pending = true
            readyListeners.append(listenerSlot)
        }
    }

    /// Counts a failed accept and follows the back-off. True: accept the next connection.
    private func acceptFailed(_ loop: EventLoop<Worker>, _ listener: Listener, _ error: SystemError) -> Bool {
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
                    "listener": listener.routeName, "worker": "\(index)", "reason": reason.rawValue, "error": error.reason,
                ])
            }
            // The edge is spent and connections still wait in the backlog: a timer comes back
            // for them; meanwhile the listener is not watched, so nothing wakes this loop for it.
            watch(loop, listener, false)
            scheduleAcceptRetry(loop, listener, at: retryAt)
            return false
        }
    }

    /// An accept call worked (or found the queue empty) during an episode.
    private func acceptWorked(_ loop: EventLoop<Worker>, _ listener: Listener) {
        switch listener.backoff.succeeded(now: loop.now) {
        case .none:
            break
        case .resume(let checkAt):
            watch(loop, listener, true)
            scheduleAcceptRetry(loop, listener, at: checkAt)
        }
    }

    /// A retry or end-of-episode timer of a listener fired.
    func acceptRetryDue(_ loop: EventLoop<Worker>, listenerSlot: UInt32) {
        guard Int(listenerSlot) < listeners.count, let listener = listeners[Int(listenerSlot)] else { return }
        switch listener.backoff.timerFired(now: loop.now) {
        case .none:
            break
        case .retry:
            acceptAll(loop, listenerSlot: listenerSlot)
        case .ended(let episode):
            exhaustedListeners -= 1
            log.info("accept.recovered", [
                "listener": listener.routeName, "worker": "\(index)", "reason": episode.reason.rawValue,
                "failures": "\(episode.failures)",
                "duration_ms": "\((episode.recoveredAt &- episode.startedAt) / 1_000_000)",
            ])
        }
    }

    /// A connection closed: listeners backed off try again soon, a descriptor is free.
    func descriptorsFreed(_ loop: EventLoop<Worker>) {
        for case let listener? in listeners where listener.backoff.paused {
            if let retryAt = listener.backoff.descriptorFreed(now: loop.now) {
                scheduleAcceptRetry(loop, listener, at: retryAt)
            }
        }
    }

    private func scheduleAcceptRetry(_ loop: EventLoop<Worker>, _ listener: Listener, at deadline: UInt64) {
        loop.scheduleCoarse(at: deadline, tag: Tag(kind: .acceptRetry, slot: listener.slot, generation: 0).rawValue)
    }

    /// Turns a listener's read interest on or off.
    private func watch(_ loop: EventLoop<Worker>, _ listener: Listener, _ on: Bool) {
        guard listener.watched != on, let registration = listener.registration else { return }
        switch listener.fd {
        case .some(let fd):
            do {
                try loop.modify(registration, fd, interest: on ? [.readable, .edgeTriggered] : [])
                listener.watched = on
            } catch {
                log.error("listener.epoll_failed", ["route": listener.routeName, "error": "\(error)"])
            }
        case .none:
            break
        }
    }

    /// This worker's shard of `faultline_accept_failures_total{listener=route,reason}`.
    private func failureCounter(_ listener: Listener, _ reason: AcceptFailureReason) -> Counter {
        if let counter = listener.failureCounters[reason] { return counter }
        let counter = metrics.acceptFailures.shard(labels: [listener.routeName, reason.rawValue], worker: index)
        listener.failureCounters[reason] = counter
        return counter
    }
}
