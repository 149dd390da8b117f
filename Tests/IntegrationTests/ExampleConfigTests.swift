import FaultlineTestSupport
import Foundation
import XCTest

/// Every file in `Config/examples` passes `faultlined --check-config`, and there is one example
/// per fault type, whose faults are of that type.
final class ExampleConfigTests: XCTestCase {
    private static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/examples")

    private static let faultTypes = [
        "latency", "bandwidth", "slicer", "blackhole", "stall", "reset", "timeout", "limit_data",
        "slow_close", "refuse", "connect_delay", "corrupt", "partition",
    ]

    func testEveryExamplePassesCheckConfig() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.examples.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, Self.faultTypes.count)
        var certificates: TestCertificates?
        for file in files {
            var path = Self.examples.appendingPathComponent(file).path
            if file.hasPrefix("tls-") {
                // The TLS examples name files under /etc/faultline/tls; check them against
                // certificates made for the test (the daemon reads the files it names).
                let made = try certificates ?? TestCertificates()
                certificates = made
                for (name, source) in [("server.pem", made.certificatePath), ("server.key", made.keyPath), ("ca.pem", made.caPath)] {
                    let target = made.directory + "/etc-" + name
                    if !FileManager.default.fileExists(atPath: target) { try FileManager.default.copyItem(atPath: source, toPath: target) }
                }
                let text = try String(contentsOfFile: path, encoding: .utf8)
                    .replacingOccurrences(of: "/etc/faultline/tls/", with: made.directory + "/etc-")
                XCTAssertNotEqual(text, try String(contentsOfFile: path, encoding: .utf8), "\(file) names files under /etc/faultline/tls")
                path = made.directory + "/" + file
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            }
            let result = try DaemonProcess.checkConfig(path: path)
            XCTAssertEqual(result.status, 0, "\(file): \(result.stderr)")
            XCTAssertEqual(result.stdout, "\(path): ok\n")
            XCTAssertEqual(result.stderr, "")
        }
        XCTAssertNotNil(certificates, "there are TLS examples")
    }

    func testOneExamplePerFaultType() throws {
        for type in Self.faultTypes {
            let path = Self.examples.appendingPathComponent("\(type).json").path
            guard let data = FileManager.default.contents(atPath: path) else {
                XCTFail("missing \(path)")
                continue
            }
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            let faults = object?["faults"] as? [[String: Any]] ?? []
            XCTAssertFalse(faults.isEmpty, "\(type).json has no faults")
            for fault in faults {
                XCTAssertEqual(fault["type"] as? String, type, "\(type).json")
            }
        }
    }
}
