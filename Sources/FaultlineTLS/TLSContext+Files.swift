internal import COpenSSL

extension TLSContext {
    /// Sets the leaf certificate and any intermediates from a PEM file.
    func useCertificateChain(_ path: String) throws(TLSError) {
        let bio = try TLSContext.openFile(path, holding: "certificate")
        defer { BIO_free(bio) }
        guard let leaf = PEM_read_bio_X509_AUX(bio, nil, nil, nil) else {
            throw TLSContext.missingPEM("certificate", in: path)
        }
        let used = SSL_CTX_use_certificate(ctx, leaf)  // takes its own reference
        X509_free(leaf)
        guard used == 1 else {
            throw TLSError.drained("file", "cannot use the certificate in \(path)")
        }
        while let intermediate = PEM_read_bio_X509(bio, nil, nil, nil) {
            guard COpenSSL_SSL_CTX_add0_chain_cert(ctx, intermediate) == 1 else {
                X509_free(intermediate)
                throw TLSError.drained("file", "cannot use an intermediate certificate in \(path)")
            }
        }
        try TLSContext.expectEndOfPEM(in: path, after: "certificate chain")
    }

    /// Sets the private key from a PEM file, after checking it belongs to the certificate.
    func usePrivateKey(_ path: String, certificatePath: String) throws(TLSError) {
        let bio = try TLSContext.openFile(path, holding: "private key")
        defer { BIO_free(bio) }
        // A callback that supplies no passphrase: encrypted keys fail instead of prompting on a
        // terminal, which the default callback would do.
        guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
            // OpenSSL 3's decoders say "unsupported" both for a file without a key and for a key
            // they cannot parse: look at the block labels to tell which.
            let error = TLSError.drained("file", "cannot parse private key in \(path)")
            guard COpenSSL_BIO_reset(bio) == 0, TLSContext.hasPEMBlock(in: bio, labelEndingWith: "PRIVATE KEY") else {
                throw TLSError(reason: "file", message: "no private key in \(path)")
            }
            throw error
        }
        defer { EVP_PKEY_free(key) }
        guard let certificate = SSL_CTX_get0_certificate(ctx), X509_check_private_key(certificate, key) == 1 else {
            _ = OpenSSLErrorQueue.drain()
            throw TLSError(reason: "key_mismatch",
                           message: "private key \(path) does not match certificate \(certificatePath)")
        }
        guard SSL_CTX_use_PrivateKey(ctx, key) == 1 else {
            throw TLSError.drained("file", "cannot use the private key in \(path)")
        }
    }

    /// Adds every certificate in a PEM file to the trust store.
    func loadTrustedCertificates(_ path: String) throws(TLSError) {
        // Opened once for the errno-level message; OpenSSL then reads it by name.
        BIO_free(try TLSContext.openFile(path, holding: "CA certificates"))
        guard SSL_CTX_load_verify_file(ctx, path) == 1 else {
            let entries = OpenSSLErrorQueue.drain()
            let detail = entries.map(\.text).joined(separator: "; ")
            throw TLSError(reason: "file", message: "no CA certificate in \(path)" + (detail.isEmpty ? "" : ": \(detail)"))
        }
    }

    /// A read BIO on `path`, or a `file` error with the system's reason ("No such file or directory").
    static func openFile(_ path: String, holding what: String) throws(TLSError) -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let bio = BIO_new_file(path, "r") else {
            let entries = OpenSSLErrorQueue.drain()
            let cause = entries.first(where: { $0.library == ERR_LIB_SYS }) ?? entries.first
            throw TLSError(reason: "file", message: "cannot read \(what) \(path): \(cause?.text ?? "unknown error")")
        }
        return bio
    }

    /// True when a PEM block's label ("-----BEGIN <label>-----") ends in `suffix`; reads `bio` to
    /// the first such block (or its end) and leaves the error queue empty.
    static func hasPEMBlock(in bio: OpaquePointer, labelEndingWith suffix: String) -> Bool {
        defer { _ = OpenSSLErrorQueue.drain() }
        while true {
            var name: UnsafeMutablePointer<CChar>?
            var header: UnsafeMutablePointer<CChar>?
            var data: UnsafeMutablePointer<UInt8>?
            var length = 0
            guard PEM_read_bio(bio, &name, &header, &data, &length) == 1 else { return false }
            let label = name.map { String(cString: $0) } ?? ""
            COpenSSL_OPENSSL_free(name)
            COpenSSL_OPENSSL_free(header)
            COpenSSL_OPENSSL_free(data)
            if label.hasSuffix(suffix) { return true }
        }
    }

    /// The error when the first PEM read of `what` found nothing: "no <what> in <path>" when the
    /// file has no such PEM block, OpenSSL's reason when one was there but did not parse.
    static func missingPEM(_ what: String, in path: String) -> TLSError {
        let entries = OpenSSLErrorQueue.drain()
        if entries.isEmpty || entries.contains(where: \.isNoStartLine) {
            return TLSError(reason: "file", message: "no \(what) in \(path)")
        }
        return TLSError(reason: "file", message: "cannot parse \(what) in \(path): "
                        + entries.map(\.text).joined(separator: "; "))
    }

    /// After reading PEM blocks to the end: the "no start line" that marks the end is expected,
    /// anything else means a block was broken.
    static func expectEndOfPEM(in path: String, after what: String) throws(TLSError) {
        let entries = OpenSSLErrorQueue.drain()
        guard entries.allSatisfy(\.isNoStartLine) else {
            throw TLSError(reason: "file", message: "cannot parse \(what) in \(path): "
                           + entries.map(\.text).joined(separator: "; "))
        }
    }
}

extension OpenSSLErrorQueue.Entry {
    /// PEM's "no start line": no (further) block of the wanted kind in the file.
    var isNoStartLine: Bool {
        library == ERR_LIB_PEM && reason == PEM_R_NO_START_LINE
    }
}
