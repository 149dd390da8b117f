import FaultlineCore
import FaultlineHTTP2

/// One request stream of an HTTP/2 connection and its answer (ARCHITECTURE.md, L3): the fault
/// decision taken when its head arrived, and where its request and response stand.
final class H2Exchange {
    /// The client's stream id.
    let stream: Int32
    let index: UInt64
    let startedAt: UInt64
    var decision: HTTPFaultDecision?
    /// The request head, as it goes to the upstream.
    var fields: [H2Field]
    /// The upstream's stream id, once the request was submitted there (nil again once it closed).
    var upstream: Int32?
    /// The upstream stream whose body bytes this exchange owes credit for: kept after that stream
    /// closed (an answer usually ends before its last bytes reach the client, and the upstream
    /// connection's window is owed them all), dropped with the upstream connection.
    var creditLeg: Int32?
    /// Body bytes handed to the other side's session, and those of them it sent (the rest is owed
    /// to the sender when the stream ends first).
    var requestQueued = 0
    var requestSent = 0
    var responseQueued = 0
    var responseSent = 0
    /// The client ended its request (END_STREAM or trailers).
    var requestEnded = false
    var requestTrailers: [H2Field]?
    /// Request body not yet submitted upstream (the request is held, or not forwarded yet).
    var heldBody: [UInt8] = []
    /// Nothing of the request goes upstream: its body is read and credited back at once.
    var discardsRequest = false
    /// A `delay` holds the request until then.
    var forwardAt: UInt64?
    /// A response-phase `delay`: how long the head waits once it arrives, then until when.
    var responseDelay: UInt64?
    var responseReleaseAt: UInt64?
    /// Upstream events held by a response-phase delay, in order.
    var heldResponse: [H2Event] = []
    /// The answer's head went to the client (passed on or made by the proxy).
    var answered = false
    /// The upstream's answer ended (END_STREAM or trailers seen).
    var responseEnded = false
    /// `drop_response`: the answer is read and dropped, then this.
    var dropThen: DropThen?
    /// `window_stall`: no flow-control credit to either peer for this stream while it acts.
    var stalledBy: String?
    /// Credit withheld while stalled: client body bytes sent upstream, and response bytes sent
    /// to the client.
    var withheldFromClient = 0
    var withheldFromUpstream = 0
    /// `duplicate`: the request body as sent, for the copies (nil when too large).
    var recording: [UInt8]?
    var copiesToSend = 0
    var copySpacing: UInt64 = 0
    var nextCopyAt: UInt64 = 0
    /// What the client got, for `faultline_http_requests_total` and the log.
    var code: String?
    var counted = false
    var logged: RequestRecord.HTTPPart?
    var forwardedAt: UInt64?
    /// From forwarding to the upstream's first head (a 1xx or the answer), as HTTP/1.1 logs it.
    var upstreamNanoseconds: UInt64?
    /// The `grpc-status` the client got (a trailers-only head, or the trailers).
    var grpcStatus: Int?

    /// The upstream's first head arrived `now` (later heads leave the time as it is).
    func upstreamAnswered(now: UInt64) {
        if upstreamNanoseconds == nil, let forwardedAt { upstreamNanoseconds = now &- forwardedAt }
    }

    init(stream: Int32, index: UInt64, startedAt: UInt64, fields: [H2Field]) {
        self.stream = stream
        self.index = index
        self.startedAt = startedAt
        self.fields = fields
    }

    /// A request target without its query.
    static func path(_ target: String) -> String {
        target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target
    }

    /// The request as fault matching sees it: `:method`, `:path` before `?`, and the regular
    /// headers (with `host` from `:authority` when the client sent none).
    static func facts(_ fields: [H2Field]) -> HTTPRequestFacts {
        var method = ""
        var path = ""
        var authority: String?
        var headers: [HTTPHeaderPair] = []
        for field in fields {
            switch field.nameString {
            case ":method": method = field.valueString
            case ":path": path = Self.path(field.valueString)
            case ":authority": authority = field.valueString
            case let name where name.hasPrefix(":"): break
            case let name: headers.append(HTTPHeaderPair(name, field.valueString))
            }
        }
        if let authority, !headers.contains(where: { $0.name == "host" }) {
            headers.append(HTTPHeaderPair("host", authority))
        }
        return HTTPRequestFacts(method: method, path: path, headers: headers)
    }
}

/// The heads the proxy answers with itself on HTTP/2.
enum H2Replies {
    /// An `abort`: a gRPC status answers trailers-only (RFC-free but gRPC's own: HTTP 200,
    /// `content-type: application/grpc`, `grpc-status`, `grpc-message`, END_STREAM on the head);
    /// otherwise the status, the headers and the body.
    static func abort(_ abort: HTTPAbort, faultID: String, mark: Bool, headOnly: Bool) -> (head: [H2Field], body: [UInt8]) {
        var head: [H2Field]
        var body: [UInt8] = []
        if let grpcStatus = abort.grpcStatus {
            head = [H2Field(":status", "200"), H2Field("content-type", "application/grpc"), H2Field("grpc-status", String(grpcStatus))]
            if !abort.grpcMessage.isEmpty { head.append(H2Field("grpc-message", percentEncoded(abort.grpcMessage))) }
            for header in abort.headers { head.append(H2Field(header.name.lowercased(), header.value)) }
        } else {
            head = [H2Field(":status", String(abort.status))]
            for header in abort.headers { head.append(H2Field(header.name.lowercased(), header.value)) }
            if !abort.headers.contains(where: { $0.name.lowercased() == "content-type" }) && !abort.body.isEmpty {
                head.append(H2Field("content-type", "text/plain; charset=utf-8"))
            }
            if abort.status != 204 && abort.status != 304 { head.append(H2Field("content-length", String(abort.body.utf8.count))) }
            if !headOnly { body = Array(abort.body.utf8) }
        }
        if mark { head.append(H2Field("x-faultline-fault", faultID)) }
        return (head, body)
    }

    /// A plain-text error from the proxy itself (an unreachable upstream).
    static func error(status: Int, message: String) -> (head: [H2Field], body: [UInt8]) {
        let body = Array((message + "\n").utf8)
        return ([H2Field(":status", String(status)), H2Field("content-type", "text/plain; charset=utf-8"),
                 H2Field("content-length", String(body.count))], body)
    }

    /// gRPC's percent-encoding of `grpc-message` (bytes outside printable ASCII, and `%`).
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if byte >= 0x20 && byte <= 0x7e && byte != 0x25 {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]], as: UTF8.self)
            }
        }
        return out
    }
}
