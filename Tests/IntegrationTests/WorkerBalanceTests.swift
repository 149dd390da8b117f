import FaultlineCore
import FaultlineSystem
import FaultlineTestSupport
import Foundation
import XCTest

/// Accepted connections are balanced across workers (`WorkerPeers`): the kernel's SO_REUSEPORT
/// hash spreads them by address, so without balancing four workers end up tens of connections
/// apart out of 400; with it no worker is more than two ahead of the least loaded one when it
/// keeps a connection, and every handed-over connection relays like any other.
final class WorkerBalanceTests: DaemonTestCase {
    func testConnectionsAreSpreadEvenlyOverWorkers() throws {
        let echo = try EchoServer(threads: 4)
        let daemon = try FaultDaemon(routes: [("r", echo.endpoint)], workers: 4)
        let route = try daemon.route("r")
        var sockets: [TestSocket] = []
        for index in 0..<400 {
            let socket = try TestSocket.connect(to: route)
            let byte = UInt8(truncatingIfNeeded: index)
            try socket.send([byte])
            XCTAssertEqual(try socket.read(exactly: 1), [byte], "connection \(index)")
            sockets.append(socket)
        }
        let loads = try (0..<4).map { worker in
            try XCTUnwrap(try daemon.metric("faultline_worker_connections", ["worker": String(worker)]), "worker \(worker)")
        }
        XCTAssertEqual(loads.reduce(0, +), 400, "per-worker counts \(loads)")
        XCTAssertLessThanOrEqual(loads.max()! - loads.min()!, 3, "per-worker counts \(loads)")
        XCTAssertEqual(try daemon.metric("faultline_connections_active", ["route": "r"]), 400)

        // Every connection, handed over or not, still relays both ways; closing them brings
        // every worker back to zero.
        for (index, socket) in sockets.enumerated() {
            let payload = randomBytes(1000, seed: UInt64(index))
            try socket.send(payload)
            XCTAssertEqual(try socket.read(exactly: 1000), payload, "connection \(index)")
        }
        for socket in sockets { socket.close() }
        let settled = Deadline(after: .seconds(5))
        var after: [Double] = []
        repeat {
            after = try (0..<4).map { try daemon.metric("faultline_worker_connections", ["worker": String($0)]) ?? -1 }
            if after.allSatisfy({ $0 == 0 }) { break }
            usleep(20_000)
        } while !settled.hasPassed
        XCTAssertEqual(after, [0, 0, 0, 0])
    }
}
