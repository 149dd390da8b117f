internal import CNGHTTP2
import Glibc

/// What nghttp2's callbacks write to: the queued events, the head being read, the bodies being
/// sent. Reached from C through the session's user data (unretained: the session owns it).
final class H2SessionState {
    let role: H2Role
    var events: [H2Event] = []
    /// Header fields of the header block being received (HTTP/2 never interleaves two blocks:
    /// CONTINUATION frames follow their HEADERS at once), and its stream.
    var headers: [H2Field] = []
    var headersStream: Int32 = 0
    /// Bodies submitted with a data provider, until their stream closes.
    var bodies: [Int32: H2OutgoingBody] = [:]

    init(role: H2Role) {
        self.role = role
    }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> H2SessionState {
        Unmanaged<H2SessionState>.fromOpaque(pointer!).takeUnretainedValue()
    }

    /// A complete HEADERS frame: a head, a 1xx, or trailers.
    func headersReceived(stream: Int32, category: nghttp2_headers_category, endStream: Bool) {
        let fields = stream == headersStream ? headers : []
        headers = []
        let status = fields.value(of: ":status")
        switch role {
        case .server:
            if category == NGHTTP2_HCAT_REQUEST {
                events.append(.head(stream: stream, fields: fields, endStream: endStream))
            } else {
                events.append(.trailers(stream: stream, fields: fields))
            }
        case .client:
            if let status, status.hasPrefix("1") {
                events.append(.informational(stream: stream, fields: fields))
            } else if status != nil {
                events.append(.head(stream: stream, fields: fields, endStream: endStream))
            } else {
                events.append(.trailers(stream: stream, fields: fields))
            }
        }
    }
}

@available(*, unavailable)
extension H2SessionState: Sendable {}

/// The body of one stream as the proxy hands it over: bytes waiting for DATA frames, then the end
/// (and trailers). nghttp2 pulls from it through the data provider.
final class H2OutgoingBody {
    private var bytes: [UInt8] = []
    private var offset = 0
    var ended = false
    var trailers: [H2Field]?
    /// The data provider said DEFERRED: nghttp2 waits for `resume_data`.
    var deferred = false

    var count: Int { bytes.count - offset }

    func append(_ more: [UInt8]) {
        if offset > 0 && offset == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            offset = 0
        } else if offset > 65_536 && offset * 2 > bytes.count {
            bytes.removeFirst(offset)
            offset = 0
        }
        bytes.append(contentsOf: more)
    }

    /// Copies up to `length` bytes to `destination`; returns how many.
    func take(into destination: UnsafeMutablePointer<UInt8>, length: Int) -> Int {
        let n = min(length, count)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBufferPointer { source in
            _ = memcpy(destination, source.baseAddress! + offset, n)
        }
        offset += n
        return n
    }
}

@available(*, unavailable)
extension H2OutgoingBody: Sendable {}

/// The C callbacks. Each recovers the session's state from its user data and only records.
enum H2Callbacks {
    static func install(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, context in
            guard let frame else { return 0 }
            let state = H2SessionState.from(context)
            state.headersStream = frame.pointee.hd.stream_id
            state.headers = []
            state.headers.reserveCapacity(12)
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, context in
            guard let frame, let name, let value else { return 0 }
            let field = H2Field(
                name: UnsafeBufferPointer(start: name, count: nameLength), value: UnsafeBufferPointer(start: value, count: valueLength))
            let state = H2SessionState.from(context)
            if frame.pointee.hd.stream_id == state.headersStream { state.headers.append(field) }
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, context in
            guard let frame else { return 0 }
            let state = H2SessionState.from(context)
            let header = frame.pointee.hd
            let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            switch Int(header.type) {
            case Int(NGHTTP2_HEADERS.rawValue):
                state.headersReceived(stream: header.stream_id, category: frame.pointee.headers.cat, endStream: endStream)
            case Int(NGHTTP2_DATA.rawValue):
                if endStream { state.events.append(.end(stream: header.stream_id)) }
            case Int(NGHTTP2_RST_STREAM.rawValue):
                state.events.append(.reset(stream: header.stream_id, errorCode: frame.pointee.rst_stream.error_code))
            case Int(NGHTTP2_GOAWAY.rawValue):
                state.events.append(.goaway(
                    lastStreamID: frame.pointee.goaway.last_stream_id, errorCode: frame.pointee.goaway.error_code))
            default:
                break
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, context in
            guard let frame, Int(frame.pointee.hd.type) == Int(NGHTTP2_GOAWAY.rawValue) else { return 0 }
            H2SessionState.from(context).events.append(.goawaySent(errorCode: frame.pointee.goaway.error_code))
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, stream, data, length, context in
            guard let data, length > 0 else { return 0 }
            H2SessionState.from(context).events.append(
                .data(stream: stream, bytes: Array(UnsafeBufferPointer(start: data, count: length))))
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, errorCode, context in
            let state = H2SessionState.from(context)
            state.bodies[stream] = nil
            state.events.append(.closed(stream: stream, errorCode: errorCode))
            return 0
        }
    }

    /// The data provider every submitted body uses: it pulls from the stream's `H2OutgoingBody`.
    static var dataProvider: nghttp2_data_provider {
        var provider = nghttp2_data_provider()
        provider.read_callback = { session, stream, buffer, length, flags, _, context in
            let state = H2SessionState.from(context)
            guard let body = state.bodies[stream], let buffer, let flags else {
                return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
            }
            let n = body.take(into: buffer, length: length)
            if n > 0 { state.events.append(.sent(stream: stream, bytes: n)) }
            if body.count == 0 {
                if body.ended {
                    flags.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue)
                    if let trailers = body.trailers, !trailers.isEmpty {
                        // Allowed inside this callback (nghttp2.h); the trailers end the stream.
                        flags.pointee |= UInt32(NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue)
                        _ = H2Session.withNV(trailers) { nva, count in nghttp2_submit_trailer(session, stream, nva, count) }
                    }
                } else if n == 0 {
                    body.deferred = true
                    return Int(NGHTTP2_ERR_DEFERRED.rawValue)
                }
            }
            return n
        }
        return provider
    }
}
