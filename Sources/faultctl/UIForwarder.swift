import ArgumentParser
import FaultlineClient
import Foundation
internal import Glibc

/// `faultctl ui --listen HOST:PORT`: a small local HTTP server in front of the daemon, for a
/// browser to reach a daemon it cannot (one with only a Unix socket, or a tokened TCP listener
/// behind SSH).
///
/// It serves only what the status page needs — GET of `/ui`, `/ui/app.js`, `/ui/app.css`,
/// `/v1/ui/snapshot`, `/v1/journal` and `/v1/report` — by asking the daemon with faultctl's own
/// credentials (the socket's peer check, or `--token`) and passing the answer on. Every other
/// path is 404 and every other method 405, so nothing that changes state can go through it.
///
/// The port is open to every local user, so it is guarded as the daemon's TCP listener is: the
/// printed URL carries a one-time random token, exchanged at `/ui?token=` for an HttpOnly,
/// SameSite=Strict cookie holding a second random secret; a request without it is 401.
///
/// Like `HTTPExchange`, this talks to the kernel directly with Glibc: faultctl does not depend on
/// FaultlineSystem, and every raw call of the forwarder stays in this file. One thread per
/// connection, blocking sockets with 10-second timeouts, `Connection: close` after each answer:
/// the page makes about two requests a second, so there is nothing to optimise.
final class UIForwarder: Sendable {
    /// The paths the page reads (and the report it links to).
    static let pagePaths: Set<String> = ["/ui", "/ui/app.js", "/ui/app.css", "/v1/ui/snapshot", "/v1/journal", "/v1/report"]
    /// Headers of the daemon's answers passed on to the browser (the page's security policy among them).
    static let passedHeaders: Set<String> = [
        "content-type", "cache-control", "content-security-policy", "x-content-type-options", "referrer-policy",
        "x-faultline-journal-oldest", "x-faultline-journal-last",
    ]

    let client: FaultlineClient
    /// The URL to open: `http://HOST:PORT/ui?token=…`.
    let url: String
    private let listener: Int32
    private let token: [UInt8]
    private let secret: String
    private let cookieName: String

    /// Binds `listen` (`HOST:PORT`, an IP literal; port 0 picks a free one).
    /// - Throws: `ValidationError` for an address that is not `HOST:PORT` or cannot be bound.
    init(listen: String, client: FaultlineClient) throws {
        guard let endpoint = Endpoint(parsing: listen) else {
            throw ValidationError("--listen: \"\(listen)\" is not HOST:PORT with an IP address (e.g. 127.0.0.1:0)")
        }
        self.client = client
        let (fd, port) = try Self.bind(endpoint, text: listen)
        listener = fd
        let tokenText = Self.randomHex()
        token = Array(tokenText.utf8)
        secret = Self.randomHex()
        cookieName = "faultctl_ui_\(port)"
        var bound = endpoint
        bound.port = port
        url = "http://\(bound)/ui?token=\(tokenText)"
    }

    /// Accepts and answers connections until the process is stopped (Ctrl-C).
    func serve() -> Never {
        while true {
            // accept4 needs _GNU_SOURCE, which Glibc's module does not define; set CLOEXEC after.
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE {
                    if errno != EINTR { usleep(50_000) }
                    continue
                }
                Output.error("faultctl: ui: accept: \(String(cString: strerror(errno)))")
                Glibc.exit(Faultctl.Exit.unreachable)
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            Thread.detachNewThread { [self] in
                self.handle(fd)
            }
        }
    }

    // MARK: One connection

    private func handle(_ fd: Int32) {
        // close(2) is not retried on EINTR: on Linux the descriptor is released either way.
        defer { _ = Glibc.close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let head = readHead(fd) else { return }
        let answer = respond(to: head)
        sendAll(fd, Self.serialize(answer))
        // Half-close and drain briefly, so a request body we did not read does not turn the close
        // into an RST that destroys the answer in flight.
        _ = shutdown(fd, Int32(SHUT_WR))
        var scratch = [UInt8](repeating: 0, count: 4096)
        var drainTimeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &drainTimeout, socklen_t(MemoryLayout<timeval>.size))
        while scratch.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {}
    }

    /// A request head as this forwarder needs it.
    struct Head {
        var method: String
        var target: String
        var cookies: [String]
    }

    /// An answer to write.
    struct Answer {
        var status: Int
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []

        static func text(_ status: Int, _ text: String) -> Answer {
            Answer(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array((text + "\n").utf8))
        }
    }

    /// The answer to `head`: the cookie exchange, a refusal, or the daemon's answer.
    func respond(to head: Head) -> Answer {
        let path = String(head.target.prefix { $0 != "?" })
        let query = head.target.contains("?") ? String(head.target.drop { $0 != "?" }.dropFirst()) : ""
        if head.method == "GET", path == "/ui", let presented = Self.queryValue("token", in: query) {
            guard Self.constantTimeEquals(Array(presented.utf8), token) else {
                return .text(401, "faultctl ui: the token in this URL is wrong; open the URL faultctl ui printed")
            }
            return Answer(status: 303, headers: [
                ("Location", "/ui"), ("Set-Cookie", "\(cookieName)=\(secret); Path=/; HttpOnly; SameSite=Strict"),
                ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"),
            ])
        }
        guard presentsCookie(head.cookies) else {
            return .text(401, "faultctl ui: open the URL faultctl ui printed (it carries the token)")
        }
        guard head.method == "GET" else {
            var answer = Answer.text(405, "faultctl ui: only GET is forwarded; the status page changes nothing")
            answer.headers.append(("Allow", "GET"))
            return answer
        }
        guard Self.pagePaths.contains(path) else {
            return .text(404, "faultctl ui: \(path) is not part of the status page")
        }
        do {
            let response = try client.request("GET", head.target)
            return Answer(
                status: response.status,
                headers: response.headers.filter { Self.passedHeaders.contains($0.name.lowercased()) }.map { ($0.name, $0.value) },
                body: response.body
            )
        } catch {
            return .text(502, "faultctl ui: the daemon did not answer: \(error)")
        }
    }

    private func presentsCookie(_ headers: [String]) -> Bool {
        let secret = Array(self.secret.utf8)
        for header in headers {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == cookieName else { continue }
                if Self.constantTimeEquals(Array(parts[1].trimmingCharacters(in: .whitespaces).utf8), secret) { return true }
            }
        }
        return false
    }

    // MARK: Wire

    private func readHead(_ fd: Int32) -> Head? {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let end: [UInt8] = [13, 10, 13, 10]
        while data.count < 16 * 1024 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            data += chunk[0..<count]
            if let at = Self.find(end, in: data) { return Self.parseHead(data[..<at]) }
        }
        return nil
    }

    static func parseHead(_ bytes: ArraySlice<UInt8>) -> Head? {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), parts[1].hasPrefix("/") else { return nil }
        var cookies: [String] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == "cookie" {
                cookies.append(String(line[line.index(after: colon)...]))
            }
        }
        return Head(method: String(parts[0]), target: String(parts[1]), cookies: cookies)
    }

    static func serialize(_ answer: Answer) -> [UInt8] {
        let reasons = [200: "OK", 303: "See Other", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                       405: "Method Not Allowed", 422: "Unprocessable Content", 502: "Bad Gateway", 503: "Service Unavailable"]
        var head = "HTTP/1.1 \(answer.status) \(reasons[answer.status] ?? "Status")\r\n"
        for (name, value) in answer.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(answer.body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + answer.body
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a browser that went away must not kill faultctl with SIGPIPE.
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += sent
        }
    }

    private static func find(_ needle: [UInt8], in data: [UInt8]) -> Int? {
        guard data.count >= needle.count else { return nil }
        for index in 0...(data.count - needle.count) where data[index] == needle[0] {
            if Array(data[index..<(index + needle.count)]) == needle { return index }
        }
        return nil
    }

    // MARK: Helpers

    private static func bind(_ endpoint: Endpoint, text: String) throws -> (Int32, UInt16) {
        let family: Int32
        switch endpoint.address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("--listen: socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var result: Int32
        switch endpoint.address {
        case .v4(let a, let b, let c, let d):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = endpoint.port.bigEndian
            address.sin_addr.s_addr = (UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)).bigEndian
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let bytes):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: bytes) }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard result == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.close(fd)
            throw ValidationError("--listen: cannot listen on \(text): \(reason)")
        }
        var bound = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        // sin_port and sin6_port sit at the same offset.
        return (fd, UInt16(bigEndian: bound.sin6_port))
    }

    /// 128 random bits as hex (getrandom(2), through SystemRandomNumberGenerator).
    private static func randomHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next(), radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    private static func queryValue(_ name: String, in query: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == name { return parts.count > 1 ? String(parts[1]).removingPercentEncoding ?? String(parts[1]) : "" }
        }
        return nil
    }

    private static func constantTimeEquals(_ presented: [UInt8], _ secret: [UInt8]) -> Bool {
        var difference = UInt8(presented.count == secret.count ? 0 : 1)
        for (index, byte) in secret.enumerated() {
            difference |= byte ^ (index < presented.count ? presented[index] : 0)
        }
        return difference == 0
    }
}
