import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import XCTest

/// The Debian package of Scripts/package (docs/PACKAGING.md): its contents and control data,
/// lintian without errors, and the unpacked binaries working (`dpkg-deb -x`, no install).
///
/// The .deb is `$FAULTLINE_DEB` (Scripts/test builds it and sets it), else the one in
/// .build-release/deb/ for the current version, else this test runs Scripts/package (a release
/// build: minutes the first time).
final class PackageTests: XCTestCase {
    private static let version: String = {
        let source = (try? String(contentsOfFile: Packaging.root + "/Sources/faultlined/Faultlined.swift", encoding: .utf8)) ?? ""
        let line = source.split(separator: "\n").first { $0.contains("static let current = ") } ?? ""
        return line.split(separator: "\"").dropFirst().first.map(String.init) ?? "?"
    }()

    nonisolated(unsafe) private static var cachedDeb: String?
    nonisolated(unsafe) private static var cachedRoot: String?

    /// The .deb's path (built once per test run if need be).
    private func deb() throws -> String {
        if let deb = Self.cachedDeb { return deb }
        var path = ProcessInfo.processInfo.environment["FAULTLINE_DEB"] ?? ""
        if path.isEmpty {
            let arch = try Packaging.run(["dpkg", "--print-architecture"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            path = Packaging.root + "/.build-release/deb/faultline_\(Self.version)_\(arch).deb"
            if !FileManager.default.fileExists(atPath: path) {
                // Its own man-page build directory: `swift test` holds .build.
                let build = try Packaging.run(
                    [Packaging.root + "/Scripts/package", "--manual-scratch", Packaging.root + "/.build-release/manual"],
                    directory: Packaging.root, timeout: .seconds(1500))
                XCTAssertEqual(build.status, 0, "\(build)")
                path = build.output.split(separator: "\n").last.map(String.init) ?? path
            }
        }
        guard FileManager.default.fileExists(atPath: path) else { throw DaemonError("no .deb at \(path)") }
        Self.cachedDeb = path
        return path
    }

    /// The .deb unpacked with `dpkg-deb -x` into a directory kept for the whole test class.
    private func unpacked() throws -> String {
        if let root = Self.cachedRoot { return root }
        let root = try Packaging.makeDirectory(prefix: "faultline-deb-x")
        let extract = try Packaging.run(["dpkg-deb", "-x", try deb(), root])
        XCTAssertEqual(extract.status, 0, "\(extract)")
        Self.cachedRoot = root
        return root
    }

    override class func tearDown() {
        if let root = cachedRoot { try? FileManager.default.removeItem(atPath: root) }
        cachedRoot = nil
        super.tearDown()
    }

    func testFileNameControlAndContents() throws {
        let deb = try deb()
        XCTAssertTrue(URL(fileURLWithPath: deb).lastPathComponent.hasPrefix("faultline_\(Self.version)_"), deb)
        let info = try Packaging.run(["dpkg-deb", "--info", deb])
        XCTAssertEqual(info.status, 0, "\(info)")
        for field in ["Package: faultline", "Version: \(Self.version)", "Depends: ", "libssl3", "Architecture: "] {
            XCTAssertTrue(info.output.contains(field), "control lacks \(field):\n\(info.output)")
        }
        XCTAssertFalse(info.output.lowercased().contains("swift"), "no dependency on a Swift toolchain:\n\(info.output)")
        let conffiles = try Packaging.run(["dpkg-deb", "--field", deb, "Package"])
        XCTAssertEqual(conffiles.output.trimmingCharacters(in: .whitespacesAndNewlines), "faultline")
        let control = try Packaging.makeDirectory(prefix: "faultline-deb-e")
        defer { try? FileManager.default.removeItem(atPath: control) }
        XCTAssertEqual(try Packaging.run(["dpkg-deb", "-e", deb, control]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: control + "/conffiles", encoding: .utf8), "/etc/faultline/faultline.json\n")
        let postinst = try String(contentsOfFile: control + "/postinst", encoding: .utf8)
        XCTAssertTrue(postinst.contains("systemd-sysusers faultline.conf"), postinst)
        XCTAssertTrue(postinst.contains("daemon-reload"), postinst)

        let listing = try Packaging.run(["dpkg-deb", "--contents", deb])
        for path in [
            "./usr/bin/faultlined", "./usr/bin/faultctl", "./lib/systemd/system/faultlined.service",
            "./etc/faultline/faultline.json", "./usr/lib/sysusers.d/faultline.conf",
            "./usr/share/bash-completion/completions/faultctl", "./usr/share/zsh/vendor-completions/_faultctl",
            "./usr/share/fish/vendor_completions.d/faultctl.fish", "./usr/share/man/man1/faultctl.1.gz",
            "./usr/share/man/man1/faultlined.1.gz", "./usr/share/doc/faultline/copyright",
            "./usr/share/doc/faultline/changelog.gz",
        ] {
            XCTAssertTrue(listing.output.split(separator: "\n").contains { $0.hasSuffix(" " + path) }, "\(path) missing:\n\(listing.output)")
        }
        XCTAssertFalse(listing.output.contains("/opt/swift"), "nothing of the toolchain")
        XCTAssertTrue(listing.output.split(separator: "\n").allSatisfy { $0.contains("root/root") }, "owned by root:\n\(listing.output)")
    }

    func testLintianReportsNoErrors() throws {
        guard let lintian = Packaging.which("lintian") else {
            XCTFail("lintian is missing: Scripts/test installs it")
            return
        }
        let run = try Packaging.run([lintian, "--tag-display-limit", "0", try deb()], timeout: .seconds(600))
        print("[lintian]\n\(run.output)")
        let errors = run.output.split(separator: "\n").filter { $0.hasPrefix("E:") }
        XCTAssertEqual(errors, [], "\(run)")
        // 0: clean; 2: only warnings or lower (exit 1 means errors, or lintian itself failed).
        XCTAssertNotEqual(run.status, 1, "\(run)")
    }

    /// The unpacked faultlined checks the packaged config and serves a test config (control socket
    /// in a temporary directory); the unpacked faultctl talks to it. They run without the Swift
    /// toolchain's libraries.
    func testUnpackedBinariesRunAgainstAConfig() throws {
        let root = try unpacked()
        let faultlined = root + "/usr/bin/faultlined", faultctl = root + "/usr/bin/faultctl"

        let ldd = try Packaging.run(["ldd", faultlined])
        XCTAssertFalse(ldd.output.contains("swift"), "the Swift runtime is linked in statically:\n\(ldd.output)")
        let version = try Packaging.run([faultlined, "--version"])
        XCTAssertEqual(version.output.trimmingCharacters(in: .whitespacesAndNewlines), Self.version)

        let check = try Packaging.run([faultlined, "--check-config", root + "/etc/faultline/faultline.json"])
        XCTAssertEqual(check.status, 0, "the packaged config is valid: \(check)")
        let packaged = try String(contentsOfFile: root + "/etc/faultline/faultline.json", encoding: .utf8)
        XCTAssertTrue(packaged.contains("/run/faultline/control.sock"), "control socket under RuntimeDirectory")
        XCTAssertTrue(packaged.contains("/var/lib/faultline/"), "journal under StateDirectory")

        let directory = try Packaging.makeDirectory(prefix: "faultline-deb-run")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let echo = try EchoServer()
        let socket = directory + "/control.sock"
        let config = directory + "/faultline.json"
        try """
        {"version": 1, "seed": 9, "workers": 1, "journal": "\(directory)/journal.jsonl",
         "control": {"unix_socket": "\(socket)"}, "limits": {"shutdown_grace": "1s"},
         "routes": [{"name": "pkg", "listen": "127.0.0.1:0", "upstream": "\(echo.endpoint)"}]}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try LaunchedDaemon([faultlined, "--config", config, "--log-format", "json"], logPath: directory + "/daemon.log")

        let status = try Packaging.run([faultctl, "--socket", socket, "status"])
        XCTAssertEqual(status.status, 0, "\(status)\nlog:\n\(daemon.logText)")
        XCTAssertTrue(status.output.contains(Self.version) && status.output.contains("pkg"), "\(status)")
        let apply = try Packaging.run([faultctl, "--socket", socket, "apply", "latency", "--route", "pkg", "--delay", "5ms", "--id", "pkg-slow"])
        XCTAssertEqual(apply.status, 0, "\(apply)")
        let faults = try Packaging.run([faultctl, "--socket", socket, "faults"])
        XCTAssertTrue(faults.output.contains("pkg-slow"), "\(faults)")
        XCTAssertEqual(daemon.terminate(), 0, daemon.logText)
    }

    /// The man pages render, the bash completion loads, the sysusers entry makes the user, and the
    /// packaged unit verifies with the packaged man pages (`Documentation=man:…`).
    func testPackagedUnitManPagesAndCompletions() throws {
        let root = try unpacked()
        for page in ["faultlined", "faultctl"] {
            let man = try Packaging.run(["man", "--warnings", "-l", "-Tutf8", root + "/usr/share/man/man1/\(page).1.gz"],
                                        environment: ["MANPAGER": "cat", "PAGER": "cat"])
            XCTAssertEqual(man.status, 0, "\(man)")
            // The header line is plain text (the rest is overstruck for bold).
            XCTAssertTrue(man.output.contains("\(page.uppercased())(1)"), "\(page)(1) renders: \(man.output.prefix(300))")
            // `man --warnings` prints groff's warnings (a blank line in mdoc is one): none.
            XCTAssertFalse(man.output.contains("warning:"), "\(page)(1) renders without warnings: \(man.output.prefix(600))")
        }
        let bash = try Packaging.run(["bash", "-c", "source \(root)/usr/share/bash-completion/completions/faultctl && complete -p faultctl"])
        XCTAssertEqual(bash.status, 0, "\(bash)")
        XCTAssertTrue(bash.output.contains("faultctl"), "\(bash)")

        // The sysusers entry creates the unit's user and group (into an empty root, not this machine's).
        if let sysusers = Packaging.which("systemd-sysusers") {
            let users = try Packaging.makeDirectory(prefix: "faultline-sysusers")
            defer { try? FileManager.default.removeItem(atPath: users) }
            try FileManager.default.createDirectory(atPath: users + "/etc", withIntermediateDirectories: false)
            let create = try Packaging.run([sysusers, "--root=\(users)", root + "/usr/lib/sysusers.d/faultline.conf"])
            XCTAssertEqual(create.status, 0, "\(create)")
            let passwd = try String(contentsOfFile: users + "/etc/passwd", encoding: .utf8)
            XCTAssertTrue(passwd.contains("faultline:x:") && passwd.contains(":/var/lib/faultline:"), passwd)
            XCTAssertTrue(try String(contentsOfFile: users + "/etc/group", encoding: .utf8).hasPrefix("faultline:x:"))
        }

        guard let analyze = Packaging.which("systemd-analyze") else {
            throw XCTSkip("systemd-analyze is not installed (Debian package systemd): packaged unit not verified")
        }
        let unitText = try String(contentsOfFile: root + "/lib/systemd/system/faultlined.service", encoding: .utf8)
        let unit = root + "/faultlined.service"
        try unitText.replacingOccurrences(of: "/usr/bin/faultlined", with: root + "/usr/bin/faultlined")
            .write(toFile: unit, atomically: true, encoding: .utf8)
        let verify = try Packaging.run([analyze, "verify", unit], environment: ["MANPATH": root + "/usr/share/man"])
        XCTAssertEqual(verify.status, 0, "\(verify)")
        XCTAssertEqual(verify.output.trimmingCharacters(in: .whitespacesAndNewlines), "", "\(verify)")
    }
}
