internal import COpenSSL

extension TLSContext {
    /// The protocol names as bytes; each must be 1…255 bytes (its length is one byte on the wire).
    static func validatedALPN(_ alpn: [String]) throws(TLSError) -> [[UInt8]] {
        var protocols: [[UInt8]] = []
        for name in alpn {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else {
                throw TLSError(reason: "internal", message: "ALPN protocol names are 1…255 bytes: \"\(name)\"")
            }
            protocols.append(bytes)
        }
        return protocols
    }

    /// The ALPN extension's list: each name prefixed by its length.
    static func wireFormat(_ protocols: [[UInt8]]) -> [UInt8] {
        var wire: [UInt8] = []
        for name in protocols {
            wire.append(UInt8(name.count))
            wire.append(contentsOf: name)
        }
        return wire
    }

    /// Installs the server's selection callback. The callback gets this object through `arg`
    /// (unretained: every SSL made from the SSL_CTX belongs to a `TLSSession`, which keeps this
    /// context alive).
    func installALPNSelection() {
        let arg = Unmanaged.passUnretained(self).toOpaque()
        SSL_CTX_set_alpn_select_cb(ctx, { _, out, outLength, offered, offeredLength, arg in
            guard let out, let outLength, let offered, let arg else { return SSL_TLSEXT_ERR_NOACK }
            let context = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue()
            let list = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
            guard let chosen = context.selectALPN(offered: list) else {
                // No overlap: carry on without ALPN rather than failing the handshake.
                return SSL_TLSEXT_ERR_NOACK
            }
            out.pointee = offered + chosen.lowerBound
            outLength.pointee = UInt8(chosen.count)
            return SSL_TLSEXT_ERR_OK
        }, arg)
    }

    /// The range, inside the client's wire-format list, of the first of our protocols (in our
    /// order) that the client offered; nil when none was, or the list is malformed.
    func selectALPN(offered list: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        for name in alpnProtocols {
            var index = 0
            while index < list.count {
                let length = Int(list[index])
                let start = index + 1
                let end = start + length
                guard length > 0, end <= list.count else { return nil }
                if length == name.count && name.withUnsafeBufferPointer({ mine in
                    (0..<length).allSatisfy { mine[$0] == list[start + $0] }
                }) {
                    return start..<end
                }
                index = end
            }
        }
        return nil
    }
}
