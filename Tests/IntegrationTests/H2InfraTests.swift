import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// The HTTP/2 and gRPC test peers on their own, without Faultline in between: nginx's h2c and
/// TLS h2 listeners (NginxServer), curl, h2load, Scripts/lib/h2probe.py and Scripts/lib/grpcpeer.py.
/// When a test of the HTTP/2 routes fails, these say whether the peers themselves still work.
final class H2InfraTests: XCTestCase {
    private static let curl = "/usr/bin/curl"
    private static let h2load = "/usr/bin/h2load"

    /// curl with prior knowledge to the h2c listener: HTTP/2, the `return` body and a static file;
    /// nginx logs them as HTTP/2.0. One URL per curl: Debian 12's curl 7.88.1 fails the second URL
    /// of one invocation on a reused prior-knowledge connection ("Error in the HTTP2 framing
    /// layer", curl/curl#10634, fixed after 7.88.1), so a test must not give it two.
    func testCurlPriorKnowledgeToH2cNginx() throws {
        let server = try NginxServer(.h2c)
        var outputs: [String] = []
        for path in ["/a", "/small.txt"] {
            let run = try runProcess([
                Self.curl, "-sS", "--max-time", "10", "--http2-prior-knowledge", "-w", " %{http_version} %{http_code}",
                server.url(path),
            ], timeout: .seconds(20))
            XCTAssertEqual(run.status, 0, run.output)
            outputs.append(run.output)
        }
        XCTAssertEqual(outputs, ["a 2 200", "small\n 2 200"])
        let lines = server.accessLog(atLeast: 2)
        XCTAssertEqual(lines.map(\.request), ["GET /a", "GET /small.txt"])
        XCTAssertEqual(lines.map(\.httpVersion), ["HTTP/2.0", "HTTP/2.0"])
    }

    /// curl --http2 over TLS: ALPN picks h2, the certificate verifies against the test CA.
    func testCurlHTTP2OverTLSToNginx() throws {
        let certificates = try TestCertificates()
        let server = try NginxServer(.h2TLS(certificates))
        let run = try runProcess([
            Self.curl, "-sS", "--max-time", "10", "--http2", "--cacert", certificates.caPath,
            "-w", " %{http_version} %{http_code}", server.url("/b"),
        ], timeout: .seconds(20))
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertEqual(run.output, "bb 2 200")
        let probe = try h2probe(server.endpoint, ["GET:/c"], options: ["--tls", "--cafile", certificates.caPath])
        XCTAssertEqual(probe.streams.map(\.status), [200])
        XCTAssertEqual(probe.streams.first?.bodySha256, SHA256.hex(Array("ccc".utf8)))
    }

    /// h2probe: concurrent streams on one connection (return locations, a 404, the 8 MiB file with
    /// a 16 KiB stream window), each byte-exact; nginx saw one connection.
    func testH2ProbeConcurrentStreamsOnOneConnection() throws {
        let size = 8 << 20
        let server = try NginxServer(.h2c, largeFileSize: size)
        let result = try h2probe(server.endpoint, ["GET:/a", "GET:/b", "GET:/large.bin", "GET:/missing", "POST:/posted"],
                                 options: ["--window", "16384"])
        XCTAssertFalse(result.timedOut)
        XCTAssertNil(result.goaway)
        XCTAssertEqual(result.streams.map(\.streamId), [1, 3, 5, 7, 9])
        XCTAssertEqual(result.streams.map(\.status), [200, 200, 200, 404, 200])
        XCTAssertEqual(result.streams.map(\.ended), [true, true, true, true, true])
        XCTAssertEqual(result.streams.map(\.resetErrorCode), [nil, nil, nil, nil, nil])
        XCTAssertEqual(result.streams("/a").first?.bodySha256, SHA256.hex(Array("a".utf8)))
        XCTAssertEqual(result.streams("/b").first?.bodySha256, SHA256.hex(Array("bb".utf8)))
        XCTAssertEqual(result.streams("/large.bin").first?.bodyBytes, size)
        XCTAssertEqual(result.streams("/large.bin").first?.bodySha256, SHA256.hex(NginxServer.largeFile(size: size)))
        XCTAssertEqual(result.streams("/posted").first?.bodySha256, SHA256.hex(Array("posted\n".utf8)))
        let lines = server.accessLog(atLeast: 5)
        XCTAssertEqual(lines.count, 5, "\(lines)")
        XCTAssertEqual(Set(lines.map(\.connection)).count, 1, "\(lines)")
    }

    /// h2probe sees a RST_STREAM: nginx answers an upload over client_max_body_size (1 MiB) with
    /// 413 and then resets the stream with NO_ERROR (0) to stop it; a stream beside it is untouched.
    func testH2ProbeSeesNginxResetAfterA413() throws {
        let server = try NginxServer(.h2c)
        let result = try h2probe(server.endpoint, ["POST:/c", "GET:/a"], options: ["--body-size", "3000000"])
        XCTAssertEqual(result.streams.map(\.status), [413, 200])
        XCTAssertEqual(result.streams.map(\.resetErrorCode), [0, nil])
        XCTAssertEqual(result.streams.last?.bodySha256, SHA256.hex(Array("a".utf8)))
        XCTAssertFalse(result.timedOut)
    }

    /// h2probe and a graceful GOAWAY: nginx with keepalive_requests 10 takes streams 1…19, sends
    /// GOAWAY NO_ERROR with last_stream_id 19 and finishes them; the later streams get no answer.
    func testH2ProbeSeesGracefulGoaway() throws {
        let server = try NginxServer(.h2c, keepaliveRequests: 10)
        let result = try h2probe(server.endpoint, ["GET:/a", "GET:/b"], options: ["--repeat", "8"])
        XCTAssertEqual(result.goaway?.errorCode, 0)
        XCTAssertEqual(result.goaway?.lastStreamId, 19)
        XCTAssertFalse(result.timedOut)
        let taken = result.streams.filter { ($0.streamId ?? 99) <= 19 }
        XCTAssertEqual(taken.count, 10)
        XCTAssertEqual(Set(taken.map(\.status)), [200])
        XCTAssertEqual(Set(taken.map(\.ended)), [true])
        let refused = result.streams.filter { ($0.streamId ?? 99) > 19 }
        XCTAssertEqual(refused.count, 6)
        XCTAssertEqual(Set(refused.map { $0.status == nil && !$0.ended }), [true])
    }

    /// h2probe as a raw gRPC client of grpcpeer's server: trailers (grpc-status 0) after the echoed
    /// message, and a trailers-only answer (grpc-status in the headers, no trailers) for an
    /// unknown method, on one connection.
    func testH2ProbeReadsGrpcTrailers() throws {
        let server = try GrpcPeerServer()
        let directory = try makeScratchDirectory("fl-h2probe")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let frame = grpcFrame(Array("hi".utf8))
        try Data(frame).write(to: URL(fileURLWithPath: directory + "/frame.bin"))
        let result = try h2probe(server.endpoint, ["POST:" + GrpcPeerServer.say, "POST:/faultline.test.Echo/Nope"], options: [
            "--body-file", directory + "/frame.bin", "--header", "content-type:application/grpc", "--header", "te:trailers",
        ])
        let say = try XCTUnwrap(result.streams.first)
        XCTAssertEqual(say.status, 200)
        XCTAssertEqual(say.headers["content-type"], "application/grpc")
        XCTAssertEqual(say.bodySha256, SHA256.hex(frame), "the echo, framed")
        XCTAssertEqual(say.trailers?["grpc-status"], "0")
        let nope = try XCTUnwrap(result.streams.last)
        XCTAssertEqual(nope.status, 200)
        XCTAssertEqual(nope.headers["grpc-status"], "12", "UNIMPLEMENTED, trailers-only")
        XCTAssertNil(nope.trailers)
        XCTAssertEqual(nope.bodyBytes, 0)
        XCTAssertEqual(server.calls(), [GrpcPeerServer.say: 1])
    }

    /// h2load (the bench's h2 row) against the h2c listener: every request succeeds.
    func testH2loadAgainstH2cNginx() throws {
        let server = try NginxServer(.h2c)
        let run = try runProcess([Self.h2load, "-n", "2000", "-c", "4", "-m", "10", server.url("/a")], timeout: .seconds(60))
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("2000 succeeded, 0 failed, 0 errored, 0 timeout"), run.output)
        XCTAssertTrue(run.output.contains("status codes: 2000 2xx"), run.output)
    }

    /// grpcpeer: client and server round trip on both methods, the per-method counts, an unknown
    /// method answered UNIMPLEMENTED.
    func testGrpcPeerRoundTrip() throws {
        let server = try GrpcPeerServer()
        let say = try grpcPeerClient(server.endpoint, count: 3, message: "hello")
        XCTAssertEqual(say, Array(repeating: GrpcCallResult(method: GrpcPeerServer.say, code: "OK", details: nil, responseLen: 5), count: 3))
        let other = try grpcPeerClient(server.endpoint, method: GrpcPeerServer.other, message: "x")
        XCTAssertEqual(other, [GrpcCallResult(method: GrpcPeerServer.other, code: "OK", details: nil, responseLen: 5)])
        let unknown = try grpcPeerClient(server.endpoint, method: "/faultline.test.Echo/Nope")
        XCTAssertEqual(unknown.map(\.code), ["UNIMPLEMENTED"])
        XCTAssertEqual(server.calls(), [GrpcPeerServer.say: 3, GrpcPeerServer.other: 1])
    }

    /// grpcpeer's retry policy: a server failing its first calls with UNAVAILABLE reaches a plain
    /// client as UNAVAILABLE with the message; a client with the policy retries until OK.
    func testGrpcPeerRetryPolicy() throws {
        let server = try GrpcPeerServer(unavailableFirst: 3)
        let plain = try grpcPeerClient(server.endpoint)
        XCTAssertEqual(plain, [GrpcCallResult(method: GrpcPeerServer.say, code: "UNAVAILABLE", details: "unavailable-first", responseLen: nil)])
        XCTAssertEqual(server.calls(), [GrpcPeerServer.say: 1])
        let retried = try grpcPeerClient(server.endpoint, retryPolicy: true)
        XCTAssertEqual(retried, [GrpcCallResult(method: GrpcPeerServer.say, code: "OK", details: nil, responseLen: 5)])
        XCTAssertEqual(server.calls(), [GrpcPeerServer.say: 4], "two failed attempts and the one that passed")
    }
}
