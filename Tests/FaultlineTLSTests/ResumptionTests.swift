import FaultlineTLS
import Testing

@Suite struct ResumptionTests {
    @Test(arguments: [false, true])
    func aSecondSessionFromTheSameClientContextResumes(tls12: Bool) throws {
        let client = try Contexts.client(capAtTLS12: tls12)
        let server = try Contexts.server()
        let first = try SessionPair(client: client, server: server)
        #expect(first.handshake() == (.complete, .complete))
        first.settle()  // TLS 1.3: the tickets arrive after the handshake
        #expect(!first.client.isResumed && !first.server.isResumed)

        let second = try SessionPair(client: client, server: server)
        #expect(second.handshake() == (.complete, .complete))
        #expect(second.client.isResumed)
        #expect(second.server.isResumed)
        #expect(second.client.protocolVersion == (tls12 ? "TLSv1.2" : "TLSv1.3"))
        #expect(second.server.serverName == "localhost")
    }

    @Test(arguments: [false, true])
    func resumptionKeepsTheALPNChoice(tls12: Bool) throws {
        let client = try Contexts.client(alpn: ["h2"], capAtTLS12: tls12)
        let server = try Contexts.server(alpn: ["h2"])
        let first = try SessionPair(client: client, server: server)
        #expect(first.handshake() == (.complete, .complete))
        first.settle()
        let second = try SessionPair(client: client, server: server)
        #expect(second.handshake() == (.complete, .complete))
        #expect(second.client.isResumed && second.server.isResumed)
        #expect(second.client.negotiatedALPN == "h2" && second.server.negotiatedALPN == "h2")
    }

    @Test(arguments: [false, true])
    func aSessionDroppedWithoutCloseNotifyStillResumesItsSuccessors(tls12: Bool) throws {
        let client = try Contexts.client(capAtTLS12: tls12)
        let server = try Contexts.server()
        var resumed: [Bool] = []
        for _ in 0..<4 {
            // Each pair is freed at the end of the iteration, without shutdown().
            let pair = try SessionPair(client: client, server: server)
            #expect(pair.handshake() == (.complete, .complete))
            pair.settle()
            resumed.append(pair.client.isResumed && pair.server.isResumed)
        }
        #expect(resumed == [false, true, true, true])
    }

    @Test func aSessionThatEndedInAnUnexpectedEOFIsNotResumed() throws {
        let client = try Contexts.client()
        let server = try Contexts.server()
        do {
            let first = try SessionPair(client: client, server: server)
            #expect(first.handshake() == (.complete, .complete))
            first.settle()
            first.client.feedEOF()
            var ignored: [UInt8] = []
            guard case .failed(let error) = first.readAvailable(first.client, into: &ignored) else {
                Issue.record("the read did not fail")
                return
            }
            #expect(error.reason == "unexpected_eof")
        }
        let second = try SessionPair(client: client, server: server)
        #expect(second.handshake() == (.complete, .complete))
        #expect(!second.client.isResumed)
    }

    @Test func sessionsAreKeptPerServerName() throws {
        let client = try Contexts.client()
        let server = try Contexts.server()
        let first = try SessionPair(client: client, server: server, serverName: "localhost")
        #expect(first.handshake() == (.complete, .complete))
        first.settle()
        let other = try SessionPair(client: client, server: server, serverName: "127.0.0.1")
        #expect(other.handshake() == (.complete, .complete))
        #expect(!other.client.isResumed)
        let unnamed = try SessionPair(client: client, server: server, serverName: nil)
        #expect(unnamed.handshake() == (.complete, .complete))
        #expect(!unnamed.client.isResumed)
    }

    @Test func anotherClientContextDoesNotResume() throws {
        let server = try Contexts.server()
        let first = try SessionPair(client: Contexts.client(), server: server)
        #expect(first.handshake() == (.complete, .complete))
        first.settle()
        let second = try SessionPair(client: Contexts.client(), server: server)
        #expect(second.handshake() == (.complete, .complete))
        #expect(!second.client.isResumed)
    }
}
