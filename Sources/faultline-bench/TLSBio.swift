// tls-bio: memory BIOs (FaultlineTLS's TLSSession, what the worker uses) against SSL_set_fd on the
// nonblocking socket, both driven from one thread; see TLSTransportBenchmark in FaultlineTLS.

import FaultlineTLS
import Glibc

enum TLSBio {
    static func run(_ arguments: inout Arguments) throws {
        let bytes = try arguments.int("bytes", default: 256 * 1024 * 1024)
        let handshakes = try arguments.int("handshakes", default: 2000)
        let runs = try arguments.int("runs", default: 3)
        let writeSize = try arguments.int("write-size", default: 64 * 1024)
        let transportName = try arguments.string("transport", default: "tcp")
        let only = try arguments.string("only", default: TLSTransportBenchmark.Variant.allCases.map(\.rawValue).joined(separator: ","))
        try arguments.finish()
        guard let transport = TLSTransportBenchmark.Transport(rawValue: transportName) else {
            throw BenchError("--transport \(transportName): expected tcp or unix")
        }
        var variants: [TLSTransportBenchmark.Variant] = []
        for name in only.split(separator: ",") {
            guard let variant = TLSTransportBenchmark.Variant(rawValue: String(name)) else {
                throw BenchError("--only: unknown variant \(name) (memory-bio, set-fd, set-fd+read-ahead)")
            }
            variants.append(variant)
        }
        guard runs > 0, !variants.isEmpty, writeSize > 0, bytes > 0 || handshakes > 0 else {
            throw BenchError("nothing to measure")
        }
        Posix.ignoreSigpipe()

        let certificate = try Certificate.make()
        defer { certificate.remove() }
        let server = try TLSContext.server(certificatePath: certificate.certificatePath, keyPath: certificate.keyPath, alpn: [])
        let client = try TLSContext.client(caPath: certificate.certificatePath, verify: true, alpn: [])

        // Each round measures every variant once, starting with a different one each round.
        var throughput: [TLSTransportBenchmark.Variant: [TLSTransportBenchmark.Throughput]] = [:]
        var handshakeRuns: [TLSTransportBenchmark.Variant: [TLSTransportBenchmark.Handshakes]] = [:]
        var cipher = "?"
        var version = "?"
        for round in 0..<runs {
            let order = (0..<variants.count).map { variants[($0 + round) % variants.count] }
            if bytes > 0 {
                for variant in order {
                    let result = try TLSTransportBenchmark.throughput(
                        variant, server: server, client: client, bytes: bytes, writeSize: writeSize, transport: transport)
                    throughput[variant, default: []].append(result)
                    (cipher, version) = (result.cipher, result.protocolVersion)
                    printError("round \(round + 1) \(variant.rawValue): \(format(result.mebibytesPerSecond, 1)) MiB/s, "
                               + "\(format(result.mebibytesPerCPUSecond, 1)) MiB per CPU-second")
                }
            }
            if handshakes > 0 {
                for variant in order {
                    let result = try TLSTransportBenchmark.handshakes(
                        variant, server: server, client: client, count: handshakes, transport: transport)
                    handshakeRuns[variant, default: []].append(result)
                    printError("round \(round + 1) \(variant.rawValue): \(format(result.perSecond, 0)) handshakes/s, "
                               + "\(format(result.perCPUSecond, 0)) per CPU-second")
                }
            }
        }

        let transferText = bytes > 0 ? "\(describe(bytes)) in \(describe(writeSize)) writes" : "no transfer"
        printLine("\(version) \(cipher), EC P-256 certificate (verified), \(transport == .tcp ? "loopback TCP" : "AF_UNIX"), "
                  + "one thread, \(transferText), \(handshakes) full handshakes per run; median of \(runs) alternating runs")
        printLine("")
        // Wall-clock rates, then the same per second of this thread's CPU (steadier when other
        // processes share the cores); "sys" is the kernel's share of that CPU during the transfers.
        var rows: [[String]] = [["variant", "MiB/s", "runs", "MiB/CPU-s", "runs", "sys", "handshakes/s", "runs", "hs/CPU-s", "runs"]]
        func cells(_ values: [Double], _ decimals: Int) -> [String] {
            values.isEmpty ? ["-", ""] : [format(median(values), decimals), values.map { format($0, 0) }.joined(separator: " ")]
        }
        for variant in variants {
            let transfers = throughput[variant] ?? []
            let handshakes = handshakeRuns[variant] ?? []
            let system = transfers.map(\.systemSeconds).reduce(0, +)
            let rusage = transfers.map { $0.systemSeconds + $0.userSeconds }.reduce(0, +)
            rows.append([variant.rawValue]
                + cells(transfers.map(\.mebibytesPerSecond), 1) + cells(transfers.map(\.mebibytesPerCPUSecond), 1)
                + [rusage > 0 ? format(100 * system / rusage, 0) + "%" : "-"]
                + cells(handshakes.map(\.perSecond), 0) + cells(handshakes.map(\.perCPUSecond), 0))
        }
        printTable(rows)
        if let base = variants.first, base == .memoryBIO, variants.count > 1 {
            printLine("")
            printLine("memory-bio relative to the others: median against median (wall-clock / per CPU-second), then the")
            printLine("per-CPU-second ratio within each round (variants run back to back, so drift hits them alike): median [range]")
            for other in variants.dropFirst() {
                var parts: [String] = []
                if let a = throughput[base], let b = throughput[other] {
                    parts.append("throughput " + signedPercent(median(a.map(\.mebibytesPerSecond)), median(b.map(\.mebibytesPerSecond)))
                                 + " / " + signedPercent(median(a.map(\.mebibytesPerCPUSecond)), median(b.map(\.mebibytesPerCPUSecond)))
                                 + ", per round " + pairedRatios(a.map(\.mebibytesPerCPUSecond), b.map(\.mebibytesPerCPUSecond)))
                }
                if let a = handshakeRuns[base], let b = handshakeRuns[other] {
                    parts.append("handshakes " + signedPercent(median(a.map(\.perSecond)), median(b.map(\.perSecond)))
                                 + " / " + signedPercent(median(a.map(\.perCPUSecond)), median(b.map(\.perCPUSecond)))
                                 + ", per round " + pairedRatios(a.map(\.perCPUSecond), b.map(\.perCPUSecond)))
                }
                printLine("  vs \(other.rawValue): " + parts.joined(separator: "; "))
            }
        }
    }

    /// Round i of `a` against round i of `b`: "+1.2% [-3.0% … +5.1%]".
    private static func pairedRatios(_ a: [Double], _ b: [Double]) -> String {
        let ratios = zip(a, b).map { $0 / $1 }
        guard let low = ratios.min(), let high = ratios.max() else { return "-" }
        return signedPercent(median(ratios), 1) + " [" + signedPercent(low, 1) + " … " + signedPercent(high, 1) + "]"
    }

    /// `(a - b) / b` as "+1.2%".
    private static func signedPercent(_ a: Double, _ b: Double) -> String {
        let value = 100 * (a - b) / b
        return (value >= 0 ? "+" : "") + format(value, 1) + "%"
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private static func format(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
        if decimals > 0 {
            let fraction = String(Int(scaled) - whole * Int(scale))
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return text
    }

    private static func describe(_ bytes: Int) -> String {
        if bytes % (1024 * 1024) == 0 { return "\(bytes / (1024 * 1024)) MiB" }
        if bytes % 1024 == 0 { return "\(bytes / 1024) KiB" }
        return "\(bytes) B"
    }

    /// Left-aligned first column, right-aligned numbers.
    private static func printTable(_ rows: [[String]]) {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        for row in rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                line += index == 0 ? cell + padding : "  " + padding + cell
            }
            printLine(line)
        }
    }
}

/// A self-signed EC P-256 certificate for "localhost", made with the openssl CLI in a new
/// temporary directory.
private struct Certificate {
    let directory: String
    var certificatePath: String { directory + "/cert.pem" }
    var keyPath: String { directory + "/key.pem" }

    static func make() throws -> Certificate {
        var template = Array("/tmp/faultline-tls-bio.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchError.errno("mkdtemp") }
        let certificate = Certificate(directory: String(cString: made))
        do {
            try spawn(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                       "-keyout", certificate.keyPath, "-out", certificate.certificatePath, "-days", "2",
                       "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"])
        } catch {
            certificate.remove()
            throw error
        }
        return certificate
    }

    func remove() {
        unlink(certificatePath)
        unlink(keyPath)
        rmdir(directory)
    }

    /// Runs a program found on PATH, its stdout and stderr discarded; throws unless it exits 0.
    private static func spawn(_ argv: [String]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw BenchError.errno("posix_spawnp(\(argv[0]))", spawned) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw BenchError.errno("waitpid") }
        }
        // WIFEXITED && WEXITSTATUS == 0
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw BenchError("\(argv.joined(separator: " ")) failed (wait status \(status))")
        }
    }
}
