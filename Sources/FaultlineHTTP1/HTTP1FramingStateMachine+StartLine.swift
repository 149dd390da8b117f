// Start lines and header fields (RFC 9112 §3, §4, §5), strict, read straight from the caller's bytes.
extension HTTP1FramingStateMachine {
    func parseStartLine(_ line: Span<UInt8>) throws(HTTPParseError) -> StartLine {
        switch role {
        case .request: return try Self.parseRequestLine(line)
        case .response: return try Self.parseStatusLine(line)
        }
    }

    static func parseRequestLine(_ line: Span<UInt8>) throws(HTTPParseError) -> StartLine {
        // `method SP target SP version`; a further SP belongs to the version (and fails there).
        guard let firstSpace = firstIndex(of: 0x20, in: line, from: 0),
              let secondSpace = firstIndex(of: 0x20, in: line, from: firstSpace + 1) else {
            throw .invalidRequestLine
        }
        let method = line.extracting(0..<firstSpace)
        let target = line.extracting((firstSpace + 1)..<secondSpace)
        let version = line.extracting((secondSpace + 1)..<line.count)
        guard !method.isEmpty else { throw .invalidRequestLine }
        guard allSatisfy(method, HTTPSyntax.isTokenByte) else { throw .invalidMethod }
        guard !target.isEmpty else { throw .invalidRequestLine }
        guard allSatisfy(target, HTTPSyntax.isTargetByte) else { throw .invalidTarget }
        return .request(method: string(method), target: string(target), version: try parseVersion(version))
    }

    static func parseStatusLine(_ line: Span<UInt8>) throws(HTTPParseError) -> StartLine {
        guard line.count >= 12 else { throw .invalidStatusLine }
        let version = try parseVersion(line.extracting(0..<8))
        guard line[8] == 0x20 else { throw .invalidStatusLine }
        var status = 0
        for index in 9..<12 {
            let digit = line[index]
            guard digit >= 0x30 && digit <= 0x39 else { throw .invalidStatus }
            status = status * 10 + Int(digit - 0x30)
        }
        guard (100...599).contains(status) else { throw .invalidStatus }
        var reason = ""
        if line.count > 12 {
            // The SP before an empty reason is required by the grammar but often missing in
            // practice; `HTTP/1.1 200` is accepted (the one tolerance, clients ignore the reason).
            guard line[12] == 0x20 else { throw .invalidStatusLine }
            let phrase = line.extracting(13..<line.count)
            guard allSatisfy(phrase, HTTPSyntax.isFieldValueByte) else { throw .invalidReasonPhrase }
            reason = string(phrase)
        }
        return .response(version: version, status: status, reason: reason)
    }

    static func parseVersion(_ bytes: Span<UInt8>) throws(HTTPParseError) -> HTTPVersion {
        guard bytes.count == 8, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"),
              bytes[2] == UInt8(ascii: "T"), bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/") else {
            throw .invalidVersion
        }
        let major = bytes[5], dot = bytes[6], minor = bytes[7]
        guard major >= 0x30 && major <= 0x39, dot == UInt8(ascii: "."), minor >= 0x30 && minor <= 0x39 else {
            throw .invalidVersion
        }
        let version = HTTPVersion(major: Int(major - 0x30), minor: Int(minor - 0x30))
        guard version == .http1_0 || version == .http1_1 else { throw .unsupportedVersion(version) }
        return version
    }

    static func parseField(_ line: Span<UInt8>) throws(HTTPParseError) -> HTTPField {
        guard !line.isEmpty else { throw .invalidHeaderName }
        if HTTPSyntax.isWhitespace(line[0]) { throw .obsoleteLineFolding }
        guard let colon = firstIndex(of: UInt8(ascii: ":"), in: line, from: 0) else { throw .missingColon }
        guard colon > 0 else { throw .invalidHeaderName }
        if HTTPSyntax.isWhitespace(line[colon - 1]) { throw .whitespaceBeforeColon }
        let name = line.extracting(0..<colon)
        guard allSatisfy(name, HTTPSyntax.isTokenByte) else { throw .invalidHeaderName }
        let nameText = string(name)
        var start = colon + 1, end = line.count
        while start < end && HTTPSyntax.isWhitespace(line[start]) { start += 1 }
        while end > start && HTTPSyntax.isWhitespace(line[end - 1]) { end -= 1 }
        let value = line.extracting(start..<end)
        guard allSatisfy(value, HTTPSyntax.isFieldValueByte), let valueText = validatedString(value) else {
            throw .invalidHeaderValue(name: nameText)
        }
        return HTTPField(name: nameText, value: valueText)
    }

    // MARK: Span helpers

    static func firstIndex(of byte: UInt8, in bytes: Span<UInt8>, from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    static func allSatisfy(_ bytes: Span<UInt8>, _ predicate: (UInt8) -> Bool) -> Bool {
        for index in bytes.indices where !predicate(bytes[index]) { return false }
        return true
    }

    /// The bytes as a String when they are valid UTF-8.
    static func validatedString(_ bytes: Span<UInt8>) -> String? {
        guard let text = try? UTF8Span(validating: bytes) else { return nil }
        return String(copying: text)
    }

    /// The bytes as a String, invalid UTF-8 repaired (U+FFFD), as `String(decoding:as:)` does.
    static func string(_ bytes: Span<UInt8>) -> String {
        if let text = validatedString(bytes) { return text }
        var copy: [UInt8] = []
        copy.reserveCapacity(bytes.count)
        for index in bytes.indices { copy.append(bytes[index]) }
        return String(decoding: copy, as: UTF8.self)
    }
}
