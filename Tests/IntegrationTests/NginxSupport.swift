import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// nginx (Debian's nginx-light, which Scripts/test installs) on a free loopback port, serving a
/// temporary root (single process, no daemon), killed by its pid when this goes away.
///
/// One listener, speaking `listener`: HTTP/1.1, h2c (`listen … http2`: nginx 1.22 answers the
/// prior-knowledge preface there, and nothing else), or h2 under TLS (`listen … ssl http2`, ALPN h2
/// with http/1.1 as the fallback, the certificate for localhost and 127.0.0.1 of `TestCertificates`).
/// The root holds `small.txt` ("small\n"), `large.bin` when `largeFileSize` is given (seeded bytes:
/// `NginxServer.largeFile(size:)`), and `files`; `returns` become `location = PATH { return …; }`.
/// `keepaliveRequests` bounds the requests of a connection, HTTP/2 streams included (nginx then
/// closes an HTTP/1.1 connection, or sends GOAWAY NO_ERROR and finishes the streams it took).
final class NginxServer {
    enum Listener {
        case http1
        case h2c
        case h2TLS(TestCertificates)
    }

    /// A `location = path { return status "body"; }`.
    struct Return {
        var path: String
        var status: Int
        var body: String
    }

    struct LogLine: Equatable, CustomStringConvertible {
        var connection: Int
        var connectionRequest: Int
        var request: String
        var status: Int
        /// `$server_protocol`: "HTTP/1.1", "HTTP/2.0".
        var httpVersion: String
        var description: String { "#\(connection).\(connectionRequest) \(request) \(status) \(httpVersion)" }
    }

    /// /ok, /teapot, /posted (HTTPClientToolTests) and /a, /b, /c answering "a", "bb", "ccc".
    static let standardReturns = [
        Return(path: "/ok", status: 200, body: "fine\n"),
        Return(path: "/teapot", status: 418, body: "short and stout\n"),
        Return(path: "/posted", status: 200, body: "posted\n"),
        Return(path: "/a", status: 200, body: "a"),
        Return(path: "/b", status: 200, body: "bb"),
        Return(path: "/c", status: 200, body: "ccc"),
    ]

    static let smallFile = Array("small\n".utf8)
    static let largeFileSeed: UInt64 = 8

    /// The bytes of `large.bin` for `largeFileSize: size`.
    static func largeFile(size: Int) -> [UInt8] { SplitMix64.bytes(count: size, seed: largeFileSeed) }

    static let path = "/usr/sbin/nginx"

    let directory: String
    let endpoint: Endpoint
    let listener: Listener
    private let process: Process
    var root: String { directory + "/www" }
    /// The URL of `path` on this server (http or https as the listener speaks).
    func url(_ path: String) -> String {
        if case .h2TLS = listener { return "https://\(endpoint)\(path)" }
        return "http://\(endpoint)\(path)"
    }

    init(
        _ listener: Listener = .http1, returns: [Return] = NginxServer.standardReturns,
        files: [String: [UInt8]] = [:], largeFileSize: Int? = nil, keepaliveRequests: Int = 100_000
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.path) else {
            throw DaemonError("\(Self.path) is missing (Debian package nginx-light; Scripts/test installs it)")
        }
        self.listener = listener
        var template = Array((NSTemporaryDirectory() + "fl-nginx-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed") }
        directory = String(cString: made)
        try FileManager.default.createDirectory(atPath: directory + "/www", withIntermediateDirectories: true)
        var contents = files
        contents["small.txt"] = contents["small.txt"] ?? Self.smallFile
        if let largeFileSize { contents["large.bin"] = Self.largeFile(size: largeFileSize) }
        for (name, bytes) in contents {
            let path = directory + "/www/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        endpoint = .loopback(port: try Loopback.freePort())
        let listen: String
        switch listener {
        case .http1:
            listen = "listen \(endpoint);"
        case .h2c:
            listen = "listen \(endpoint) http2;"
        case .h2TLS(let certificates):
            listen = """
            listen \(endpoint) ssl http2;
                ssl_certificate \(certificates.certificatePath);
                ssl_certificate_key \(certificates.keyPath);
            """
        }
        let locations = returns.map { item in
            let body = item.body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "    location = \(item.path) { return \(item.status) \"\(body)\"; }"
        }.joined(separator: "\n")
        let config = """
        worker_processes 1;
        master_process off;
        error_log \(directory)/error.log info;
        pid \(directory)/nginx.pid;
        events { worker_connections 1024; }
        http {
          log_format fl '$connection $connection_requests "$request_method $request_uri" $status $server_protocol';
          access_log \(directory)/access.log fl;
          client_body_temp_path \(directory)/body;
          proxy_temp_path \(directory)/proxy;
          fastcgi_temp_path \(directory)/fastcgi;
          uwsgi_temp_path \(directory)/uwsgi;
          scgi_temp_path \(directory)/scgi;
          default_type application/octet-stream;
          keepalive_requests \(keepaliveRequests);
          keepalive_timeout 60s;
          server {
            \(listen)
            root \(directory)/www;
        \(locations)
          }
        }
        """
        try config.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.path)
        process.arguments = ["-c", directory + "/nginx.conf", "-p", directory, "-g", "daemon off;"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Deadline(after: .seconds(10))
        while true {
            if let probe = try? TestSocket.connect(to: endpoint, timeout: .milliseconds(200)) {
                probe.close()
                break
            }
            guard process.isRunning, !deadline.hasPassed else {
                let log = errorLog()
                stop()
                throw DaemonError("nginx did not listen on \(endpoint); error.log:\n\(log)")
            }
            usleep(20_000)
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func stop() {
        guard process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGTERM)
        let deadline = Deadline(after: .seconds(5))
        while process.isRunning && !deadline.hasPassed { usleep(10_000) }
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    /// nginx's error log (level info) so far.
    func errorLog() -> String {
        (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? ""
    }

    /// The access log's lines, parsed.
    func accessLog() -> [LogLine] {
        let text = (try? String(contentsOfFile: directory + "/access.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let quoted = line.split(separator: "\"")
            guard quoted.count == 3 else { return nil }
            let ids = quoted[0].split(separator: " ")
            let tail = quoted[2].split(separator: " ")
            guard ids.count == 2, let connection = Int(ids[0]), let request = Int(ids[1]),
                  tail.count == 2, let status = Int(tail[0]) else { return nil }
            return LogLine(
                connection: connection, connectionRequest: request, request: String(quoted[1]), status: status,
                httpVersion: String(tail[1]))
        }
    }

    /// The access log once it has at least `count` lines (nginx writes a request's line after its
    /// answer went out), or as it is after `timeout`.
    func accessLog(atLeast count: Int, timeout: Duration = .seconds(3)) -> [LogLine] {
        var lines = accessLog()
        let deadline = Deadline(after: timeout)
        while lines.count < count && !deadline.hasPassed {
            usleep(10_000)
            lines = accessLog()
        }
        return lines
    }
}
