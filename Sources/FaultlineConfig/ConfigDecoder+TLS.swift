internal import FaultlineCore

/// `routes[].tls` and `routes[].upstream_tls` (SPEC §3.6). Only the shape is checked here; the
/// files are read when the proxy builds the route, and a file it cannot use is reported there
/// with the same path (`routes[0].tls.cert`).
extension ConfigDecoder {
    /// `{"cert", "key", "alpn"}`. An http route serves HTTP/2 and HTTP/1.1 (docs/HTTP2.md) but does
    /// not translate, so its `alpn` defaults to `["http/1.1"]` (an HTTP/1.1 upstream stays safe
    /// behind it; list `"h2"` to offer HTTP/2); a grpc route's defaults to `["h2", "http/1.1"]`
    /// (gRPC is HTTP/2); a tcp route passes any protocol through and offers none unless told.
    static func decodeTLS(
        _ value: JSONValue, path: String, protocolKind: RouteProtocol, _ diagnostics: inout Diagnostics
    ) -> TLSSettings? {
        guard var reader = ObjectReader(value, path: path, diagnostics: &diagnostics) else { return nil }
        let errorsBefore = diagnostics.errors.count
        let certificate = reader.require("cert", &diagnostics).flatMap { diagnostics.nonEmptyString($0, reader.path("cert")) }
        let key = reader.require("key", &diagnostics).flatMap { diagnostics.nonEmptyString($0, reader.path("key")) }
        var alpn: [String]
        switch protocolKind {
        case .tcp: alpn = []
        case .http: alpn = [ALPNProtocol.http11]
        case .grpc: alpn = [ALPNProtocol.http2, ALPNProtocol.http11]
        }
        if let value = reader.take("alpn") {
            alpn = decodeALPN(value, path: reader.path("alpn"), &diagnostics) ?? alpn
        }
        reader.reportUnknownKeys(&diagnostics, message: "unknown key (expected cert, key or alpn)")
        guard diagnostics.errors.count == errorsBefore, let certificate, let key else { return nil }
        return TLSSettings(certificate: certificate, key: key, alpn: alpn)
    }

    /// `{"ca", "sni", "verify", "alpn"}`: every key optional; verification is on by default.
    /// On an http or grpc route the upstream is offered the client's protocol (the proxy builds an
    /// `h2` context beside this one), so `alpn` is a tcp route's key only; the decoded list of an
    /// http route is the HTTP/1.1 context's, `["http/1.1"]`.
    static func decodeUpstreamTLS(
        _ value: JSONValue, path: String, protocolKind: RouteProtocol, _ diagnostics: inout Diagnostics
    ) -> UpstreamTLSSettings? {
        guard var reader = ObjectReader(value, path: path, diagnostics: &diagnostics) else { return nil }
        let errorsBefore = diagnostics.errors.count
        var settings = UpstreamTLSSettings(alpn: protocolKind.isHTTP ? [ALPNProtocol.http11] : [])
        if let value = reader.takeNullable("ca") {
            settings.ca = diagnostics.nonEmptyString(value, reader.path("ca"))
        }
        if let value = reader.takeNullable("sni"), let name = diagnostics.nonEmptyString(value, reader.path("sni")) {
            if isValidServerName(name) {
                settings.serverName = name
            } else {
                diagnostics.add(reader.path("sni"), "\(quoted(name)) is not a valid host name")
            }
        }
        if let value = reader.take("verify") {
            settings.verify = diagnostics.bool(value, reader.path("verify")) ?? true
        }
        if let value = reader.take("alpn") {
            if protocolKind.isHTTP {
                diagnostics.add(
                    reader.path("alpn"),
                    "on http and grpc routes the upstream is offered the client's protocol (h2 or http/1.1); leave alpn out")
            } else {
                settings.alpn = decodeALPN(value, path: reader.path("alpn"), &diagnostics) ?? settings.alpn
            }
        }
        reader.reportUnknownKeys(&diagnostics, message: "unknown key (expected ca, sni, verify or alpn)")
        return diagnostics.errors.count == errorsBefore ? settings : nil
    }

    /// A list of distinct protocol names from `ALPNProtocol.all`.
    private static func decodeALPN(
        _ value: JSONValue, path: String, _ diagnostics: inout Diagnostics
    ) -> [String]? {
        guard let items = diagnostics.array(value, path) else { return nil }
        var names: [String] = []
        var ok = true
        for (index, item) in items.enumerated() {
            let itemPath = JSONPath.index(path, index)
            guard let name = diagnostics.string(item, itemPath) else { ok = false; continue }
            if !ALPNProtocol.all.contains(name) {
                diagnostics.add(itemPath, "unknown ALPN protocol \(quoted(name)) (expected \(Diagnostics.orList(ALPNProtocol.all.map(quoted))))")
                ok = false
            } else if names.contains(name) {
                diagnostics.add(itemPath, "\(quoted(name)) is listed twice")
                ok = false
            } else {
                names.append(name)
            }
        }
        return ok ? names : nil
    }

    /// A DNS name of letters, digits, hyphens and dots (what SNI may carry), at most 253 bytes.
    public static func isValidServerName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253, bytes.first != UInt8(ascii: "."), bytes.last != UInt8(ascii: "-") else { return false }
        var label = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                label += 1
                if label > 63 { return false }
            case UInt8(ascii: "."):
                if label == 0 { return false }
                label = 0
            default:
                return false
            }
        }
        return true
    }
}
