import FaultlineCore
import FaultlineTestSupport
import Glibc
import XCTest

/// sd_notify without libsystemd (SPEC §1): READY, RELOADING, STOPPING and WATCHDOG datagrams on
/// `$NOTIFY_SOCKET`, read by a socket the test binds like systemd would.
final class SystemdNotifyTests: DaemonTestCase {
    func testLifecycleNotificationsReachNotifySocket() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/notify.sock"
        let listener = try NotifyListener(path: path)
        let upstream = try EchoServer()

        // The daemon inherits the environment; XCTest runs these tests one at a time.
        setenv("NOTIFY_SOCKET", path, 1)
        setenv("WATCHDOG_USEC", "200000", 1)
        defer {
            unsetenv("NOTIFY_SOCKET")
            unsetenv("WATCHDOG_USEC")
        }
        let daemon = try startDaemon(routes: [.init(name: "r", upstream: upstream.endpoint)])
        unsetenv("NOTIFY_SOCKET")
        unsetenv("WATCHDOG_USEC")

        XCTAssertEqual(listener.next(matching: "READY=1", timeout: 3), "READY=1")
        // WATCHDOG_USEC 200 ms: a ping every 100 ms.
        XCTAssertEqual(listener.next(matching: "WATCHDOG=1", timeout: 2), "WATCHDOG=1")

        daemon.signal(SIGHUP)
        XCTAssertEqual(listener.next(matching: "RELOADING=1", timeout: 3), "RELOADING=1")
        XCTAssertEqual(listener.next(matching: "READY=1", timeout: 3), "READY=1")

        daemon.signal(SIGTERM)
        XCTAssertEqual(listener.next(matching: "STOPPING=1", timeout: 3), "STOPPING=1")
        XCTAssertEqual(daemon.waitForExit(timeout: .seconds(10)), 0)
    }
}

/// A temporary directory removed on deinit.
private final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/faultline-notify-XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else { throw DaemonError("mkdtemp failed") }
        path = String(cString: result)
    }

    deinit { _ = try? FileManager.default.removeItem(atPath: path) }
}

/// A bound Unix datagram socket standing in for systemd's notify socket.
private final class NotifyListener {
    private let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw DaemonError("socket failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else { throw DaemonError("bind \(path) failed: errno \(errno)") }
    }

    deinit { close(fd) }

    /// The next datagram equal to `wanted` within `timeout` seconds (others are skipped).
    func next(matching wanted: String, timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 512)
        while Date() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&entry, 1, remaining) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { continue }
            let text = String(decoding: buffer[0..<n], as: UTF8.self)
            if text == wanted { return text }
        }
        return nil
    }
}
