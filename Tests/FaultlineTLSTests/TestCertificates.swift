import Foundation

/// PEM files made once per test process with the openssl CLI, in a fresh temporary directory:
/// a CA, a leaf for "localhost" and 127.0.0.1 signed by it, an unrelated second CA, and an expired
/// self-signed leaf for "localhost".
struct TestCertificates: Sendable {
    let directory: String

    var caCertificate: String { path("ca.pem") }
    var serverCertificate: String { path("server.pem") }
    var serverKey: String { path("server.key") }
    /// The server leaf followed by the CA: a chain file as a real deployment has.
    var serverChain: String { path("server-chain.pem") }
    var otherCACertificate: String { path("other-ca.pem") }
    var otherCAKey: String { path("other-ca.key") }
    var expiredCertificate: String { path("expired.pem") }
    var expiredKey: String { path("expired.key") }
    /// `serverKey` encrypted with a passphrase (the library takes unencrypted keys only).
    var encryptedKey: String { path("encrypted.key") }
    /// A file with text that is not PEM.
    var notPEM: String { path("not-pem.txt") }

    func path(_ name: String) -> String { directory + "/" + name }

    static let shared: TestCertificates = {
        do {
            return try make()
        } catch {
            fatalError("cannot make test certificates: \(error)")
        }
    }()

    private static let config = """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = placeholder
        [v3_ca]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        [v3_leaf]
        basicConstraints = CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:localhost, IP:127.0.0.1
        authorityKeyIdentifier = keyid
        [ca]
        default_ca = expired
        [expired]
        database = index.txt
        new_certs_dir = .
        serial = serial
        default_md = sha256
        policy = anything
        unique_subject = no
        x509_extensions = v3_expired
        [anything]
        commonName = supplied
        [v3_expired]
        basicConstraints = CA:FALSE
        subjectAltName = DNS:localhost

        """

    private static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("faultline-tls-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory.path)
        let write = { (name: String, text: String) in
            try text.write(toFile: certificates.path(name), atomically: true, encoding: .utf8)
        }
        try write("openssl.cnf", config)
        try write("index.txt", "")
        try write("serial", "10\n")
        try write("not-pem.txt", "this is not a certificate\n")
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-config", "openssl.cnf"]
        let run = { (arguments: [String]) in try openssl(arguments, in: directory) }
        for (name, subject) in [("ca", "/CN=Faultline Test CA"), ("other-ca", "/CN=Unrelated Test CA")] {
            try run(["req", "-x509", "-new"] + ec + ["-extensions", "v3_ca", "-days", "30", "-subj", subject,
                                                     "-keyout", "\(name).key", "-out", "\(name).pem"])
        }
        try run(["req", "-new"] + ec + ["-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"])
        try run(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "2",
                 "-days", "30", "-extfile", "openssl.cnf", "-extensions", "v3_leaf", "-out", "server.pem"])
        try run(["req", "-new"] + ec + ["-subj", "/CN=localhost", "-keyout", "expired.key", "-out", "expired.csr"])
        try run(["ca", "-batch", "-config", "openssl.cnf", "-selfsign", "-keyfile", "expired.key", "-in", "expired.csr",
                 "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-notext", "-out", "expired.pem"])
        try run(["pkey", "-in", "server.key", "-aes128", "-passout", "pass:secret", "-out", "encrypted.key"])
        let chain = try String(contentsOfFile: certificates.serverCertificate, encoding: .utf8)
            + String(contentsOfFile: certificates.caCertificate, encoding: .utf8)
        try write("server-chain.pem", chain)
        return certificates
    }

    private static func openssl(_ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = directory
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OpenSSLCommandFailed(arguments: arguments, status: process.terminationStatus, stderr: text)
        }
    }
}

struct OpenSSLCommandFailed: Error {
    var arguments: [String]
    var status: Int32
    var stderr: String
}
