internal import CNGHTTP2

/// One side of an HTTP/2 connection driven through memory: bytes in with `receive(_:)`, bytes out
/// with `send(into:limit:)`; nghttp2 never touches a socket. Not thread safe; owned by one worker.
///
/// The loop a caller runs (ARCHITECTURE.md, "Connection pipeline", L2):
/// 1. bytes from the peer go to `receive(_:)`;
/// 2. `takeEvents()` hands out what they carried (heads, body, resets, GOAWAY), and the caller
///    acts on them with the `submit…` calls, `appendBody`, `endBody` and `consume`;
/// 3. `send(into:limit:)` until it returns 0 or the caller's output is full;
/// 4. `.sent` events from step 3 say which body bytes left, for the other side's flow control.
///
/// nghttp2's callbacks only queue events and copy body bytes out of `appendBody`'s buffers; no
/// callback calls `mem_recv`, `mem_send` or deletes the session (L7-NOTES.md, sharp edge 9).
/// Flow control is the caller's (`no_auto_window_update`): received body bytes are credited back
/// to the peer only through `consume(stream:count:)`, so withholding it stalls the peer.
public final class H2Session {
    let state: H2SessionState
    let session: OpaquePointer
    public let role: H2Role

    /// A session for `role` that has queued its SETTINGS (and, for a client, the preface).
    public init(role: H2Role, settings: H2Settings = H2Settings()) throws(H2Error) {
        self.role = role
        let state = H2SessionState(role: role)
        self.state = state
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
            throw H2Error(code: -901, message: "nghttp2: out of memory")
        }
        defer { nghttp2_session_callbacks_del(callbacks) }
        H2Callbacks.install(callbacks)
        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else {
            throw H2Error(code: -901, message: "nghttp2: out of memory")
        }
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_no_auto_window_update(option, 1)
        // Closed streams are not kept for priority: the proxy does not use the tree.
        nghttp2_option_set_no_closed_streams(option, 1)
        var made: OpaquePointer?
        let context = Unmanaged.passUnretained(state).toOpaque()
        let rv = role == .server
            ? nghttp2_session_server_new2(&made, callbacks, context, option)
            : nghttp2_session_client_new2(&made, callbacks, context, option)
        guard rv == 0, let made else { throw H2Error.from(rv) }
        session = made
        var entries: [nghttp2_settings_entry] = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: UInt32(settings.streamWindow)),
        ]
        if role == .server {
            entries.append(nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: settings.maxConcurrentStreams))
        } else {
            entries.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        }
        var submitted = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count)
        if submitted == 0, settings.connectionWindow > 65_535 {
            submitted = nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, settings.connectionWindow)
        }
        guard submitted == 0 else {
            nghttp2_session_del(session)
            throw H2Error.from(submitted)
        }
    }

    deinit {
        nghttp2_session_del(session)
    }

    // MARK: Bytes in and out

    /// Hands the peer's bytes to nghttp2; returns the failure, if any. A failure is fatal:
    /// nghttp2 may have queued a GOAWAY (flush `send` once more), then the connection should close.
    /// It is also sticky: every later call returns it again and hands nghttp2 nothing. (nghttp2
    /// itself would read on: after a bad client magic it keeps its place in the magic, so a stray
    /// byte fed again later was skipped and the frames after the rest of the magic parsed.)
    public func receive(_ bytes: UnsafeRawBufferPointer) -> H2Error? {
        if let failure { return failure }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        let rv = nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        guard rv < 0 else { return nil }
        let error = H2Error.from(Int32(truncatingIfNeeded: rv))
        failure = error
        return error
    }

    /// The failure `receive` returned, if any; the session reads nothing more.
    public private(set) var failure: H2Error?

    /// `receive(_:)` for bytes in an array.
    public func receive(_ bytes: [UInt8]) -> H2Error? {
        bytes.withUnsafeBytes { receive($0) }
    }

    /// Appends frames nghttp2 has ready to `output` until none are left or it holds `limit` bytes;
    /// returns how many bytes were added.
    @discardableResult
    public func send(into output: inout [UInt8], limit: Int) throws(H2Error) -> Int {
        var added = 0
        while output.count < limit {
            var pointer: UnsafePointer<UInt8>?
            let n = nghttp2_session_mem_send(session, &pointer)
            if n < 0 { throw H2Error.from(Int32(truncatingIfNeeded: n)) }
            guard n > 0, let pointer else { break }
            output.append(contentsOf: UnsafeBufferPointer(start: pointer, count: n))
            added += n
        }
        return added
    }

    /// The events queued since the last call, in the order they happened.
    public func takeEvents() -> [H2Event] {
        let events = state.events
        state.events.removeAll(keepingCapacity: true)
        return events
    }

    /// Hands each queued event to `body` in order, then forgets them, keeping the queue's storage
    /// (no allocation per batch). `body` may submit, append, end, reset and consume (none of which
    /// runs a callback), but must not call `receive` or `send`.
    public func drainEvents(_ body: (H2Event) -> Void) {
        var index = 0
        while index < state.events.count {
            body(state.events[index])
            index += 1
        }
        state.events.removeAll(keepingCapacity: true)
    }

    /// Events are queued for `takeEvents()`.
    public var hasEvents: Bool { !state.events.isEmpty }

    /// nghttp2 has frames to send.
    public var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }
    /// Neither side can use the connection any more (GOAWAY both ways, no open stream).
    public var isDone: Bool { nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0 }
    /// The highest stream id the peer opened that this session handed on.
    public var lastProcessedStreamID: Int32 { nghttp2_session_get_last_proc_stream_id(session) }

    // MARK: Submitting

    /// Opens a stream with this request head (client side); its body follows through `appendBody`
    /// unless `endStream`. Returns the new stream's id.
    public func submitRequest(_ fields: [H2Field], endStream: Bool) throws(H2Error) -> Int32 {
        var provider = H2Callbacks.dataProvider
        let id = H2Session.withNV(fields) { nva, count in
            endStream
                ? nghttp2_submit_request(session, nil, nva, count, nil, nil)
                : nghttp2_submit_request(session, nil, nva, count, &provider, nil)
        }
        guard id > 0 else { throw H2Error.from(id) }
        if !endStream { state.bodies[id] = H2OutgoingBody() }
        return id
    }

    /// Answers `stream` with this head (server side); its body follows through `appendBody`
    /// unless `endStream`.
    public func submitResponse(stream: Int32, _ fields: [H2Field], endStream: Bool) throws(H2Error) {
        var provider = H2Callbacks.dataProvider
        let rv = H2Session.withNV(fields) { nva, count in
            endStream
                ? nghttp2_submit_response(session, stream, nva, count, nil)
                : nghttp2_submit_response(session, stream, nva, count, &provider)
        }
        guard rv == 0 else { throw H2Error.from(rv) }
        if !endStream { state.bodies[stream] = H2OutgoingBody() }
    }

    /// A 1xx head on `stream` (server side), before its answer: a HEADERS frame without
    /// END_STREAM (RFC 9113 §8.1). The caller sends none after the final head.
    public func submitInformational(stream: Int32, _ fields: [H2Field]) throws(H2Error) {
        let rv = H2Session.withNV(fields) { nva, count in
            nghttp2_submit_headers(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, nil, nva, count, nil)
        }
        guard rv >= 0 else { throw H2Error.from(rv) }
    }

    /// Queues body bytes for `stream`'s DATA frames.
    public func appendBody(stream: Int32, _ bytes: [UInt8]) {
        guard let body = state.bodies[stream], !body.ended else { return }
        body.append(bytes)
        resume(stream, body)
    }

    /// Ends `stream`'s body, with trailers when given.
    public func endBody(stream: Int32, trailers: [H2Field]? = nil) {
        guard let body = state.bodies[stream], !body.ended else { return }
        body.ended = true
        body.trailers = trailers
        resume(stream, body)
    }

    /// Body bytes submitted on `stream` and not yet sent.
    public func pendingBody(stream: Int32) -> Int { state.bodies[stream]?.count ?? 0 }

    private func resume(_ stream: Int32, _ body: H2OutgoingBody) {
        guard body.deferred else { return }
        body.deferred = false
        _ = nghttp2_session_resume_data(session, stream)
    }

    /// RST_STREAM with `errorCode`.
    public func submitReset(stream: Int32, errorCode: UInt32) {
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, errorCode)
    }

    /// GOAWAY naming `lastStreamID` (nil: the last stream this session processed).
    public func submitGoaway(errorCode: UInt32, lastStreamID: Int32? = nil) {
        let last = lastStreamID ?? lastProcessedStreamID
        _ = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, errorCode, nil, 0)
    }

    /// Gives the peer `count` bytes of flow-control credit for body bytes of `stream` that were
    /// passed on (WINDOW_UPDATE, for the stream and the connection).
    public func consume(stream: Int32, count: Int) {
        guard count > 0 else { return }
        if nghttp2_session_consume(session, stream, count) != 0 {
            // The stream is gone: its bytes still count against the connection window.
            _ = nghttp2_session_consume_connection(session, count)
        }
    }

    /// Lends `fields` to `body` as nghttp2_nv entries (nghttp2 copies them while submitting);
    /// both the entries and the bytes live in temporary (stack, when small) storage.
    static func withNV<R>(_ fields: [H2Field], _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        let byteCount = fields.reduce(0) { $0 + $1.name.count + $1.value.count }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(byteCount, 1)) { storage in
            withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: max(fields.count, 1)) { nva in
                var offset = 0
                for (index, field) in fields.enumerated() {
                    field.withBytes { bytes, nameCount in
                        let start = storage.baseAddress! + offset
                        if bytes.count > 0 { start.initialize(from: bytes.baseAddress!, count: bytes.count) }
                        nva.baseAddress!.advanced(by: index).initialize(to: nghttp2_nv(
                            name: start, value: start + nameCount, namelen: nameCount, valuelen: bytes.count - nameCount,
                            flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
                        offset += bytes.count
                    }
                }
                return body(UnsafePointer(nva.baseAddress!), fields.count)
            }
        }
    }
}

@available(*, unavailable)
extension H2Session: Sendable {}

extension H2Error {
    static func from(_ code: Int32) -> H2Error {
        H2Error(code: code, message: "nghttp2: " + String(cString: nghttp2_strerror(code)))
    }
}
