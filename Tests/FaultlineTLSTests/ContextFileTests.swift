import FaultlineTLS
import Testing

@Suite struct ContextFileTests {
    let certificates = TestCertificates.shared

    private func serverError(certificate: String, key: String) -> TLSError? {
        do {
            _ = try TLSContext.server(certificatePath: certificate, keyPath: key, alpn: [])
            return nil
        } catch {
            return error
        }
    }

    @Test func aMissingCertificateFileIsNamed() {
        #expect(serverError(certificate: "/nonexistent/cert.pem", key: certificates.serverKey) == TLSError(
            reason: "file", message: "cannot read certificate /nonexistent/cert.pem: No such file or directory"))
    }

    @Test func aFileWithoutACertificateIsNamed() {
        #expect(serverError(certificate: certificates.notPEM, key: certificates.serverKey) == TLSError(
            reason: "file", message: "no certificate in \(certificates.notPEM)"))
        #expect(serverError(certificate: certificates.serverKey, key: certificates.serverKey) == TLSError(
            reason: "file", message: "no certificate in \(certificates.serverKey)"))
    }

    @Test func aMissingKeyFileIsNamed() {
        #expect(serverError(certificate: certificates.serverCertificate, key: "/nonexistent/key.pem") == TLSError(
            reason: "file", message: "cannot read private key /nonexistent/key.pem: No such file or directory"))
    }

    @Test func aFileWithoutAKeyIsNamed() {
        #expect(serverError(certificate: certificates.serverCertificate, key: certificates.notPEM) == TLSError(
            reason: "file", message: "no private key in \(certificates.notPEM)"))
    }

    @Test func anEncryptedKeyFailsInsteadOfAskingForAPassphrase() {
        let error = serverError(certificate: certificates.serverCertificate, key: certificates.encryptedKey)
        #expect(error?.reason == "file")
        #expect(error?.message.hasPrefix("cannot parse private key in \(certificates.encryptedKey): ") == true)
    }

    @Test func aKeyOfAnotherCertificateIsAMismatch() {
        #expect(serverError(certificate: certificates.serverCertificate, key: certificates.otherCAKey) == TLSError(
            reason: "key_mismatch",
            message: "private key \(certificates.otherCAKey) does not match certificate \(certificates.serverCertificate)"))
    }

    @Test func clientCAFileErrorsAreNamed() {
        func clientError(_ path: String) -> TLSError? {
            do {
                _ = try TLSContext.client(caPath: path, verify: true, alpn: [])
                return nil
            } catch {
                return error
            }
        }
        #expect(clientError("/nonexistent/ca.pem") == TLSError(
            reason: "file", message: "cannot read CA certificates /nonexistent/ca.pem: No such file or directory"))
        let notPEM = clientError(certificates.notPEM)
        #expect(notPEM?.reason == "file")
        #expect(notPEM?.message.hasPrefix("no CA certificate in \(certificates.notPEM)") == true)
    }

    @Test func anEmptyALPNNameIsRefused() {
        #expect(throws: TLSError(reason: "internal", message: "ALPN protocol names are 1…255 bytes: \"\"")) {
            try TLSContext.client(caPath: nil, verify: false, alpn: ["h2", ""])
        }
    }

    @Test func descriptionJoinsReasonAndMessage() {
        #expect(TLSError(reason: "not_tls", message: "http request").description == "not_tls: http request")
    }
}
