import FaultlineTLS
import Testing

@Suite struct VerificationTests {
    @Test func theTrustedCAVerifiesTheServer() throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server())
        #expect(pair.handshake() == (.complete, .complete))
    }

    @Test func anUnrelatedCAFailsVerificationAndTheServerHearsUnknownCA() throws {
        let client = try TLSContext.client(caPath: TestCertificates.shared.otherCACertificate, verify: true, alpn: [])
        let pair = try SessionPair(client: client, server: Contexts.server())
        let steps = pair.handshake()
        #expect(steps.client == .failed(TLSError(
            reason: "certificate_verify_failed",
            message: "certificate verify failed: unable to get local issuer certificate")))
        guard case .failed(let serverError) = steps.server else {
            Issue.record("server: \(steps.server)")
            return
        }
        #expect(serverError.reason == "unknown_ca")
        #expect(serverError.message == "received alert: unknown CA")
    }

    @Test func theSystemTrustStoreDoesNotKnowTheTestCA() throws {
        let client = try TLSContext.client(caPath: nil, verify: true, alpn: [])
        let pair = try SessionPair(client: client, server: Contexts.server())
        guard case .failed(let error) = pair.handshake().client else {
            Issue.record("the handshake did not fail")
            return
        }
        #expect(error.reason == "certificate_verify_failed")
    }

    @Test(arguments: ["example.com", "127.0.0.2", "localhost.evil"])
    func aNameTheCertificateDoesNotCoverIsAHostnameMismatch(name: String) throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server(), serverName: name)
        guard case .failed(let error) = pair.handshake().client else {
            Issue.record("the handshake did not fail")
            return
        }
        #expect(error.reason == "hostname_mismatch")
        #expect(error.message.hasPrefix("certificate verify failed: "))
        #expect(error.message.contains("mismatch"))
    }

    @Test func verifyFalseAcceptsAnUntrustedCertificateForAnyName() throws {
        let client = try TLSContext.client(caPath: TestCertificates.shared.otherCACertificate, verify: false, alpn: [])
        let pair = try SessionPair(client: client, server: Contexts.server(), serverName: "example.com")
        #expect(pair.handshake() == (.complete, .complete))
        let expired = try TLSContext.server(certificatePath: TestCertificates.shared.expiredCertificate,
                                            keyPath: TestCertificates.shared.expiredKey, alpn: [])
        let second = try SessionPair(client: client, server: expired, serverName: nil)
        #expect(second.handshake() == (.complete, .complete))
    }

    @Test func anExpiredCertificateFailsEvenWhenTrusted() throws {
        let certificates = TestCertificates.shared
        let client = try TLSContext.client(caPath: certificates.expiredCertificate, verify: true, alpn: [])
        let server = try TLSContext.server(certificatePath: certificates.expiredCertificate, keyPath: certificates.expiredKey, alpn: [])
        let pair = try SessionPair(client: client, server: server)
        #expect(pair.handshake().client == .failed(TLSError(
            reason: "certificate_verify_failed", message: "certificate verify failed: certificate has expired")))
    }

    @Test func aSelfSignedCertificateThatIsNotTrustedFails() throws {
        let certificates = TestCertificates.shared
        let server = try TLSContext.server(certificatePath: certificates.expiredCertificate, keyPath: certificates.expiredKey, alpn: [])
        let pair = try SessionPair(client: Contexts.client(), server: server)
        guard case .failed(let error) = pair.handshake().client else {
            Issue.record("the handshake did not fail")
            return
        }
        #expect(error.reason == "certificate_verify_failed")
        #expect(error.message.contains("self-signed"))
    }
}
