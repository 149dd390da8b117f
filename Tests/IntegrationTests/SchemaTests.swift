import FaultlineTestSupport
import Foundation
import XCTest

/// `Config/faultline.schema.json` (JSON Schema 2020-12) against the files in Config/ and against
/// `faultlined --check-config`, with the Python `jsonschema` package (Tests/SchemaCases/validate.py).
///
/// The config files carry no `"$schema"` key: the decoder rejects it as an unknown key
/// (`$["$schema"]: unknown key`, one of the invalid cases below), so editors are pointed at the
/// schema by their settings instead (docs/OBSERVABILITY.md).
final class SchemaTests: XCTestCase {
    private static let schema = repositoryRoot.appendingPathComponent("Config/faultline.schema.json").path
    private static let cases = repositoryRoot.appendingPathComponent("Tests/SchemaCases")

    private struct Verdict {
        var valid: Bool
        var errors: [String]
    }

    /// Runs validate.py on `files`; the verdict per file, in order.
    private func validate(_ files: [String]) throws -> [String: Verdict] {
        let script = Self.cases.appendingPathComponent("validate.py").path
        let run = try runTool([try projectPython(), script, Self.schema] + files, timeout: .seconds(120))
        XCTAssertEqual(run.status, 0, "validate.py:\n\(run.output)")
        var verdicts: [String: Verdict] = [:]
        for line in run.output.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let file = object["file"] as? String, let valid = object["valid"] as? Bool else {
                XCTFail("validate.py printed \(line)")
                continue
            }
            let errors = (object["errors"] as? [[String: Any]] ?? []).map { "\($0["path"] ?? "?"): \($0["message"] ?? "?")" }
            verdicts[file] = Verdict(valid: valid, errors: errors)
        }
        XCTAssertEqual(verdicts.count, files.count, "one verdict per file:\n\(run.output)")
        return verdicts
    }

    /// The cases of a `.jsonl` file (why, the error `--check-config` must print, the config),
    /// written by validate.py to files of their own in `directory` (Python writes each config
    /// exactly; Foundation would turn 2^64 into a double). Each is checked with `--check-config`:
    /// exit 2 and `expect` among the errors, so every case fails for the reason it names.
    private func writeAndCheck(_ name: String, in directory: String) throws -> [(why: String, path: String)] {
        let script = Self.cases.appendingPathComponent("validate.py").path
        let cases = Self.cases.appendingPathComponent(name).path
        let run = try runTool([try projectPython(), script, "--split", cases, directory], timeout: .seconds(60))
        XCTAssertEqual(run.status, 0, run.output)
        var written: [(why: String, path: String)] = []
        for line in run.output.split(separator: "\n") {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            let path = try XCTUnwrap(object["file"] as? String)
            let why = try XCTUnwrap(object["why"] as? String)
            let expect = try XCTUnwrap(object["expect"] as? String)
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "?"
            let result = try DaemonProcess.checkConfig(path: path)
            XCTAssertEqual(result.status, 2, "--check-config accepted \(why): \(text)")
            XCTAssertTrue(result.stderr.contains(expect), "\(why): expected \(expect), got \(result.stderr)")
            written.append((why, path))
        }
        return written
    }

    /// Every JSON file in Config/, Config/examples and Config/scenarios is valid (the scenarios'
    /// `${PORT}` placeholders read as 1), and the schema itself is a valid 2020-12 schema.
    func testEveryConfigFileConformsToTheSchema() throws {
        var files: [String] = []
        for folder in ["Config", "Config/examples", "Config/scenarios"] {
            let directory = repositoryRoot.appendingPathComponent(folder)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasSuffix(".json") && $0 != "faultline.schema.json" }.sorted()
            XCTAssertFalse(names.isEmpty, "no JSON files in \(folder)")
            files += names.map { directory.appendingPathComponent($0).path }
        }
        XCTAssertGreaterThanOrEqual(files.count, 29)
        for file in files {
            // Each names the schema for editors, relative to where it lives.
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any]
            let pointer = try XCTUnwrap(object?["$schema"] as? String, "\(file) has no $schema")
            let resolved = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(pointer).standardized.path
            XCTAssertEqual(resolved, repositoryRoot.appendingPathComponent("Config/faultline.schema.json").standardized.path, file)
        }
        let verdicts = try validate(files)
        for file in files {
            let verdict = try XCTUnwrap(verdicts[file], file)
            XCTAssertTrue(verdict.valid, "\(file) does not conform to the schema:\n" + verdict.errors.joined(separator: "\n"))
        }
    }

    /// Every case of Tests/SchemaCases/invalid-configs.jsonl is rejected by `--check-config` for
    /// the reason it names and by the schema; the config they start from passes both, so each
    /// case is rejected for its own change.
    func testInvalidConfigsAreRejectedByCheckConfigAndBySchema() throws {
        let directory = try makeScratchDirectory("fl-schema")
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let base = #"{"version":1,"routes":[{"name":"a","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","from":"n1","to":"n2"},{"name":"web","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","protocol":"http"}]}"#
        let basePath = directory + "/base.json"
        try base.write(toFile: basePath, atomically: true, encoding: .utf8)
        XCTAssertEqual(try DaemonProcess.checkConfig(path: basePath).status, 0)

        let cases = try writeAndCheck("invalid-configs.jsonl", in: directory)
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        let verdicts = try validate([basePath] + cases.map(\.path))
        XCTAssertEqual(verdicts[basePath]?.valid, true, "the base config: \(verdicts[basePath]?.errors ?? [])")
        for item in cases {
            let text = (try? String(contentsOfFile: item.path, encoding: .utf8)) ?? "?"
            XCTAssertEqual(verdicts[item.path]?.valid, false, "the schema accepts \(item.why): \(text)")
        }
    }

    /// Upstreams by host name (`redis:6379`, `localhost:…`, a name with `_`, one that will never
    /// resolve) next to IP literals: accepted by `--check-config` (resolution is not a config
    /// matter) and by the schema.
    func testHostNameUpstreamsAreAcceptedByCheckConfigAndBySchema() throws {
        let directory = try makeScratchDirectory("fl-schema-names")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let upstreams = ["redis:6379", "localhost:6379", "my_service-1.compose:80", "does-not-exist.invalid:80", "[::1]:5432", "10.0.0.5:80"]
        let routes = upstreams.enumerated().map { #"{"name":"r\#($0.offset)","listen":"127.0.0.1:0","upstream":"\#($0.element)"}"# }
        let path = directory + "/names.json"
        try (#"{"version":1,"routes":["# + routes.joined(separator: ",") + "]}").write(toFile: path, atomically: true, encoding: .utf8)
        let check = try DaemonProcess.checkConfig(path: path)
        XCTAssertEqual(check.status, 0, check.stderr)
        let verdict = try XCTUnwrap(try validate([path])[path])
        XCTAssertTrue(verdict.valid, verdict.errors.joined(separator: "\n"))
    }

    /// The rules a schema cannot express (Tests/SchemaCases/schema-cannot-express.jsonl:
    /// cross-references, uniqueness across entries, order, calendar dates, overflow, repeated
    /// keys): `--check-config` rejects each, the schema accepts it. A case the schema learns to
    /// reject fails here and moves to invalid-configs.jsonl.
    func testRulesTheSchemaCannotExpressAreLeftToCheckConfig() throws {
        let directory = try makeScratchDirectory("fl-schema-gap")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases = try writeAndCheck("schema-cannot-express.jsonl", in: directory)
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        let verdicts = try validate(cases.map(\.path))
        for item in cases {
            let path = item.path
            XCTAssertEqual(verdicts[path]?.valid, true, "the schema now rejects \(item.why); move it to invalid-configs.jsonl: \(verdicts[path]?.errors ?? [])")
        }
    }
}
