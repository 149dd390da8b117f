import FaultlineTLS
import Testing

@Suite struct TransferTests {
    @Test(arguments: [false, true])
    func fourMebibytesEachWayArriveByteExactInRandomPieces(tls12: Bool) throws {
        let size = 4 * 1024 * 1024
        let pair = try SessionPair(client: Contexts.client(capAtTLS12: tls12), server: Contexts.server(),
                                   seed: tls12 ? 12 : 13, largestMove: 70_000)
        #expect(pair.handshake() == (.complete, .complete))
        var random = SplitMix64(seed: 42)
        let upload = random.bytes(size)
        let download = random.bytes(size)
        var uploaded = 0, downloaded = 0
        var atServer: [UInt8] = [], atClient: [UInt8] = []
        atServer.reserveCapacity(size)
        atClient.reserveCapacity(size)
        var rounds = 0
        while atServer.count < size || atClient.count < size {
            rounds += 1
            try #require(rounds < 100_000)
            uploaded += try writeSome(pair.client, upload, from: uploaded, random: &random)
            downloaded += try writeSome(pair.server, download, from: downloaded, random: &random)
            // Move only part of the output sometimes, so consumeOutput leaves a remainder behind.
            moveSome(pair, from: pair.client, to: pair.server, random: &random)
            moveSome(pair, from: pair.server, to: pair.client, random: &random)
            let bufferSize = Int(random.next(below: 40_000)) + 1
            try #require(pair.readAvailable(pair.server, into: &atServer, bufferSize: bufferSize) == .wantInput)
            try #require(pair.readAvailable(pair.client, into: &atClient, bufferSize: bufferSize) == .wantInput)
        }
        #expect(atServer.count == size && atServer == upload)
        #expect(atClient.count == size && atClient == download)
    }

    /// Writes a random-sized piece of `data` starting at `offset`; returns how much was written.
    private func writeSome(_ session: TLSSession, _ data: [UInt8], from offset: Int, random: inout SplitMix64) throws -> Int {
        guard offset < data.count else { return 0 }
        let count = min(data.count - offset, Int(random.next(below: 100_000)) + 1)
        let result = data.withUnsafeBytes { session.write(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)])) }
        try #require(result == .written(count))
        return count
    }

    private func moveSome(_ pair: SessionPair, from: TLSSession, to: TLSSession, random: inout SplitMix64) {
        if random.next(below: 3) == 0 {
            let part = Int(random.next(below: UInt64(from.pendingOutputCount + 1)))
            let moved = from.withPendingOutput { to.feed(UnsafeRawBufferPointer(rebasing: $0[0..<part])) }
            from.consumeOutput(moved)
        } else {
            pair.move(from: from, to: to)
        }
    }

    @Test(arguments: [false, true])
    func closeNotifyEndsInputOnlyAndTheReceiverCanStillWrite(tls12: Bool) throws {
        let pair = try SessionPair(client: Contexts.client(capAtTLS12: tls12), server: Contexts.server())
        #expect(pair.handshake() == (.complete, .complete))
        #expect(writeAll(pair.client, bytes("request")) == .written(7))
        pair.client.shutdown()
        pair.client.shutdown()  // once only
        #expect(writeAll(pair.client, bytes("more")) == .failed(TLSError(reason: "protocol", message: "write after shutdown")))
        pair.move(from: pair.client, to: pair.server)
        var atServer: [UInt8] = []
        #expect(pair.readAvailable(pair.server, into: &atServer) == .closed)
        #expect(atServer == bytes("request"))
        #expect(pair.server.read(into: UnsafeMutableRawBufferPointer(start: nil, count: 0)) == .closed)
        #expect(!pair.server.hasBufferedInput)
        // The half-closed side answers; the side that closed still reads it.
        #expect(writeAll(pair.server, bytes("response after close_notify")) == .written(27))
        pair.server.shutdown()
        pair.move(from: pair.server, to: pair.client)
        var atClient: [UInt8] = []
        #expect(pair.readAvailable(pair.client, into: &atClient) == .closed)
        #expect(atClient == bytes("response after close_notify"))
    }

    @Test func bufferedInputIsReportedUntilReadOut() throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server())
        #expect(pair.handshake() == (.complete, .complete))
        pair.settle()
        #expect(!pair.server.hasBufferedInput)
        #expect(writeAll(pair.client, [UInt8](repeating: 7, count: 3000)) == .written(3000))
        pair.move(from: pair.client, to: pair.server)
        #expect(pair.server.hasBufferedInput)
        var small = [UInt8](repeating: 0, count: 1000)
        #expect(small.withUnsafeMutableBytes { pair.server.read(into: $0) } == .bytes(1000))
        #expect(pair.server.hasBufferedInput)
        var rest: [UInt8] = []
        #expect(pair.readAvailable(pair.server, into: &rest) == .wantInput)
        #expect(rest.count == 2000)
        #expect(!pair.server.hasBufferedInput)
    }

    @Test func writesBeforeTheHandshakeCompleteWriteNothingYet() throws {
        let pair = try SessionPair(client: Contexts.client(), server: Contexts.server())
        #expect(writeAll(pair.client, bytes("early")) == .written(0))
        #expect(pair.handshake() == (.complete, .complete))
        #expect(writeAll(pair.client, bytes("early")) == .written(5))
        pair.move(from: pair.client, to: pair.server)
        var atServer: [UInt8] = []
        #expect(pair.readAvailable(pair.server, into: &atServer) == .wantInput)
        #expect(atServer == bytes("early"))
    }
}
