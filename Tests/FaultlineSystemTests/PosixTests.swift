import FaultlineSystem
import Glibc
import Testing

/// Waits (bounded) until `fd` is writable.
func waitWritable(_ fd: borrowing FileDescriptor, milliseconds: Int32 = 2000) -> Bool {
    fd.withUnsafeHandle { raw in
        var entry = pollfd(fd: raw, events: Int16(POLLOUT), revents: 0)
        return poll(&entry, 1, milliseconds) > 0
    }
}

/// Reads until data, EOF or an error arrives (bounded by `Posix.waitReadable`).
func readOnce(_ fd: borrowing FileDescriptor, capacity: Int = 1024) throws -> IOResult<[UInt8]> {
    guard Posix.waitReadable(fd, timeoutMilliseconds: 2000) else { return .wouldBlock }
    var buffer = [UInt8](repeating: 0, count: capacity)
    let result = try buffer.withUnsafeMutableBytes { raw in try Posix.read(fd, into: raw) }
    switch result {
    case .processed(let n): return .processed(Array(buffer[0..<n]))
    case .wouldBlock: return .wouldBlock
    }
}

func send(_ bytes: [UInt8], _ fd: borrowing FileDescriptor) throws -> IOResult<Int> {
    try bytes.withUnsafeBytes { raw in try Posix.write(fd, from: raw) }
}

@Suite struct PosixTests {
    /// Nonblocking listen / connect / accept on loopback, then bytes both ways, then FIN.
    @Test func nonblockingListenConnectAcceptAndRelay() throws {
        let listener = try Posix.listen(at: SocketAddress(ipv4: 127, 0, 0, 1, port: 0), reusePort: false)
        let nothingWaiting = try Posix.accept(listener) == nil
        #expect(nothingWaiting, "nothing is waiting yet: accept must not block")
        let address = try Posix.localAddress(listener)

        let client = try Posix.socket(family: .inet)
        if try !Posix.connect(client, to: address) {
            let writable = waitWritable(client)
            #expect(writable)
        }
        let pending = Posix.pendingError(client)
        #expect(pending == 0)
        let listenerReadable = Posix.waitReadable(listener, timeoutMilliseconds: 2000)
        #expect(listenerReadable)
        guard let accepted = try Posix.accept(listener) else {
            Issue.record("no connection to accept")
            return
        }
        let clientLocal = try Posix.localAddress(client)
        let peer = accepted.peer
        #expect(peer == clientLocal, "accept reports the client's address")
        let server = accepted.takeDescriptor()

        // Nothing to read yet: a nonblocking read says so instead of blocking.
        var scratch = [UInt8](repeating: 0, count: 16)
        let empty = try scratch.withUnsafeMutableBytes { raw in try Posix.read(server, into: raw) }
        #expect(empty == .wouldBlock)

        let sent = try send(Array("hello".utf8), client)
        #expect(sent == .processed(5))
        let got = try readOnce(server)
        #expect(got == .processed(Array("hello".utf8)))
        let sentBack = try send(Array("back".utf8), server)
        #expect(sentBack == .processed(4))
        let gotBack = try readOnce(client)
        #expect(gotBack == .processed(Array("back".utf8)))

        try Posix.shutdown(client, .write)
        let eof = try readOnce(server)
        #expect(eof == .processed([]), "FIN reads as end of stream")
        client.close()
        server.close()
        listener.close()
    }

    /// A refused connect is a SystemError naming the call, with ECONNREFUSED.
    @Test func refusedConnectThrowsSystemError() throws {
        let listener = try Posix.listen(at: SocketAddress(ipv4: 127, 0, 0, 1, port: 0), reusePort: false)
        let address = try Posix.localAddress(listener)
        listener.close()  // nobody listens there now

        let blocking = try Posix.socket(family: .inet, nonBlocking: false)
        #expect(throws: SystemError(errno: Errno.connectionRefused, call: "connect")) {
            _ = try Posix.connect(blocking, to: address)
        }

        let nonblocking = try Posix.socket(family: .inet)
        if try !Posix.connect(nonblocking, to: address) {
            let writable = waitWritable(nonblocking)
            #expect(writable)
            let pending = Posix.pendingError(nonblocking)
            #expect(pending == Errno.connectionRefused)
        }
    }

    /// closeWithReset makes the peer's read fail with ECONNRESET.
    @Test func closeWithResetResetsThePeer() throws {
        let listener = try Posix.listen(at: SocketAddress(ipv4: 127, 0, 0, 1, port: 0), reusePort: false)
        let client = try Posix.socket(family: .inet, nonBlocking: false)
        _ = try Posix.connect(client, to: try Posix.localAddress(listener))
        let listenerReadable = Posix.waitReadable(listener, timeoutMilliseconds: 2000)
        #expect(listenerReadable)
        guard let accepted = try Posix.accept(listener) else {
            Issue.record("no connection to accept")
            return
        }
        accepted.takeDescriptor().closeWithReset()
        var outcome: Result<IOResult<[UInt8]>, SystemError>
        do {
            outcome = .success(try readOnce(client))
        } catch let error as SystemError {
            outcome = .failure(error)
        }
        #expect(outcome == .failure(SystemError(errno: Errno.connectionReset, call: "read")))
    }
}

@Suite struct FileDescriptorTests {
    private func isOpen(_ raw: CInt) -> Bool { fcntl(raw, F_GETFD) != -1 }

    private func pipeEnds() throws -> (CInt, CInt) {
        var ends: [CInt] = [-1, -1]
        try #require(pipe(&ends) == 0)
        return (ends[0], ends[1])
    }

    @Test func closeReleasesTheNumber() throws {
        let (r, w) = try pipeEnds()
        let reader = FileDescriptor(unsafeTaking: r)
        #expect(reader.withUnsafeHandle { $0 } == r)
        #expect(isOpen(r))
        reader.close()
        // The number may be reused at once by a test running in parallel, so check the pipe
        // instead: with its only reader closed, a write fails with EPIPE.
        var byte: UInt8 = 0
        signal(SIGPIPE, SIG_IGN)
        #expect(write(w, &byte, 1) == -1 && errno == EPIPE)
        _ = Glibc.close(w)
    }

    @Test func droppingWithoutCloseClosesToo() throws {
        let (r, w) = try pipeEnds()
        do {
            let reader = FileDescriptor(unsafeTaking: r)
            _ = reader.withUnsafeHandle { $0 }
        }
        var byte: UInt8 = 0
        signal(SIGPIPE, SIG_IGN)
        #expect(write(w, &byte, 1) == -1 && errno == EPIPE)
        _ = Glibc.close(w)
    }
}

@Suite struct SystemErrorTests {
    @Test func descriptionNamesCallReasonAndErrno() {
        let error = SystemError(errno: Errno.connectionRefused, call: "connect")
        #expect(error.description == "connect: Connection refused (errno 111)")
        #expect(error.reason == "Connection refused")
        #expect(SystemError(errno: Errno.tooManyFiles, call: "accept4").description == "accept4: Too many open files (errno 24)")
        #expect(error == SystemError(errno: 111, call: "connect"))
        #expect(error != SystemError(errno: 111, call: "accept4"))
    }
}
