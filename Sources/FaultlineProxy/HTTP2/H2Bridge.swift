import FaultlineCore
import FaultlineHTTP2

/// The HTTP/2 engine of one proxied connection (ARCHITECTURE.md, "Connection pipeline"): an
/// nghttp2 server session towards the client, a client session towards the upstream, and one
/// `H2Exchange` per client stream joining them. Each request's fault decision is taken when its
/// head arrives, as on HTTP/1.1, and acts on that stream alone.
///
/// It performs no I/O. The worker feeds it the bytes each side sent (`receive`), lets it act on
/// what they carried (`advance`), takes the bytes it made for each side (`flush`) and carries out
/// its effects (dial, journal, count, close).
final class H2Bridge {
    typealias Effects = HTTP1SessionStateMachine.Effects
    typealias FinishedRequest = HTTP1SessionStateMachine.FinishedRequest

    let routeName: String
    let serial: UInt64
    let logging: Bool
    var faults: [FaultSpec]
    let server: H2Session
    /// The upstream's session, made when the first request is forwarded (nil again after the
    /// upstream went away).
    private(set) var upstream: H2Session?
    var upstreamPhase = HTTP1SessionStateMachine.UpstreamPhase.none
    private var exchanges: [Int32: H2Exchange] = [:]
    /// Upstream stream → client stream.
    private var byUpstream: [Int32: Int32] = [:]
    /// Upstream streams of `duplicate` copies, whose answers are read and dropped.
    private var copyLegs: Set<Int32> = []
    private var nextIndex: UInt64 = 0
    /// A `goaway` fault went out: streams above this id are refused; the connection ends when
    /// the streams at or below it are done (or at once when not graceful).
    private(set) var goawayLastStream: Int32?
    /// The connection is finished once the output is written.
    private(set) var closeWhenFlushed = false
    /// The earliest moment `timerFired` is due.
    private(set) var timerAt: UInt64?
    var armedTimer: UInt64 = 0
    var effects = Effects()
    /// Protocol failures seen (side, reason), for the counters.
    private var protocolErrors: [(side: String, reason: String)] = []
    /// The client broke the protocol: nothing more it sends is read.
    private var clientFailed = false
    /// Output to each side: the frames the sessions made, waiting for the socket.
    var toClient = OutputQueue()
    var toUpstream = OutputQueue()

    init(routeName: String, serial: UInt64, faults: [FaultSpec], logging: Bool) throws(H2Error) {
        self.routeName = routeName
        self.serial = serial
        self.faults = faults
        self.logging = logging
        server = try H2Session(role: .server)
    }

    func takeEffects() -> Effects {
        let taken = effects
        effects = Effects()
        return taken
    }

    func takeProtocolErrors() -> [(side: String, reason: String)] {
        guard !protocolErrors.isEmpty else { return [] }
        let taken = protocolErrors
        protocolErrors = []
        return taken
    }

    // MARK: Bytes in

    /// The client's bytes. False when they broke the protocol (the connection is closing).
    func receiveFromClient(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> Bool {
        guard !clientFailed else { return true }
        if let error = server.receive(bytes) {
            failed(side: "client", error, now: now)
            return false
        }
        return true
    }

    /// The upstream's bytes. False when they broke the protocol (its streams are ended).
    func receiveFromUpstream(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> Bool {
        guard let upstream else { return true }
        if let error = upstream.receive(bytes) {
            failed(side: "upstream", error, now: now)
            return false
        }
        return true
    }

    /// How long a connection that broke the protocol may take to read our GOAWAY.
    static let failedCloseNanoseconds: UInt64 = 1_000_000_000
    /// When a connection that broke the protocol is closed whatever is still unsent.
    private(set) var closeDeadline: UInt64?

    private func failed(side: String, _ error: H2Error, now: UInt64) {
        protocolErrors.append((side, error.reason))
        effects.journal.append(JournalEvent(event: "http.rejected", fields: [
            .string("route", routeName), .int("conn", serial), .string("side", side), .string("protocol", "h2"),
            .string("reason", error.message),
        ]))
        if side == "client" {
            // nghttp2 queued its GOAWAY; it goes out, then the connection closes.
            clientFailed = true
            for stream in exchanges.keys.sorted() { finish(stream, code: "reset", now: now) }
            closeWhenFlushed = true
            closeDeadline = now &+ H2Bridge.failedCloseNanoseconds
            wake(at: closeDeadline!)
        } else {
            upstreamGone(now: now, reason: "upstream broke HTTP/2: \(error.message)")
            goAwayToClient()
        }
    }

    // MARK: Events

    /// Acts on everything both sessions received. Returns true when anything happened.
    @discardableResult
    func advance(now: UInt64, decide: (HTTPRequestFacts, UInt64) -> HTTPFaultDecision?) -> Bool {
        var progressed = false
        server.drainEvents { event in
            progressed = true
            clientEvent(event, now: now, decide: decide)
        }
        upstream?.drainEvents { event in
            progressed = true
            upstreamEvent(event, now: now)
        }
        if goawayLastStream != nil, exchanges.isEmpty, !closeWhenFlushed {
            closeWhenFlushed = true
            progressed = true
        }
        return progressed
    }

    private func clientEvent(_ event: H2Event, now: UInt64, decide: (HTTPRequestFacts, UInt64) -> HTTPFaultDecision?) {
        switch event {
        case .head(let stream, let fields, let endStream):
            begin(stream, fields, endStream: endStream, now: now, decide: decide)
        case .data(let stream, let bytes):
            requestBody(stream, bytes)
        case .end(let stream):
            requestEnded(stream, trailers: nil, now: now)
        case .trailers(let stream, let fields):
            requestEnded(stream, trailers: fields, now: now)
        case .reset(let stream, _):
            // The client gave up on the stream: so does the upstream leg.
            if let leg = exchanges[stream]?.upstream { upstream?.submitReset(stream: leg, errorCode: HTTP2ErrorCode.cancel) }
            finish(stream, code: "aborted_by_client", now: now)
        case .closed(let stream, _):
            guard let exchange = exchanges.removeValue(forKey: stream) else { return }
            if !exchange.counted { finish(exchange, code: exchange.code ?? "reset", now: now) }
            // Answer bytes the upstream sent that will never reach the client (reset, or held
            // by a delay) are still owed to the upstream connection's window.
            let held = exchange.heldResponse.reduce(0) { total, event in
                if case .data(_, let bytes) = event { return total + bytes.count }
                return total
            }
            let owed = exchange.responseQueued - exchange.responseSent + exchange.withheldFromUpstream + held
            if let leg = exchange.creditLeg, owed > 0 { upstream?.consume(stream: leg, count: owed) }
            // The mapping stays until the upstream stream closes: its late credit events find
            // the client stream id there.
        case .sent(let stream, let count):
            // Response bytes reached the client: the upstream may send as many more.
            guard let exchange = exchanges[stream] else { return }
            exchange.responseSent += count
            guard let leg = exchange.creditLeg else { return }
            if exchange.stalledBy != nil {
                exchange.withheldFromUpstream += count
            } else {
                upstream?.consume(stream: leg, count: count)
            }
        case .goawaySent(let code):
            // nghttp2's own GOAWAY: the client broke the protocol (a bad frame or header block).
            if code != HTTP2ErrorCode.noError && goawayLastStream == nil && !clientFailed {
                failed(side: "client", H2Error(code: -505, message: "the client broke HTTP/2 (GOAWAY \(code) sent)"), now: now)
            }
        case .goaway, .informational:
            break
        }
    }

    private func upstreamEvent(_ event: H2Event, now: UInt64) {
        switch event {
        case .sent(let leg, let count):
            // Request body reached the upstream: credit the client (the connection at least,
            // when its stream is gone).
            guard let stream = byUpstream[leg] else { return }
            guard let exchange = exchanges[stream] else {
                server.consume(stream: stream, count: count)
                return
            }
            exchange.requestSent += count
            if exchange.stalledBy != nil {
                exchange.withheldFromClient += count
            } else {
                server.consume(stream: stream, count: count)
            }
            return
        case .goaway(let last, _):
            // The upstream is going away: streams it did not take are refused to the client
            // (safe to retry), and the client is told to move on once the rest are done.
            for (leg, stream) in byUpstream where leg > last {
                refuse(stream, now: now)
            }
            goAwayToClient()
            return
        case .closed(let leg, _):
            copyLegs.remove(leg)
            if let stream = byUpstream.removeValue(forKey: leg), let exchange = exchanges[stream] {
                exchange.upstream = nil
                creditUnsentRequest(exchange)
                // Whatever the client still sends of the request has nowhere to go.
                exchange.discardsRequest = true
                let held = exchange.responseReleaseAt != nil || !exchange.heldResponse.isEmpty
                if !exchange.answered && !held && exchange.dropThen == nil && !exchange.counted {
                    // Closed without an answer (the upstream reset it).
                    reset(stream, code: HTTP2ErrorCode.internalError, label: "reset", now: now)
                }
            }
            return
        default:
            break
        }
        guard let leg = event.stream else { return }
        if copyLegs.contains(leg) {
            // A copy's answer: read and dropped.
            if case .data(_, let bytes) = event { upstream?.consume(stream: leg, count: bytes.count) }
            return
        }
        guard let stream = byUpstream[leg], let exchange = exchanges[stream] else {
            if case .data(_, let bytes) = event { upstream?.consume(stream: leg, count: bytes.count) }
            return
        }
        if case .informational(_, let fields) = event {
            // 103 Early Hints, 100 Continue: not the final answer. Passed on at once, as
            // HTTP/1.1 does; faults (delay, drop_response) act on the final one.
            exchange.upstreamAnswered(now: now)
            if !exchange.answered { try? server.submitInformational(stream: stream, fields) }
            return
        }
        if exchange.dropThen != nil {
            dropResponse(stream, event, now: now)
            return
        }
        if exchange.responseDelay != nil || !exchange.heldResponse.isEmpty {
            if case .head = event, let hold = exchange.responseDelay {
                exchange.responseDelay = nil
                exchange.responseReleaseAt = now &+ hold
                wake(at: now &+ hold)
            }
            if exchange.responseReleaseAt != nil {
                exchange.heldResponse.append(event)
                return
            }
        }
        passResponse(stream, event, now: now)
    }

    /// Hands one upstream event of `stream`'s answer on to the client.
    private func passResponse(_ stream: Int32, _ event: H2Event, now: UInt64) {
        guard let exchange = exchanges[stream] else { return }
        switch event {
        case .head(_, var fields, let endStream):
            let status = fields.value(of: ":status") ?? "502"
            if let decision = exchange.decision, decision.mark { fields.append(H2Field("x-faultline-fault", decision.faultID)) }
            exchange.answered = true
            exchange.responseEnded = endStream
            if let grpc = fields.value(of: "grpc-status") { exchange.grpcStatus = Int(grpc) }
            exchange.code = status
            exchange.upstreamAnswered(now: now)
            submitResponse(stream, fields, endStream: endStream)
        case .data(_, let bytes):
            exchange.responseQueued += bytes.count
            server.appendBody(stream: stream, bytes)
        case .end:
            exchange.responseEnded = true
            server.endBody(stream: stream)
        case .trailers(_, let fields):
            exchange.responseEnded = true
            if let grpc = fields.value(of: "grpc-status") { exchange.grpcStatus = Int(grpc) }
            server.endBody(stream: stream, trailers: fields)
        case .reset(_, let code):
            if exchange.responseEnded {
                // After a complete answer (the upstream wants no more of the request): the
                // answer still goes out whole; the rest of the request is dropped.
                exchange.discardsRequest = true
            } else {
                // Passed on as it came: a gRPC client reads the code.
                reset(stream, code: code, label: "reset", now: now)
            }
        default:
            break
        }
    }

    private func submitResponse(_ stream: Int32, _ fields: [H2Field], endStream: Bool) {
        do {
            try server.submitResponse(stream: stream, fields, endStream: endStream)
        } catch {
            server.submitReset(stream: stream, errorCode: HTTP2ErrorCode.internalError)
        }
    }

    // MARK: Requests

    private func begin(
        _ stream: Int32, _ fields: [H2Field], endStream: Bool, now: UInt64, decide: (HTTPRequestFacts, UInt64) -> HTTPFaultDecision?
    ) {
        if let last = goawayLastStream, stream > last {
            // After our GOAWAY: not processed (the client retries it elsewhere).
            server.submitReset(stream: stream, errorCode: HTTP2ErrorCode.refusedStream)
            return
        }
        let index = nextIndex
        nextIndex += 1
        let exchange = H2Exchange(stream: stream, index: index, startedAt: now, fields: fields)
        exchange.requestEnded = endStream
        // Strings are made only for what needs them: fault matching, the log.
        let facts = faults.isEmpty ? nil : H2Exchange.facts(fields)
        if let facts { exchange.decision = decide(facts, index) }
        if logging {
            let method = facts?.method ?? fields.value(of: ":method") ?? ""
            let path = facts?.path ?? H2Exchange.path(fields.value(of: ":path") ?? "")
            exchange.logged = RequestRecord.HTTPPart(
                method: method, path: path,
                keys: RequestKeys(
                    idempotencyKey: fields.value(of: "idempotency-key"), requestID: fields.value(of: "x-request-id"),
                    traceparent: fields.value(of: "traceparent")))
        }
        if let decision = exchange.decision, let facts {
            effects.injections.append((decision.faultID, decision.type))
            var journal: [JournalField] = [
                .string("route", routeName), .int("conn", serial), .int("req", index), .int("stream", Int(stream)),
                .string("method", facts.method), .string("path", facts.path),
                .string("fault", decision.faultID), .string("type", decision.type), .string("action", decision.action.label),
            ]
            if let traceparent = facts.header("traceparent") { journal.append(.string("traceparent", traceparent)) }
            effects.journal.append(JournalEvent(event: "http.fault", fields: journal))
        }
        exchanges[stream] = exchange
        switch exchange.decision?.action {
        case nil:
            forward(stream, now: now)
        case .abort(let abort)?:
            exchange.discardsRequest = true
            exchange.answered = true
            exchange.code = abort.grpcStatus == nil ? String(abort.status) : "200"
            exchange.grpcStatus = abort.grpcStatus
            let reply = H2Replies.abort(
                abort, faultID: exchange.decision!.faultID, mark: exchange.decision!.mark, headOnly: facts?.method == "HEAD")
            answer(stream, reply)
        case .delayRequest(let hold)?:
            exchange.forwardAt = now &+ hold
            wake(at: now &+ hold)
        case .delayResponse(let hold)?:
            exchange.responseDelay = hold
            forward(stream, now: now)
        case .dropResponse(let then)?:
            exchange.dropThen = then
            forward(stream, now: now)
        case .duplicate(let copies, let spacing)?:
            exchange.copiesToSend = copies
            exchange.copySpacing = spacing
            // The first copy follows the original by `spacing`, the next by as much again.
            exchange.nextCopyAt = now &+ spacing
            exchange.recording = []
            forward(stream, now: now)
        case .rstStream(let code)?:
            exchange.discardsRequest = true
            reset(stream, code: code, label: "reset", now: now)
        case .goaway(let code, let graceful)?:
            exchange.discardsRequest = true
            // This stream and any later one are not processed; earlier ones finish when graceful.
            let last = max(0, stream - 2)
            goawayLastStream = last
            server.submitGoaway(errorCode: code, lastStreamID: last)
            finish(stream, code: "closed", now: now)
            exchanges[stream] = nil
            if !graceful {
                for other in exchanges.keys.sorted() { finish(other, code: "closed", now: now) }
                closeWhenFlushed = true
            }
        case .windowStall?:
            exchange.stalledBy = exchange.decision!.faultID
            forward(stream, now: now)
        }
    }

    /// Sends the request of `stream` upstream (dialling it first when there is none).
    private func forward(_ stream: Int32, now: UInt64) {
        guard let exchange = exchanges[stream], exchange.upstream == nil else { return }
        if upstream == nil {
            do {
                upstream = try H2Session(role: .client)
            } catch {
                answer(stream, H2Replies.error(status: 502, message: "faultline: cannot open an HTTP/2 session: \(error)"))
                return
            }
        }
        if upstreamPhase == .none { effects.dial = true }
        let endStream = exchange.requestEnded && exchange.heldBody.isEmpty && exchange.requestTrailers == nil
        let leg: Int32
        do {
            leg = try upstream!.submitRequest(exchange.fields, endStream: endStream)
        } catch {
            exchange.code = "502"
            answer(stream, H2Replies.error(status: 502, message: "faultline: upstream refused a stream: \(error)"))
            return
        }
        exchange.upstream = leg
        exchange.creditLeg = leg
        exchange.forwardedAt = now
        byUpstream[leg] = stream
        if !exchange.heldBody.isEmpty {
            exchange.requestQueued += exchange.heldBody.count
            upstream!.appendBody(stream: leg, exchange.heldBody)
            exchange.heldBody = []
        }
        if exchange.requestEnded && !endStream { upstream!.endBody(stream: leg, trailers: exchange.requestTrailers) }
        if exchange.requestEnded { sendCopies(stream, now: now) }
    }

    private func requestBody(_ stream: Int32, _ bytes: [UInt8]) {
        guard let exchange = exchanges[stream], !exchange.discardsRequest else {
            server.consume(stream: stream, count: bytes.count)
            return
        }
        if exchange.recording != nil {
            if exchange.recording!.count + bytes.count > HTTP1SessionStateMachine.maxRecordedRequestBytes {
                exchange.recording = nil
                exchange.copiesToSend = 0
            } else {
                exchange.recording! += bytes
            }
        }
        if let leg = exchange.upstream {
            exchange.requestQueued += bytes.count
            upstream?.appendBody(stream: leg, bytes)
        } else {
            exchange.heldBody += bytes
        }
    }

    private func requestEnded(_ stream: Int32, trailers: [H2Field]?, now: UInt64) {
        guard let exchange = exchanges[stream] else { return }
        exchange.requestEnded = true
        exchange.requestTrailers = trailers
        guard !exchange.discardsRequest, let leg = exchange.upstream else { return }
        upstream?.endBody(stream: leg, trailers: trailers)
        sendCopies(stream, now: now)
    }

    /// A `duplicate` copy waiting for its moment (it outlives the stream it copies).
    private struct ScheduledCopy {
        var at: UInt64
        var fields: [H2Field]
        var body: [UInt8]
        var trailers: [H2Field]?
    }
    private var scheduledCopies: [ScheduledCopy] = []

    /// `duplicate`: once the request is complete, its copies are scheduled `spacing` apart (the
    /// first `spacing` after the original); those due go upstream as streams of their own.
    private func sendCopies(_ stream: Int32, now: UInt64) {
        guard let exchange = exchanges[stream], exchange.copiesToSend > 0, exchange.requestEnded,
              let recording = exchange.recording else { return }
        for copy in 0..<exchange.copiesToSend {
            scheduledCopies.append(ScheduledCopy(
                at: exchange.nextCopyAt &+ UInt64(copy) &* exchange.copySpacing, fields: exchange.fields, body: recording,
                trailers: exchange.requestTrailers))
        }
        exchange.copiesToSend = 0
        exchange.recording = nil
        sendDueCopies(now: now)
    }

    private func sendDueCopies(now: UInt64) {
        guard !scheduledCopies.isEmpty else { return }
        var waiting: [ScheduledCopy] = []
        for copy in scheduledCopies {
            guard copy.at <= now, let upstream else {
                waiting.append(copy)
                wake(at: copy.at)
                continue
            }
            let endStream = copy.body.isEmpty && copy.trailers == nil
            guard let leg = try? upstream.submitRequest(copy.fields, endStream: endStream) else { continue }
            copyLegs.insert(leg)
            if !endStream {
                upstream.appendBody(stream: leg, copy.body)
                upstream.endBody(stream: leg, trailers: copy.trailers)
            }
        }
        scheduledCopies = waiting
    }

    // MARK: Answers the proxy makes

    private func answer(_ stream: Int32, _ reply: (head: [H2Field], body: [UInt8])) {
        if let exchange = exchanges[stream] {
            exchange.answered = true
            if exchange.code == nil { exchange.code = reply.head.value(of: ":status") }
        }
        submitResponse(stream, reply.head, endStream: reply.body.isEmpty)
        if !reply.body.isEmpty {
            server.appendBody(stream: stream, reply.body)
            server.endBody(stream: stream)
        }
    }

    /// RST_STREAM to the client for `stream` (and its upstream leg, if any).
    private func reset(_ stream: Int32, code: UInt32, label: String, now: UInt64?) {
        server.submitReset(stream: stream, errorCode: code)
        if let leg = exchanges[stream]?.upstream {
            upstream?.submitReset(stream: leg, errorCode: HTTP2ErrorCode.cancel)
        }
        finish(stream, code: label, now: now)
    }

    /// A stream the upstream did not take: refused to the client, which may retry it.
    private func refuse(_ stream: Int32, now: UInt64) {
        server.submitReset(stream: stream, errorCode: HTTP2ErrorCode.refusedStream)
        finish(stream, code: "reset", now: now)
    }

    /// `drop_response`: the answer is read and dropped; once it ended, `then` is carried out.
    private func dropResponse(_ stream: Int32, _ event: H2Event, now: UInt64) {
        guard let exchange = exchanges[stream], let then = exchange.dropThen, let leg = exchange.upstream else { return }
        var ended = false
        switch event {
        case .data(_, let bytes): upstream?.consume(stream: leg, count: bytes.count)
        case .head(_, _, let endStream): ended = endStream
        case .end, .trailers, .reset: ended = true
        default: break
        }
        guard ended else { return }
        switch then {
        case .reset:
            reset(stream, code: HTTP2ErrorCode.internalError, label: "reset", now: now)
        case .close:
            // The stream ends without an answer: RST_STREAM NO_ERROR is the stream's FIN.
            server.submitReset(stream: stream, errorCode: HTTP2ErrorCode.noError)
            finish(stream, code: "closed", now: now)
        case .hang:
            finish(stream, code: "hang", now: now)
        }
    }

    // MARK: The upstream connection

    /// The upstream connection could not be made, or closed: requests waiting for an answer get
    /// 502, answers under way are reset, and the next request dials again.
    func upstreamGone(now: UInt64?, code: UInt32 = HTTP2ErrorCode.internalError, reason: String = "upstream closed") {
        for stream in byUpstream.sorted(by: { $0.key < $1.key }).map(\.value) {
            guard let exchange = exchanges[stream] else { continue }
            exchange.upstream = nil
            // The old connection's credit goes with it; the client is owed what it never took.
            exchange.creditLeg = nil
            creditUnsentRequest(exchange)
            if exchange.answered {
                reset(stream, code: code, label: "reset", now: now)
            } else if exchange.dropThen == nil {
                exchange.code = "502"
                answer(stream, H2Replies.error(status: 502, message: "faultline: \(reason)"))
                finish(stream, code: "502", now: now)
            }
        }
        byUpstream.removeAll()
        copyLegs.removeAll()
        scheduledCopies.removeAll()
        upstream = nil
        upstreamPhase = .none
    }

    /// Request bytes the upstream will never take (its stream or connection is gone) are still
    /// owed to the client's flow control.
    private func creditUnsentRequest(_ exchange: H2Exchange) {
        let unsent = exchange.requestQueued - exchange.requestSent
        guard unsent > 0 else { return }
        exchange.requestSent = exchange.requestQueued
        server.consume(stream: exchange.stream, count: unsent)
    }

    /// Tells the client to open no more streams here (GOAWAY NO_ERROR naming the last stream
    /// taken); the connection ends when the streams it has are done.
    func goAwayToClient() {
        guard goawayLastStream == nil else { return }
        goawayLastStream = server.lastProcessedStreamID
        server.submitGoaway(errorCode: HTTP2ErrorCode.noError)
    }

    // MARK: Output

    /// The bytes each session has ready, up to each limit. Events the sends queued (body
    /// credit, closed streams) wait for the next `advance`; a failed send is handled as a failed
    /// receive (journaled, counted, the side's streams ended).
    func flush(toClient: inout [UInt8], clientLimit: Int, toUpstream: inout [UInt8], upstreamLimit: Int, now: UInt64) {
        if clientLimit > 0 {
            do {
                try server.send(into: &toClient, limit: clientLimit)
            } catch {
                if !clientFailed { failed(side: "client", error, now: now) }
            }
        }
        if let upstream, upstreamPhase == .connected, upstreamLimit > 0 {
            do {
                try upstream.send(into: &toUpstream, limit: upstreamLimit)
            } catch {
                failed(side: "upstream", error, now: now)
            }
        }
    }

    // MARK: Timers and plan changes

    private func wake(at deadline: UInt64) {
        if timerAt == nil || deadline < timerAt! { timerAt = deadline }
    }

    /// Releases what is due: held requests, held answers, spaced copies.
    func timerFired(now: UInt64) {
        timerAt = nil
        if let deadline = closeDeadline, deadline > now { wake(at: deadline) }
        sendDueCopies(now: now)
        for stream in exchanges.keys.sorted() {
            guard let exchange = exchanges[stream] else { continue }
            if let at = exchange.forwardAt {
                if at <= now {
                    exchange.forwardAt = nil
                    forward(stream, now: now)
                } else {
                    wake(at: at)
                }
            }
            guard let exchange = exchanges[stream] else { continue }
            if let at = exchange.responseReleaseAt {
                if at <= now {
                    exchange.responseReleaseAt = nil
                    let held = exchange.heldResponse
                    exchange.heldResponse = []
                    for event in held { passResponse(stream, event, now: now) }
                } else {
                    wake(at: at)
                }
            }
        }
    }

    /// The route's faults changed: a `window_stall` that is gone gives back the credit it held.
    func faultsChanged(_ faults: [FaultSpec]) {
        self.faults = faults
        let live = Set(faults.map(\.id))
        for stream in exchanges.keys.sorted() {
            guard let exchange = exchanges[stream], let stall = exchange.stalledBy, !live.contains(stall) else { continue }
            exchange.stalledBy = nil
            server.consume(stream: stream, count: exchange.withheldFromClient)
            if let leg = exchange.creditLeg { upstream?.consume(stream: leg, count: exchange.withheldFromUpstream) }
            exchange.withheldFromClient = 0
            exchange.withheldFromUpstream = 0
        }
    }

    // MARK: Counting

    private func finish(_ stream: Int32, code: String, now: UInt64?) {
        guard let exchange = exchanges[stream] else { return }
        finish(exchange, code: code, now: now)
    }

    private func finish(_ exchange: H2Exchange, code: String, now: UInt64?) {
        guard !exchange.counted else { return }
        exchange.counted = true
        exchange.code = code
        let end = now ?? exchange.startedAt
        effects.completed.append(FinishedRequest(
            code: code, nanoseconds: end &- exchange.startedAt, index: exchange.index, startedAt: exchange.startedAt,
            http: exchange.logged, fault: exchange.decision?.faultID, upstreamNanoseconds: exchange.upstreamNanoseconds,
            grpcStatus: exchange.grpcStatus))
    }

    /// Every open request ends with the connection: those not answered in full count as reset.
    func connectionClosed(now: UInt64, clientGone: Bool) {
        for stream in exchanges.keys.sorted() {
            finish(stream, code: clientGone ? "aborted_by_client" : "reset", now: now)
        }
    }
}

@available(*, unavailable)
extension H2Bridge: Sendable {}

extension H2Event {
    /// The stream an event concerns (nil for connection-wide ones).
    var stream: Int32? {
        switch self {
        case .head(let stream, _, _), .informational(let stream, _), .trailers(let stream, _), .data(let stream, _),
             .end(let stream), .reset(let stream, _), .closed(let stream, _), .sent(let stream, _):
            return stream
        case .goaway, .goawaySent:
            return nil
        }
    }
}
