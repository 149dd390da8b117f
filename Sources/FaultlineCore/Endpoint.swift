/// An IP address as the config names it: IPv4 or IPv6, in network byte order.
public enum IPAddress: Sendable, Hashable {
    case v4(UInt8, UInt8, UInt8, UInt8)
    case v6([UInt8])

    /// Parses an IPv4 dotted quad or an IPv6 literal (without brackets); `localhost` is 127.0.0.1.
    public init?(parsing text: String) {
        if text == "localhost" { self = .v4(127, 0, 0, 1); return }
        if let v4 = IPAddress.parseV4(Substring(text)) {
            self = .v4(v4[0], v4[1], v4[2], v4[3])
            return
        }
        if let v6 = IPAddress.parseV6(text) {
            self = .v6(v6)
            return
        }
        return nil
    }

    /// True for 127.0.0.0/8 and ::1.
    public var isLoopback: Bool {
        switch self {
        case .v4(let a, _, _, _): return a == 127
        case .v6(let bytes): return bytes == [UInt8](repeating: 0, count: 15) + [1]
        }
    }

    private static func parseV4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = UInt8(part) else { return nil }
            out.append(value)
        }
        return out
    }

    private static func splitOnDoubleColon(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var previousWasColon = false
        for ch in text {
            if ch == ":" && previousWasColon {
                current.removeLast()
                parts.append(current)
                current = ""
                previousWasColon = false
                continue
            }
            current.append(ch)
            previousWasColon = ch == ":"
        }
        parts.append(current)
        return parts
    }

    private static func parseV6(_ text: String) -> [UInt8]? {
        guard text.contains(":"), text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        let halves = splitOnDoubleColon(text)
        guard halves.count <= 2 else { return nil }
        // A dotted IPv4 tail may end only the last part (RFC 4291 §2.2, form 3).
        func groups(_ part: String, allowDottedTail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if allowDottedTail, index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseV4(piece) else { return nil }
                    result.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    result.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                } else {
                    guard !piece.isEmpty, piece.count <= 4, let value = UInt16(piece, radix: 16) else { return nil }
                    result.append(value)
                }
            }
            return result
        }
        guard let head = groups(halves[0], allowDottedTail: halves.count == 1) else { return nil }
        var all: [UInt16]
        if halves.count == 2 {
            guard let tail = groups(halves[1], allowDottedTail: true), head.count + tail.count <= 7 else { return nil }
            all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard head.count == 8 else { return nil }
            all = head
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }
}

extension IPAddress: CustomStringConvertible {
    public var description: String {
        switch self {
        case .v4(let a, let b, let c, let d): return "\(a).\(b).\(c).\(d)"
        case .v6(let bytes):
            var groups: [String] = []
            for i in stride(from: 0, to: 16, by: 2) {
                groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
            }
            return groups.joined(separator: ":")
        }
    }
}

/// A host and port: `127.0.0.1:8080` or `[::1]:8080`.
public struct Endpoint: Sendable, Hashable {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses `host:port`, with IPv6 hosts in brackets. Port 0 is accepted (ephemeral).
    public init?(parsing text: String) {
        let host: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard host.contains(":") else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { return nil }
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = UInt16(portText), let address = IPAddress(parsing: host) else { return nil }
        self.init(address: address, port: port)
    }
}

extension Endpoint: CustomStringConvertible {
    public var description: String {
        switch address {
        case .v4: return "\(address):\(port)"
        case .v6: return "[\(address)]:\(port)"
        }
    }
}
