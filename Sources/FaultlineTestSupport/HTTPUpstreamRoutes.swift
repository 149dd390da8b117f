/// The answers of `HTTPUpstream`, by path (its doc comment lists them).
enum HTTPUpstreamRoutes {
    /// The head `/raw` answers with, byte for byte: mixed case, runs of spaces and tabs around
    /// values, a repeated field and an empty one — all valid, all things a re-serializing proxy
    /// would change.
    static let rawHead = Array(
        "HTTP/1.1 200 Quite OK\r\nX-MiXeD-CaSe:   spaced   value \t\r\nx-dup: 1\r\nX-Dup:2\r\nX-Empty:\r\nContent-Length: 4\r\n\r\n".utf8)
    static let rawBody = Array("raw!".utf8)

    /// The answer to `request` (its body decoded in `body`). `pay` records the side effect of a
    /// `POST /pay` for a key and returns how many times that key has been paid.
    static func answer(_ request: HTTPUpstreamRequest, body: [UInt8], pay: (String) -> Int) -> HTTPUpstreamResponse {
        let base = [
            HTTPField("Server", "faultline-test-upstream"),
            HTTPField("X-Upstream-Conn", String(request.connection)),
            HTTPField("X-Upstream-Req", String(request.index)),
        ]
        let query = parameters(request.target)
        if request.method == "CONNECT" {
            return HTTPUpstreamResponse(status: 200, reason: "Connection Established", fields: base, after: .tunnel)
        }
        switch request.path {
        case "/echo":
            return bytes(200, body, base + [HTTPField("x-body-sha256", request.bodySHA256)])
        case "/big", "/chunked", "/eof":
            let size = query["size"].flatMap { Int($0) } ?? 0
            let seed = query["seed"].flatMap { UInt64($0) } ?? UInt64(size)
            let payload = SplitMix64.bytes(count: size, seed: seed)
            let sha = SHA256.hex(payload)
            let fields = base + [HTTPField("x-body-sha256", sha)]
            if request.path == "/big" { return bytes(200, payload, fields) }
            if request.path == "/eof" {
                return HTTPUpstreamResponse(status: 200, reason: "OK", fields: fields + [HTTPField("Connection", "close")],
                                            body: .untilClose(payload), after: .close)
            }
            var rng = SplitMix64(seed: seed ^ 0xC4A1)
            let sizes = (0..<64).map { _ in 1 + Int(rng.next() % 20_000) }
            return HTTPUpstreamResponse(
                status: 200, reason: "OK",
                fields: fields + [HTTPField("Transfer-Encoding", "chunked"), HTTPField("Trailer", "x-checksum")],
                body: .chunked(payload, chunkSizes: sizes, trailers: [HTTPField("x-checksum", sha)]))
        case "/slow":
            let ms = query["ms"].flatMap { Int($0) } ?? 0
            var response = bytes(200, Array("slow \(ms)\n".utf8), base)
            response.delay = .milliseconds(ms)
            return response
        case "/pay" where request.method == "POST":
            let key = request.header("idempotency-key") ?? ""
            let times = pay(key)
            return bytes(200, Array("paid \(key) #\(times)\n".utf8), base)
        case "/ws":
            guard request.header("upgrade")?.lowercased() == "websocket" else {
                return bytes(426, Array("upgrade to websocket\n".utf8), base + [HTTPField("Upgrade", "websocket")])
            }
            return HTTPUpstreamResponse(
                status: 101, reason: "Switching Protocols",
                fields: base + [HTTPField("Upgrade", "websocket"), HTTPField("Connection", "Upgrade")], after: .tunnel)
        case "/raw":
            return HTTPUpstreamResponse(status: 200, reason: "Quite OK", fields: [], body: .bytes(rawBody), rawHead: rawHead)
        default:
            if request.path.hasPrefix("/status/"), let code = Int(request.path.dropFirst("/status/".count)), (200...599).contains(code) {
                if code == 204 || code == 304 {
                    return HTTPUpstreamResponse(status: code, reason: code == 204 ? "No Content" : "Not Modified", fields: base)
                }
                return bytes(code, Array("status \(code)\n".utf8), base, reason: "Status \(code)")
            }
            return bytes(200, Array("\(request.method) \(request.target)\n".utf8), base)
        }
    }

    private static func bytes(_ status: Int, _ body: [UInt8], _ fields: [HTTPField], reason: String = "OK") -> HTTPUpstreamResponse {
        HTTPUpstreamResponse(status: status, reason: reason, fields: fields + [HTTPField("Content-Length", String(body.count))], body: .bytes(body))
    }

    /// `a=1&b=2` of a target, undecoded.
    static func parameters(_ target: String) -> [String: String] {
        guard let mark = target.firstIndex(of: "?") else { return [:] }
        var out: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            out[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return out
    }
}
