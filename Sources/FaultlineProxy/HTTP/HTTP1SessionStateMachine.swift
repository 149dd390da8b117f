import FaultlineCore
import FaultlineHTTP1
import FaultlineLoop

/// The HTTP/1.1 codec of one proxied connection (ARCHITECTURE.md, "Connection pipeline", L2/L3).
///
/// It scans the bytes each half-stream holds, one exchange at a time, and turns them into output
/// ops for the other side: pass these bytes on unchanged, drop those, write this reply. Fault
/// decisions are taken once per request, when its head arrives. It performs no I/O: the worker
/// reads, writes, dials and arms timers as the session asks: the effects its mutating methods
/// leave, taken with `takeEffects()`.
struct HTTP1SessionStateMachine {
    enum Disposition: Equatable {
        case forward
        case discard
    }

    enum RequestPhase: Equatable {
        /// Scanning for the next request head (only while no exchange is open).
        case awaitingHead
        /// A `delay` holds the head (`length` bytes, scanned, not yet queued).
        case held(headLength: Int)
        case body(Disposition)
        /// The request is complete; waiting for its answer.
        case done
        /// Nothing more is read as HTTP (close, hang, a refused request).
        case stopped
    }

    enum ResponsePhase: Equatable {
        /// No answer is due.
        case idle
        case awaitingHead
        /// A response-phase `delay` holds this head (its status is counted when it goes on).
        case heldHead(length: Int, status: Int)
        case body(Disposition)
    }

    enum UpstreamPhase: Equatable {
        case none
        case connecting
        case connected
    }

    enum CloseMode: Equatable {
        /// FIN both ways once the queued output is written.
        case afterFlush
        /// RST both ways now.
        case reset
    }

    /// One request and its answer.
    struct Exchange {
        var index: UInt64
        var method: String
        var decision: HTTPFaultDecision?
        var keepAlive: Bool
        var startedAt: UInt64
        var requestDone = false
        /// The client's answer is complete (passed on, or made by the proxy).
        var answered = false
        /// The first final response is still to be passed to the client.
        var clientResponsePending = true
        /// Answers to replayed copies still to be read and dropped.
        var copyResponsesPending = 0
        /// `duplicate`: the request as sent, for replay (nil when too large or not duplicating).
        var recording: [UInt8]?
        var copiesToSend = 0
        var nextCopyAt: UInt64 = 0
        var spacing: UInt64 = 0
        var responseDelayDone = false
        /// What the client got, for `faultline_http_requests_total`.
        var code: String?
        /// The exchange was counted as finished (once, whatever ends it).
        var counted = false
        /// Method, path and keys for the request log (nil when the route keeps no log).
        var logged: RequestRecord.HTTPPart?
        /// When the head was queued for the upstream, and how long its answer head took.
        var forwardedAt: UInt64?
        var upstreamNanoseconds: UInt64?
    }

    /// A request that ended, for the counters and the request log.
    struct FinishedRequest {
        /// What the client got: a status, or `reset` / `closed` / `hang`.
        var code: String
        var nanoseconds: UInt64
        var index: UInt64
        var startedAt: UInt64
        var http: RequestRecord.HTTPPart?
        var fault: String?
        var upstreamNanoseconds: UInt64?
        /// A gRPC call's status (HTTP/2 only).
        var grpcStatus: Int? = nil
    }

    /// What the worker must do after `advance`.
    struct Effects {
        var dial = false
        var close: CloseMode?
        var journal: [JournalEvent] = []
        /// Finished requests: what the client got and how long the exchange took.
        var completed: [FinishedRequest] = []
        /// Requests a fault acted on.
        var injections: [(faultID: String, type: String)] = []

        var isEmpty: Bool { !dial && close == nil && journal.isEmpty && completed.isEmpty && injections.isEmpty }
    }

    /// Largest request `duplicate` records for replay; a larger one is passed on once.
    static let maxRecordedRequestBytes = 1 << 20

    let routeName: String
    let serial: UInt64
    var requests: HTTP1MessageScanner
    var responses: HTTP1MessageScanner
    /// Output to the upstream (from the client's buffer) and to the client (from the upstream's).
    var toUpstream = OutputQueue()
    var toClient = OutputQueue()
    var request = RequestPhase.awaitingHead
    var response = ResponsePhase.idle
    var exchange: Exchange?
    var nextIndex: UInt64 = 0
    var upstream = UpstreamPhase.none
    /// After 101 or a CONNECT 2xx: both directions are plain byte relays.
    private(set) var tunnel = false
    /// `drop_response` with `then: hang`: everything is read and dropped until the client leaves.
    private(set) var hung = false
    /// The upstream closed, or the exchange said close: after the current answer, no more.
    var closing = false
    /// The earliest moment the session needs `advance` again (delays, spaced copies).
    private(set) var timerAt: UInt64?
    var effects = Effects()

    /// The effects left since the last call, for the worker to carry out.
    mutating func takeEffects() -> Effects {
        let taken = effects
        effects = Effects()
        return taken
    }
    /// The route's HTTP faults (most recently applied last).
    var faults: [FaultSpec]
    /// The route keeps a request log: each exchange notes its path and key headers.
    let logging: Bool

    init(routeName: String, serial: UInt64, faults: [FaultSpec], logging: Bool = false, limits: HTTPParserLimits = .defaults) {
        self.routeName = routeName
        self.serial = serial
        self.faults = faults
        self.logging = logging
        requests = HTTP1MessageScanner(role: .request, limits: limits)
        responses = HTTP1MessageScanner(role: .response, limits: limits)
    }

    // MARK: Requests (client → upstream)

    /// Scans the client's bytes and queues what to do with them.
    mutating func advanceRequests(
        _ buffer: borrowing RelayBuffer, ended: Bool, now: UInt64, decide: (HTTPRequestFacts, UInt64) -> HTTPFaultDecision?
    ) -> Bool {
        if tunnel || hung { return Self.passAll(buffer, &toUpstream, relay: tunnel) }
        var progressed = false
        while true {
            switch request {
            case .stopped:
                return Self.passAll(buffer, &toUpstream, relay: false) || progressed
            case .held, .done:
                return progressed
            case .awaitingHead:
                guard exchange == nil, !closing else { return progressed }
                let event: HTTP1MessageScanner.Event
                do {
                    event = try scanRequest(buffer, ended: ended)
                } catch {
                    reject(error, now: now)
                    return true
                }
                switch event {
                case .needMore:
                    return progressed
                case .requestHead(let head, let length):
                    progressed = true
                    begin(head, length: length, buffer, now: now, decide: decide)
                default:
                    preconditionFailure("request scanner gave \(event) between messages")
                }
            case .body(let disposition):
                let event: HTTP1MessageScanner.Event
                do {
                    event = try scanRequest(buffer, ended: ended)
                } catch {
                    // The head already went on: the request cannot be refused cleanly any more.
                    journalRejection(error, status: nil)
                    finish(code: "reset", now: now)
                    effects.close = .reset
                    request = .stopped
                    return true
                }
                switch event {
                case .needMore:
                    return progressed
                case .body(let length):
                    progressed = true
                    take(length, disposition, buffer)
                case .end(let length):
                    progressed = true
                    take(length, disposition, buffer)
                    requestEnded(now: now)
                default:
                    preconditionFailure("request scanner gave \(event) inside a body")
                }
            }
        }
    }

    /// The next request event in the client's bytes not yet spoken for.
    private mutating func scanRequest(_ buffer: borrowing RelayBuffer, ended: Bool) throws(HTTPParseError) -> HTTP1MessageScanner.Event {
        try buffer.withBytes(from: toUpstream.covered) { (bytes) throws(HTTPParseError) in
            try requests.next(bytes, atEnd: ended)
        }
    }

    /// A tunnel relays, a hung connection drops, every byte not yet spoken for.
    private static func passAll(_ buffer: borrowing RelayBuffer, _ queue: inout OutputQueue, relay: Bool) -> Bool {
        let fresh = buffer.count - queue.covered
        if relay { queue.relay(fresh) } else { queue.discard(fresh) }
        return fresh > 0
    }

    private mutating func take(_ length: Int, _ disposition: Disposition, _ buffer: borrowing RelayBuffer) {
        if disposition == .forward {
            if exchange?.recording != nil {
                let bytes = buffer.copyBytes(from: toUpstream.covered, count: length)
                if exchange!.recording!.count + bytes.count > HTTP1SessionStateMachine.maxRecordedRequestBytes {
                    exchange!.recording = nil
                    exchange!.copiesToSend = 0
                } else {
                    exchange!.recording! += bytes
                }
            }
            toUpstream.relay(length)
        } else {
            toUpstream.discard(length)
        }
    }

    private mutating func begin(
        _ head: HTTPRequestHead, length: Int, _ buffer: borrowing RelayBuffer, now: UInt64,
        decide: (HTTPRequestFacts, UInt64) -> HTTPFaultDecision?
    ) {
        let index = nextIndex
        nextIndex += 1
        var decision: HTTPFaultDecision?
        if !faults.isEmpty {
            let facts = HTTPRequestFacts(
                method: head.method, path: String(head.path), headers: head.headers.map { HTTPHeaderPair($0.name, $0.value) })
            decision = decide(facts, index)
        }
        var exchange = Exchange(
            index: index, method: head.method, decision: decision,
            keepAlive: head.keepAlive, startedAt: now)
        if logging {
            let headers = head.headers
            exchange.logged = RequestRecord.HTTPPart(
                method: head.method, path: String(head.path),
                keys: RequestKeys(
                    idempotencyKey: headers["idempotency-key"], requestID: headers["x-request-id"],
                    traceparent: headers["traceparent"]))
        }
        if let decision {
            effects.injections.append((decision.faultID, decision.type))
            effects.journal.append(journalFault(decision, head: head, index: index))
        }
        switch decision?.action {
        case .abort(let abort)?:
            // No upstream leg. A body the client still sends is read and dropped; a client
            // waiting for 100 Continue will not send it, so the connection closes after.
            let close = !head.keepAlive || head.expectsContinue
            exchange.keepAlive = !close
            exchange.code = String(abort.status)
            toUpstream.discard(length)
            toClient.inject(HTTPReplies.abort(
                abort, faultID: decision!.faultID, mark: decision!.mark, headOnly: head.method == "HEAD", close: close))
            exchange.answered = true
            exchange.clientResponsePending = false
            self.exchange = exchange
            if close {
                finish(code: String(abort.status), now: now)
                request = .stopped
                effects.close = .afterFlush
            } else {
                request = .body(.discard)
            }
        case .delayRequest(let hold)?:
            self.exchange = exchange
            request = .held(headLength: length)
            wake(at: now &+ hold)
        case .duplicate(let copies, let spacing)?:
            exchange.copiesToSend = copies
            exchange.spacing = spacing
            exchange.recording = []
            self.exchange = exchange
            forwardHead(method: head.method, length: length, buffer, now: now)
        case .rstStream?, .goaway?, .windowStall?:
            // HTTP/2-only faults: the decider is asked with `http2: false` on HTTP/1.1, so it never
            // returns these here; were one to come, the request goes on as if no fault acted.
            fallthrough
        default:
            self.exchange = exchange
            forwardHead(method: head.method, length: length, buffer, now: now)
        }
    }

    /// Queues a request head for the upstream (dialling it for the first) and walks its body next.
    private mutating func forwardHead(method: String, length: Int, _ buffer: borrowing RelayBuffer, now: UInt64) {
        exchange?.forwardedAt = now
        responses.expectResponse(toMethod: method)
        if upstream == .none { effects.dial = true }
        take(length, .forward, buffer)
        response = .awaitingHead
        request = .body(.forward)
    }

    private mutating func requestEnded(now: UInt64) {
        request = .done
        guard var exchange else { return }
        exchange.requestDone = true
        if exchange.copiesToSend > 0, exchange.recording != nil {
            exchange.nextCopyAt = now
        }
        self.exchange = exchange
        sendCopies(now: now)
        completeIfDone(now: now)
    }

    /// Queues the replayed copies that are due.
    private mutating func sendCopies(now: UInt64) {
        guard var exchange, exchange.requestDone, exchange.copiesToSend > 0, let recording = exchange.recording else { return }
        while exchange.copiesToSend > 0 && exchange.nextCopyAt <= now {
            responses.expectResponse(toMethod: exchange.method)
            toUpstream.inject(recording)
            exchange.copiesToSend -= 1
            exchange.copyResponsesPending += 1
            exchange.nextCopyAt = now &+ exchange.spacing
        }
        if exchange.copiesToSend > 0 { wake(at: exchange.nextCopyAt) }
        self.exchange = exchange
    }

    // MARK: Responses (upstream → client)

    /// Scans the upstream's bytes and queues what to do with them.
    mutating func advanceResponses(_ buffer: borrowing RelayBuffer, ended: Bool, now: UInt64) -> Bool {
        if tunnel || hung { return Self.passAll(buffer, &toClient, relay: tunnel) }
        var progressed = false
        while true {
            switch response {
            case .idle:
                if ended && !closing && upstream == .connected && buffer.count == toClient.covered {
                    // The upstream closed its side between answers: nothing more can be forwarded.
                    closing = true
                    progressed = true
                    if exchange == nil { effects.close = .afterFlush }
                }
                return progressed
            case .heldHead:
                return progressed
            case .awaitingHead, .body:
                let event: HTTP1MessageScanner.Event
                do {
                    event = try buffer.withBytes(from: toClient.covered) { (bytes) throws(HTTPParseError) in
                        try responses.next(bytes, atEnd: ended)
                    }
                } catch {
                    upstreamFailed(error, now: now)
                    return true
                }
                switch event {
                case .needMore:
                    if ended && response == .awaitingHead {
                        // Closed with no answer: the client sees the close.
                        if exchange?.clientResponsePending ?? false { exchange?.code = "closed" }
                        finish(code: exchange?.code ?? "closed", now: now)
                        effects.close = .afterFlush
                        response = .idle
                        request = .stopped
                        return true
                    }
                    return progressed
                case .responseHead(let head, let length):
                    progressed = true
                    responseHead(head, length: length, now: now)
                case .body(let length):
                    progressed = true
                    if case .body(let disposition) = response { pass(length, disposition) }
                case .end(let length):
                    progressed = true
                    if case .body(let disposition) = response { pass(length, disposition) }
                    responseEnded(now: now)
                default:
                    preconditionFailure("response scanner gave \(event)")
                }
            }
        }
    }

    private mutating func pass(_ length: Int, _ disposition: Disposition) {
        if disposition == .forward { toClient.relay(length) } else { toClient.discard(length) }
    }

    private mutating func responseHead(_ head: HTTPResponseHead, length: Int, now: UInt64) {
        guard var exchange else {
            // An answer nobody asked for: dropped.
            toClient.discard(length)
            response = .body(.discard)
            return
        }
        let forClient = exchange.clientResponsePending
        if !forClient {
            toClient.discard(length)
            response = .body(.discard)
            return
        }
        if exchange.upstreamNanoseconds == nil, let forwardedAt = exchange.forwardedAt {
            exchange.upstreamNanoseconds = now &- forwardedAt
            self.exchange?.upstreamNanoseconds = exchange.upstreamNanoseconds
        }
        if head.isInterim {
            // 100 Continue and friends: not the final answer; faults act on the final one.
            toClient.relay(length)
            response = .body(.forward)
            return
        }
        switch exchange.decision?.action {
        case .dropResponse(let then)?:
            exchange.clientResponsePending = false
            exchange.answered = true
            toClient.discard(length)
            response = .body(.discard)
            let code = then == .close ? "closed" : then.rawValue
            exchange.code = code
            self.exchange = exchange
            finish(code: code, now: now)
            switch then {
            case .reset: effects.close = .reset
            case .close: effects.close = .afterFlush
            case .hang: hung = true
            }
            if then != .reset { request = .stopped }
            return
        case .delayResponse(let hold)? where !exchange.responseDelayDone:
            exchange.responseDelayDone = true
            if !head.keepAlive { exchange.keepAlive = false }
            self.exchange = exchange
            response = .heldHead(length: length, status: head.status)
            wake(at: now &+ hold)
            return
        default:
            break
        }
        exchange.code = String(head.status)
        exchange.clientResponsePending = false
        if !head.keepAlive { exchange.keepAlive = false }
        self.exchange = exchange
        passHead(length: length, status: head.status, now: now)
    }

    /// Queues a final response head for the client, marked when the fault asks for it.
    private mutating func passHead(length: Int, status: Int, now: UInt64) {
        if let decision = exchange?.decision, decision.mark {
            toClient.relay(length - 2)
            toClient.inject(HTTPReplies.markLine(decision.faultID))
            toClient.relay(2)
        } else {
            toClient.relay(length)
        }
        response = .body(.forward)
        let method = exchange?.method ?? ""
        if status == 101 || (method == "CONNECT" && (200..<300).contains(status)) {
            // From here on both directions are a byte relay; the exchange is over for HTTP.
            tunnel = true
            finish(code: String(status), now: now)
        }
    }

    private mutating func responseEnded(now: UInt64) {
        guard var exchange else {
            response = .idle
            return
        }
        if exchange.clientResponsePending {
            // An interim response ended; the final one follows.
            response = .awaitingHead
            return
        }
        if !exchange.answered {
            exchange.answered = true
        } else if exchange.copyResponsesPending > 0 {
            exchange.copyResponsesPending -= 1
        }
        self.exchange = exchange
        response = exchange.copyResponsesPending > 0 || exchange.copiesToSend > 0 ? .awaitingHead : .idle
        if tunnel { return }
        completeIfDone(now: now)
    }

    /// The exchange is over when its request was read, its answer given and every copy answered.
    private mutating func completeIfDone(now: UInt64) {
        guard let exchange, exchange.requestDone, exchange.answered,
              exchange.copiesToSend == 0, exchange.copyResponsesPending == 0 else { return }
        if case .heldHead = response { return }
        finish(code: exchange.code ?? "closed", now: now)
        self.exchange = nil
        response = .idle
        if request == .stopped || hung { return }
        if !exchange.keepAlive || closing {
            request = .stopped
            effects.close = .afterFlush
        } else {
            request = .awaitingHead
        }
    }

    /// Counts a request as finished once, with what the client got.
    private mutating func finish(code: String, now: UInt64) {
        guard let exchange, !exchange.counted else { return }
        effects.completed.append(Self.finished(exchange, code: code, now: now))
        self.exchange?.counted = true
    }

    /// The finished-request record of an exchange.
    static func finished(_ exchange: Exchange, code: String, now: UInt64) -> FinishedRequest {
        FinishedRequest(
            code: code, nanoseconds: now &- exchange.startedAt, index: exchange.index, startedAt: exchange.startedAt,
            http: exchange.logged, fault: exchange.decision?.faultID, upstreamNanoseconds: exchange.upstreamNanoseconds)
    }

    /// The client closed its side while a `delay` holds its request: nothing reached the upstream
    /// yet, so the request is dropped (it would reach a service for a client that is gone) and the
    /// connection closes; it is counted as `aborted_by_client`. Returns true when that happened.
    mutating func clientLeftDuringHold(now: UInt64) -> Bool {
        guard case .held = request, exchange != nil else { return false }
        finish(code: "aborted_by_client", now: now)
        exchange = nil
        request = .stopped
        response = .idle
        timerAt = nil
        effects.close = .afterFlush
        return true
    }

    // MARK: Timers

    /// A timer fired: release a held head or send spaced copies that are due.
    mutating func timerFired(now: UInt64, _ clientBuffer: borrowing RelayBuffer) {
        guard let due = timerAt, due <= now else { return }
        timerAt = nil
        switch request {
        case .held(let length):
            guard let method = exchange?.method else { break }
            forwardHead(method: method, length: length, clientBuffer, now: now)
        default:
            break
        }
        if case .heldHead(let length, let status) = response, var exchange {
            exchange.clientResponsePending = false
            exchange.code = String(status)
            self.exchange = exchange
            passHead(length: length, status: status, now: now)
        }
        sendCopies(now: now)
    }

    /// `httpRelay` is running for this connection (connect callbacks inside it must not re-enter).
    var inRelay = false
    /// The deadline a timer is armed for.
    var armedTimer: UInt64 = 0
    /// Close once the client's output is written (FIN, then linger).
    var closeWhenFlushed = false
    /// While lingering after the proxy's FIN: when to give up on the client and close.
    var lingerUntil: UInt64 = 0

    private mutating func wake(at deadline: UInt64) {
        if timerAt == nil || deadline < timerAt! { timerAt = deadline }
    }

    // MARK: Failures

    /// A malformed request: refused with 400/431, never forwarded; the connection closes.
    private mutating func reject(_ error: HTTPParseError, now: UInt64) {
        let status = error.suggestedStatus
        journalRejection(error, status: status)
        toClient.inject(HTTPReplies.error(status: status, message: "faultline: bad request: \(error)"))
        effects.completed.append(FinishedRequest(
            code: String(status), nanoseconds: 0, index: nextIndex, startedAt: now,
            http: logging ? RequestRecord.HTTPPart(method: "", path: "") : nil))
        request = .stopped
        effects.close = .afterFlush
    }

    /// The upstream's answer is malformed: the client cannot be given a sound answer any more.
    private mutating func upstreamFailed(_ error: HTTPParseError, now: UInt64) {
        var fields: [JournalField] = [
            .string("route", routeName), .int("conn", serial), .string("side", "upstream"),
            .string("reason", error.description),
        ]
        if let exchange { fields.append(.int("req", exchange.index)) }
        effects.journal.append(JournalEvent(event: "http.rejected", fields: fields))
        let untouched = exchange?.clientResponsePending ?? false
        if untouched {
            toClient.inject(HTTPReplies.error(status: 502, message: "faultline: malformed response from upstream: \(error)"))
            exchange?.code = "502"
            finish(code: "502", now: now)
            effects.close = .afterFlush
        } else {
            finish(code: "reset", now: now)
            effects.close = .reset
        }
        request = .stopped
        response = .idle
    }

    /// The upstream could not be reached: 502 for the waiting request, then close.
    mutating func upstreamUnreachable(reason: String, now: UInt64) {
        if exchange?.clientResponsePending ?? false {
            toClient.inject(HTTPReplies.error(status: 502, message: "faultline: upstream connect failed: \(reason)"))
            exchange?.code = "502"
            finish(code: "502", now: now)
        }
        request = .stopped
        response = .idle
        effects.close = .afterFlush
    }

    private mutating func journalRejection(_ error: HTTPParseError, status: Int?) {
        var fields: [JournalField] = [
            .string("route", routeName), .int("conn", serial), .int("req", nextIndex), .string("side", "client"),
            .string("reason", error.description),
        ]
        if let status { fields.append(.int("status", status)) }
        effects.journal.append(JournalEvent(event: "http.rejected", fields: fields))
    }

    private func journalFault(_ decision: HTTPFaultDecision, head: HTTPRequestHead, index: UInt64) -> JournalEvent {
        var fields: [JournalField] = [
            .string("route", routeName), .int("conn", serial), .int("req", index),
            .string("method", head.method), .string("path", String(head.path)),
            .string("fault", decision.faultID), .string("type", decision.type), .string("action", decision.action.label),
        ]
        if let traceparent = head.headers["traceparent"] { fields.append(.string("traceparent", traceparent)) }
        return JournalEvent(event: "http.fault", fields: fields)
    }
}

/// Heap storage for a connection's session, so that a tcp connection carries none.
final class HTTPSessionBox {
    var machine: HTTP1SessionStateMachine

    init(_ machine: HTTP1SessionStateMachine) {
        self.machine = machine
    }
}

@available(*, unavailable)
extension HTTPSessionBox: Sendable {}
