import FaultlineTLS
import Testing

@Suite struct HandshakeTests {
    @Test func tls13HandshakeCompletesOnBothSides() throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server())
        #expect(!pair.client.isHandshakeComplete)
        let steps = pair.handshake()
        #expect(steps.client == .complete)
        #expect(steps.server == .complete)
        #expect(pair.client.isHandshakeComplete && pair.server.isHandshakeComplete)
        #expect(pair.client.protocolVersion == "TLSv1.3")
        #expect(pair.server.protocolVersion == "TLSv1.3")
        #expect(pair.client.handshake() == .complete)  // again: still complete
        #expect(!pair.client.isResumed)
        #expect(pair.client.negotiatedALPN == nil)
    }

    @Test func handshakeSurvivesCiphertextMovedByteByByte() throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server(), largestMove: 1)
        let steps = pair.handshake()
        #expect(steps.client == .complete && steps.server == .complete)
    }

    @Test func clientCappedAtTLS12NegotiatesTLS12() throws {
        let pair = try SessionPair(client: Contexts.client(alpn: ["h2"], capAtTLS12: true), server: Contexts.server(alpn: ["h2"]))
        let steps = pair.handshake()
        #expect(steps.client == .complete && steps.server == .complete)
        #expect(pair.client.protocolVersion == "TLSv1.2")
        #expect(pair.server.protocolVersion == "TLSv1.2")
        #expect(pair.server.negotiatedALPN == "h2")
        #expect(pair.server.serverName == "localhost")
    }

    @Test func serverPicksItsOwnFirstChoiceAmongTheOffered() throws {
        let pair = try SessionPair(client: Contexts.client(alpn: ["http/1.1", "h2"]), server: Contexts.server(alpn: ["h2", "http/1.1"]))
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.client.negotiatedALPN == "h2")
        #expect(pair.server.negotiatedALPN == "h2")
    }

    @Test func serverSkipsItsProtocolsTheClientDidNotOffer() throws {
        let pair = try SessionPair(client: Contexts.client(alpn: ["spdy/3", "http/1.1"]), server: Contexts.server(alpn: ["h2", "http/1.1"]))
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.client.negotiatedALPN == "http/1.1")
        #expect(pair.server.negotiatedALPN == "http/1.1")
    }

    @Test(arguments: [(["h2"], ["http/1.1"]), ([], ["h2"]), (["h2"], [])])
    func noALPNOverlapStillCompletesWithoutALPN(client: [String], server: [String]) throws {
        let pair = try SessionPair(client: Contexts.client(alpn: client), server: Contexts.server(alpn: server))
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.client.negotiatedALPN == nil)
        #expect(pair.server.negotiatedALPN == nil)
    }

    @Test func serverSeesTheSNIAndTheClientKnowsWhatItSent() throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server(), serverName: "localhost")
        #expect(pair.server.serverName == nil)  // nothing received yet
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.server.serverName == "localhost")
        #expect(pair.client.serverName == "localhost")
    }

    @Test func anIPLiteralIsVerifiedButNotSentAsSNI() throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server(), serverName: "127.0.0.1")
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.server.serverName == nil)
        #expect(pair.client.serverName == "127.0.0.1")
    }

    @Test(arguments: [nil, ""] as [String?])
    func noServerNameSendsNoSNI(name: String?) throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server(), serverName: name)
        #expect(pair.handshake() == (.complete, .complete))
        #expect(pair.server.serverName == nil)
        #expect(pair.client.serverName == nil)
    }

    @Test func aChainFileWithIntermediatesIsAccepted() throws {
        let certificates = TestCertificates.shared
        let server = try TLSContext.server(certificatePath: certificates.serverChain, keyPath: certificates.serverKey, alpn: [])
        let pair = try SessionPair(client: Contexts.client(), server: server)
        #expect(pair.handshake() == (.complete, .complete))
    }
}

/// Lets `#expect(pair.handshake() == (.complete, .complete))` compare the tuple.
func == (lhs: (client: TLSStep, server: TLSStep), rhs: (TLSStep, TLSStep)) -> Bool {
    lhs.client == rhs.0 && lhs.server == rhs.1
}
