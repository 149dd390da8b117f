@testable import FaultlineTLS
import Testing

/// Smoke runs of the memory-BIO vs SSL_set_fd benchmark (faultline-bench tls-bio): every way, on
/// both transports, moves the bytes and completes full TLS 1.3 handshakes, leaving no errors behind.
@Suite struct TransportBenchmarkTests {
    @Test(arguments: TLSTransportBenchmark.Variant.allCases, TLSTransportBenchmark.Transport.allCases)
    func transfersAndHandshakes(variant: TLSTransportBenchmark.Variant, transport: TLSTransportBenchmark.Transport) throws {
        let server = try Contexts.server()
        let client = try Contexts.client()
        // Not a multiple of the write size: the last write is short.
        let bytes = 3 * 1024 * 1024 + 12_345
        let transfer = try TLSTransportBenchmark.throughput(
            variant, server: server, client: client, bytes: bytes, writeSize: 64 * 1024, transport: transport)
        #expect(transfer.bytes == bytes)
        #expect(transfer.protocolVersion == "TLSv1.3")
        #expect(transfer.seconds > 0 && transfer.cpuSeconds > 0)
        let handshakes = try TLSTransportBenchmark.handshakes(variant, server: server, client: client, count: 5, transport: transport)
        #expect(handshakes.count == 5 && handshakes.seconds > 0)
        #expect(OpenSSLErrorQueue.isEmpty)
    }

    @Test(arguments: TLSTransportBenchmark.Variant.allCases)
    func refusesTLS12(variant: TLSTransportBenchmark.Variant) throws {
        let client = try Contexts.client(capAtTLS12: true)
        #expect(throws: TLSTransportBenchmark.Failure.self) {
            try TLSTransportBenchmark.handshakes(variant, server: try Contexts.server(), client: client, count: 1, transport: .unix)
        }
        #expect(OpenSSLErrorQueue.isEmpty)
    }
}
