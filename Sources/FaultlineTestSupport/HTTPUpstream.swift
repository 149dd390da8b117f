public import FaultlineCore
import FaultlineSystem
import Glibc
import Synchronization

/// A real HTTP/1.1 origin server for tests: blocking sockets, one thread per connection, on a
/// loopback port of its own.
///
/// Keep-alive and pipelining (answers in request order), Content-Length and chunked request
/// bodies (decoded and hashed), `Expect: 100-continue`, HEAD, and a WebSocket-style upgrade and
/// CONNECT that turn the connection into an echo. Its parser is strict and independent of the
/// daemon's (`HTTPWire`): a request it cannot parse is recorded in `rejections` (a smuggled
/// message that got through the proxy shows up there) and answered 400/431 with a close.
///
/// What it answers, by path (any method unless said; HEAD gets the GET head without the body):
/// - `/echo`: 200, the request body back, `x-body-sha256` = its SHA-256.
/// - `/big?size=N[&seed=S]`: 200, N seeded bytes (`SplitMix64.bytes`, seed S, default N),
///   Content-Length, `x-body-sha256`.
/// - `/chunked?size=N[&seed=S]`: the same bytes chunked (seeded chunk sizes), with the hash in
///   `x-body-sha256` and again in the trailer `x-checksum`.
/// - `/eof?size=N`: the same bytes with neither length nor chunking, ended by closing.
/// - `/status/NNN`: that status; 204 and 304 without a body.
/// - `/slow?ms=N`: 200 after N milliseconds.
/// - `POST /pay`: counts a side effect per `idempotency-key` value (`sideEffects(key:)`), then 200.
/// - `/ws` with `Upgrade: websocket`: 101, then echoes raw bytes both ways until the peer's FIN.
/// - `CONNECT`: 200, then echoes likewise.
/// - `/raw`: a head with odd but valid spacing and case (see `HTTPUpstreamRoutes.rawHead`).
/// - anything else: 200 with the body `"<method> <target>\n"`.
/// Every generated head carries `X-Upstream-Conn` and `X-Upstream-Req` (connection number and
/// request index), so a client can tell which request an answer belongs to.
public final class HTTPUpstream: Sendable {
    /// The bound address, port resolved.
    public let endpoint: Endpoint
    private let listener: TestListener
    private let shared: HTTPUpstreamShared
    private let acceptThread: Mutex<ThreadHandle?>

    /// Binds `endpoint` (port 0 = a free port) and starts accepting.
    /// - Throws: `TestSocketError` if it cannot bind.
    public init(endpoint: Endpoint = .loopback(port: 0)) throws(TestSocketError) {
        listener = try TestListener(endpoint: endpoint, backlog: 1024)
        self.endpoint = listener.endpoint
        let shared = HTTPUpstreamShared()
        self.shared = shared
        let listener = self.listener
        acceptThread = Mutex(Threads.spawn(name: "http-up-accept") {
            while !shared.stopping.load(ordering: .acquiring) {
                switch Result(catching: { () throws(TestSocketError) in try listener.accept(timeout: .milliseconds(100)) }) {
                case .success(let socket): shared.start(socket)
                case .failure(.timedOut): continue
                case .failure: return
                }
            }
        })
    }

    deinit { stop() }

    /// Stops accepting, ends every connection (within about 100 ms, or when a send in progress
    /// times out) and joins every thread. Idempotent.
    public func stop() {
        guard let handle = acceptThread.withLock({ handle in defer { handle = nil }; return handle }) else { return }
        shared.stopping.store(true, ordering: .releasing)
        handle.join()
        listener.close()
        shared.joinConnections()
    }

    // MARK: What it saw

    /// Every request read completely, in the order they were read.
    public var requests: [HTTPUpstreamRequest] { shared.log.snapshot.requests }

    /// The requests whose path (target before `?`) is `path`.
    public func requests(path: String) -> [HTTPUpstreamRequest] { requests.filter { $0.path == path } }

    /// How many requests for `path` were read.
    public func count(path: String) -> Int { requests(path: path).count }

    /// What the upstream refused to parse (empty when every message was well formed).
    public var rejections: [HTTPUpstreamRejection] { shared.log.snapshot.rejections }

    /// How many times `POST /pay` ran for this `idempotency-key` value ("" for none).
    public func sideEffects(key: String) -> Int { shared.log.snapshot.sideEffects[key] ?? 0 }

    /// Every side-effect count, by key.
    public var allSideEffects: [String: Int] { shared.log.snapshot.sideEffects }

    /// Connections accepted so far, and open now.
    public var connectionsAccepted: Int { shared.log.snapshot.connectionsAccepted }
    public var connectionsOpen: Int { shared.log.snapshot.connectionsOpen }

    /// Bytes read from all connections (heads, bodies and tunnelled bytes).
    public var bytesReceived: Int { shared.log.snapshot.bytesReceived }

    /// Waits until `condition` holds for the requests seen (true), or `timeout` passes (false).
    public func waitUntil(timeout: Duration = .seconds(5), _ condition: ([HTTPUpstreamRequest]) -> Bool) -> Bool {
        let deadline = Deadline(after: timeout)
        while true {
            if condition(requests) { return true }
            if deadline.hasPassed { return false }
            usleep(2_000)
        }
    }
}

/// What the accept thread and the connection threads share.
final class HTTPUpstreamShared: Sendable {
    let log = HTTPUpstreamLog()
    let stopping = Atomic<Bool>(false)
    private let threads = Mutex<[ThreadHandle]>([])

    /// Serves `socket` on a thread of its own.
    func start(_ socket: TestSocket) {
        let number = log.update { state in
            defer {
                state.connectionsAccepted += 1
                state.connectionsOpen += 1
            }
            return state.connectionsAccepted
        }
        let handle = Threads.spawn(name: "http-up-\(number)") { [self] in
            HTTPUpstreamConnection(number: number, socket: socket, shared: self).run()
        }
        threads.withLock { $0.append(handle) }
    }

    /// Joins every connection thread (they end once `stopping` is set).
    func joinConnections() {
        let handles = threads.withLock { handles in defer { handles = [] }; return handles }
        for handle in handles { handle.join() }
    }
}
