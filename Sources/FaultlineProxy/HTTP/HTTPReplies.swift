import FaultlineCore
import FaultlineHTTP1

/// Responses the proxy writes itself: an `abort`, a refusal of a malformed request, an upstream
/// that could not be reached. Each is complete and framed by Content-Length.
enum HTTPReplies {
    /// The `x-faultline-fault` header line (with CRLF) for a fault id.
    static func markLine(_ faultID: String) -> [UInt8] {
        Array("x-faultline-fault: \(faultID)\r\n".utf8)
    }

    /// The reply of an `abort` fault. HEAD gets the head only (RFC 9110 §9.3.2).
    static func abort(_ abort: HTTPAbort, faultID: String, mark: Bool, headOnly: Bool, close: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(abort.status) \(HTTPStatus.reasonPhrase(for: abort.status))\r\n"
        for header in abort.headers { head += "\(header.name): \(header.value)\r\n" }
        if !abort.headers.contains(where: { $0.name.lowercased() == "content-type" }) && !abort.body.isEmpty {
            head += "content-type: text/plain; charset=utf-8\r\n"
        }
        // 204 and 304 end at the head: no Content-Length (RFC 9110 §8.6); the config refuses a body.
        if abort.status != 204 && abort.status != 304 { head += "content-length: \(abort.body.utf8.count)\r\n" }
        if close { head += "connection: close\r\n" }
        if mark { head += "x-faultline-fault: \(faultID)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if !headOnly { bytes += Array(abort.body.utf8) }
        return bytes
    }

    /// A plain-text error from the proxy itself; the connection closes after it.
    static func error(status: Int, message: String) -> [UInt8] {
        let body = message + "\n"
        let text = "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(for: status))\r\n"
            + "content-type: text/plain; charset=utf-8\r\n"
            + "content-length: \(body.utf8.count)\r\n"
            + "connection: close\r\n"
            + "\r\n" + body
        return Array(text.utf8)
    }
}
