import FaultlineCore
import FaultlineTestSupport
import Foundation
import XCTest

/// gRPC through a `grpc` route (SPEC §3.5) with Python grpcio as server and client
/// (Scripts/lib/grpcpeer.py): an UNAVAILABLE abort on one method, and a client's retry policy seen
/// in the request log.
final class GRPCRouteTests: HTTPRouteTestCase {
    private func grpcDaemon(_ server: GrpcPeerServer, faults: [String]) throws -> HTTPDaemon {
        let route = #"{"name":"rpc","listen":"127.0.0.1:0","upstream":"\#(server.endpoint)","protocol":"grpc"}"#
        return try HTTPDaemon(routeObjects: [route], faults: faults)
    }

    /// `abort` with grpc_status UNAVAILABLE on Say: the client gets StatusCode.UNAVAILABLE with the
    /// message, the server never sees Say; Other is untouched.
    func testAbortUnavailableOnOneMethod() throws {
        let server = try GrpcPeerServer()
        let daemon = try grpcDaemon(server, faults: [
            #"{"id":"outage","route":"rpc","type":"abort","grpc_status":"UNAVAILABLE","grpc_message":"injected outage","match":{"path":"\#(GrpcPeerServer.say)"}}"#,
        ])
        let route = try daemon.route("rpc")
        let say = try grpcPeerClient(route, method: GrpcPeerServer.say, count: 2)
        XCTAssertEqual(say.map(\.code), ["UNAVAILABLE", "UNAVAILABLE"])
        XCTAssertEqual(say.map(\.details), ["injected outage", "injected outage"])
        let other = try grpcPeerClient(route, method: GrpcPeerServer.other, count: 2)
        XCTAssertEqual(other.map(\.code), ["OK", "OK"])
        XCTAssertEqual(other.map(\.responseLen), [5, 5])
        XCTAssertEqual(server.calls()[GrpcPeerServer.say] ?? 0, 0)
        XCTAssertEqual(server.calls()[GrpcPeerServer.other], 2)
        XCTAssertEqual(try daemon.metric("faultline_fault_injections_total", ["route": "rpc", "fault": "outage", "type": "abort"]), 2)
    }

    /// A client with a retry policy (service config: retry UNAVAILABLE, 4 attempts) against an
    /// abort that fails the first two calls of each connection: the call succeeds, and the
    /// request log holds the three attempts on one connection, the first two marked with the fault.
    func testRetryPolicyIsSeenInTheRequestLog() throws {
        let server = try GrpcPeerServer()
        let daemon = try grpcDaemon(server, faults: [
            #"{"id":"flaky","route":"rpc","type":"abort","grpc_status":14,"grpc_message":"try again","match":{"path":"\#(GrpcPeerServer.say)"},"attempts":{"key":"connection","first":2}}"#,
        ])
        let results = try grpcPeerClient(try daemon.route("rpc"), method: GrpcPeerServer.say, count: 1, retryPolicy: true)
        XCTAssertEqual(results.map(\.code), ["OK"])
        XCTAssertEqual(server.calls()[GrpcPeerServer.say], 1)
        let lines = try daemon.control.expect(200, "GET", "/v1/requests?route=rpc").text.split(separator: "\n")
        let records = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        XCTAssertEqual(records.count, 3, "\(records)")
        XCTAssertEqual(records.map { $0["path"] as? String }, Array(repeating: GrpcPeerServer.say, count: 3))
        XCTAssertEqual(records.map { $0["fault"] as? String }, ["flaky", "flaky", nil])
        XCTAssertEqual(Set(records.compactMap { $0["conn"] as? Int }).count, 1)
        XCTAssertEqual(records.map { $0["req"] as? Int }, [0, 1, 2])
        XCTAssertEqual(records.map { $0["grpc_status"] as? Int }, [14, 14, 0])
        // The report counts the UNAVAILABLE answers as failures (their HTTP status is 200): one
        // timeline, retried, three attempts, not given up.
        let report = try daemon.control.expect(200, "GET", "/v1/report?route=rpc").text
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        let retries = try XCTUnwrap(object["retries"] as? [String: Any], report)
        XCTAssertEqual(retries["groups_retried"] as? Int, 1, report)
        XCTAssertEqual(retries["max_attempts"] as? Int, 3, report)
        XCTAssertEqual(retries["gave_up"] as? Int, 0, report)
    }
}
