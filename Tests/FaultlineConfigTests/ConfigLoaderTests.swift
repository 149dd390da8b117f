import FaultlineConfig
import Glibc
import Testing

@Suite struct ConfigLoaderTests {
    private func writeTemporaryFile(_ contents: String, name: String) throws -> String {
        let path = "/tmp/faultline-config-test-\(getpid())-\(name).json"
        let file = try #require(fopen(path, "w"))
        fputs(contents, file)
        fclose(file)
        return path
    }

    @Test func loadsAFile() throws {
        let path = try writeTemporaryFile(config(#""seed": 7"#), name: "good")
        defer { unlink(path) }
        let loaded = try ConfigLoader.load(path: path).get()
        #expect(loaded.seed == 7)
    }

    @Test func reportsDecodeErrorsFromAFile() throws {
        let path = try writeTemporaryFile("{\n  \"version\": 1,\n  \"workers\": \"4\"\n}\n", name: "bad")
        defer { unlink(path) }
        guard case .failure(let errors) = ConfigLoader.load(path: path) else {
            Issue.record("loaded")
            return
        }
        #expect(errors.lines == ["workers: expected an integer, got string"])
    }

    @Test func missingFileAndDirectory() {
        let missing = "/tmp/faultline-config-test-\(getpid())-does-not-exist.json"
        guard case .failure(let errors) = ConfigLoader.load(path: missing) else {
            Issue.record("loaded")
            return
        }
        #expect(errors.lines == ["$: cannot read \(missing): No such file or directory"])
        guard case .failure(let directoryErrors) = ConfigLoader.load(path: "/tmp") else {
            Issue.record("loaded a directory")
            return
        }
        #expect(directoryErrors.lines == ["$: cannot read /tmp: Is a directory"])
    }

    @Test func largeFileIsReadWhole() throws {
        // Longer than one 64 KiB read, so the loop must append chunks in order.
        let padding = String(repeating: " ", count: 200_000)
        let path = try writeTemporaryFile(#"{"version": 1,"# + padding + #""seed": 99}"#, name: "large")
        defer { unlink(path) }
        #expect(try ConfigLoader.load(path: path).get().seed == 99)
    }
}

@Suite struct ExampleConfigTests {
    @Test func shippedFullExampleLoads() throws {
        // Tests/FaultlineConfigTests/<this file> → repository root.
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let path = parts.joined(separator: "/") + "/Config/examples/full.json"
        let config = try ConfigLoader.load(path: path).get()
        #expect(config.routes.map(\.name) == ["n1-n2", "orders-db", "api"])
        #expect(config.faults.map(\.id) == ["slow-db", "thin-pipe", "slicer-2", "flaky"])
        #expect(config.nodes["n2"]?.count == 2)
        #expect(config.schedule?.steps.count == 3)
        #expect(config.schedule?.repeat == .init(every: .seconds(90), times: 3))
    }
}
