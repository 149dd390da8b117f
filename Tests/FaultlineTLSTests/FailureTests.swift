import FaultlineTLS
import Testing

@Suite struct FailureTests {
    @Test func anHTTPRequestToTheServerIsNotTLS() throws {
        let server = try TLSSession(context: Contexts.server())
        server.feed(bytes("GET / HTTP/1.1\r\n\r\n"))
        guard case .failed(let error) = server.handshake() else {
            Issue.record("the handshake did not fail")
            return
        }
        #expect(error.reason == "not_tls")
        #expect(error.message.contains("http request"))
        #expect(server.handshake() == .failed(error))  // sticky
        #expect(server.read(into: UnsafeMutableRawBufferPointer(start: nil, count: 0)) == .failed(error))
        #expect(writeAll(server, bytes("x")) == .failed(error))
        #expect(OpenSSLErrorQueue.isEmpty)
    }

    @Test func aPlaintextAnswerToTheClientIsNotTLS() throws {
        let client = try TLSSession(context: Contexts.client(), serverName: "localhost")
        #expect(client.handshake() == .wantInput)
        #expect(client.pendingOutputCount > 0)  // the ClientHello
        client.feed(bytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
        guard case .failed(let error) = client.handshake() else {
            Issue.record("the handshake did not fail")
            return
        }
        #expect(error.reason == "not_tls")
        #expect(error.message.contains("wrong version number"))
    }

    @Test func aTruncatedHandshakeThenEOFFails() throws {
        let client = try TLSSession(context: Contexts.client(), serverName: "localhost")
        let server = try TLSSession(context: Contexts.server())
        #expect(client.handshake() == .wantInput)
        let hello = client.withPendingOutput { Array($0) }
        server.feed(Array(hello[0..<(hello.count / 2)]))
        #expect(server.handshake() == .wantInput)
        server.feedEOF()
        #expect(server.handshake() == .failed(TLSError(reason: "unexpected_eof", message: "unexpected eof while reading")))
        #expect(OpenSSLErrorQueue.isEmpty)
    }

    @Test func eofWithoutCloseNotifyIsAnUnexpectedEOFOnBothSides() throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server())
        #expect(pair.handshake() == (.complete, .complete))
        #expect(writeAll(pair.server, bytes("last words")) == .written(10))
        pair.move(from: pair.server, to: pair.client)
        pair.client.feedEOF()
        pair.server.feedEOF()
        var received: [UInt8] = []
        let clientEnd = pair.readAvailable(pair.client, into: &received)
        #expect(received == bytes("last words"))  // what came before the EOF is still delivered
        #expect(clientEnd == .failed(TLSError(reason: "unexpected_eof", message: "unexpected eof while reading")))
        var none: [UInt8] = []
        guard case .failed(let serverError) = pair.readAvailable(pair.server, into: &none) else {
            Issue.record("the server read did not fail")
            return
        }
        #expect(serverError.reason == "unexpected_eof")
    }

    @Test func aFailedSessionLeavesNothingOnTheThreadsErrorQueue() throws {
        let client = try TLSContext.client(caPath: TestCertificates.shared.otherCACertificate, verify: true, alpn: [])
        let pair = try SessionPair(client: client, server: Contexts.server())
        _ = pair.handshake()
        #expect(OpenSSLErrorQueue.isEmpty)
        _ = try? TLSContext.server(certificatePath: "/nonexistent.pem", keyPath: "/nonexistent.key", alpn: [])
        #expect(OpenSSLErrorQueue.isEmpty)
    }

    @Test func aStaleErrorOnTheThreadDoesNotBreakTheNextSession() throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server())
        OpenSSLErrorQueue.plantStaleErrorForTesting()
        #expect(!OpenSSLErrorQueue.isEmpty)
        // Every step below returns "want input" at some point, which a stale error would turn into
        // a failure if the queue were not cleared before each SSL call.
        #expect(pair.client.handshake() == .wantInput)
        OpenSSLErrorQueue.plantStaleErrorForTesting()
        pair.move(from: pair.client, to: pair.server)
        #expect(pair.server.handshake() == .wantInput)
        OpenSSLErrorQueue.plantStaleErrorForTesting()
        #expect(pair.handshake() == (.complete, .complete))
        OpenSSLErrorQueue.plantStaleErrorForTesting()
        var received: [UInt8] = []
        #expect(pair.readAvailable(pair.server, into: &received) == .wantInput)
        #expect(writeAll(pair.client, bytes("ping")) == .written(4))
        pair.move(from: pair.client, to: pair.server)
        OpenSSLErrorQueue.plantStaleErrorForTesting()
        #expect(pair.readAvailable(pair.server, into: &received) == .wantInput)
        #expect(received == bytes("ping"))
        while !OpenSSLErrorQueue.isEmpty { _ = try? TLSContext.client(caPath: "/nonexistent", verify: true, alpn: []) }
    }
}
