import FaultlineTestSupport
import Foundation
import XCTest

/// deploy/kubernetes/: the sidecar Deployment and the hub DaemonSet validate against current
/// Kubernetes schemas with kubernetes-validate (PyPI, its schemas bundled: no network), their
/// security settings are the ones docs/PACKAGING.md promises, and the faultlined configs in their
/// ConfigMaps pass `faultlined --check-config`.
final class KubernetesManifestTests: XCTestCase {
    private let manifests = ["sidecar.yaml", "daemonset.yaml"].map { Packaging.root + "/deploy/kubernetes/" + $0 }
    /// Kubernetes versions validated against: the oldest still supported upstream when this was
    /// written, and the newest the pinned kubernetes-validate bundles.
    private let kubernetesVersions = ["1.30.0", "1.34.0"]

    /// Scripts/test installs kubernetes-validate into the project's venv, .build/venv (ensure_pip;
    /// $FAULTLINE_VENV overrides).
    private func pyTools() throws -> String {
        var candidates: [String] = []
        if let tools = ProcessInfo.processInfo.environment["FAULTLINE_VENV"], !tools.isEmpty { candidates.append(tools) }
        candidates.append(Packaging.root + "/.build/venv")
        for tools in candidates where FileManager.default.isExecutableFile(atPath: tools + "/bin/kubernetes-validate") {
            return tools
        }
        throw DaemonError("kubernetes-validate not found in \(candidates) (Scripts/test installs it with ensure_pip)")
    }

    func testManifestsValidateAgainstKubernetesSchemas() throws {
        let validate = try pyTools() + "/bin/kubernetes-validate"
        for version in kubernetesVersions {
            let run = try Packaging.run([validate, "--strict", "--kubernetes-version", version] + manifests, timeout: .seconds(120))
            print("[kubernetes-validate \(version)]\n\(run.output)")
            XCTAssertEqual(run.status, 0, "\(run)")
            XCTAssertFalse(run.output.contains("ERROR"), "\(run)")
            // One line per resource; none may be skipped for want of a schema.
            XCTAssertFalse(run.output.lowercased().contains("skipping") || run.output.contains("WARN"), "\(run)")
            XCTAssertEqual(run.output.split(separator: "\n").filter { $0.hasPrefix("INFO ") && $0.contains(" passed for resource ") }.count, 8, "\(run)")
        }
        // Strict validation bites: a misspelt field in a copy is refused.
        let directory = try Packaging.makeDirectory(prefix: "faultline-k8s-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = try String(contentsOfFile: manifests[1], encoding: .utf8)
        try text.replacingOccurrences(of: "      hostNetwork: false\n", with: "      hostNetwork: false\n      hostNetwerk: true\n")
            .write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try Packaging.run([validate, "--strict", "--kubernetes-version", kubernetesVersions.last!, directory + "/bad.yaml"])
        XCTAssertNotEqual(bad.status, 0, "\(bad)")
        XCTAssertTrue(bad.output.contains("'hostNetwerk' was unexpected"), "\(bad)")
    }

    /// Every resource of a manifest file, through the venv's PyYAML (a kubernetes-validate dependency).
    private func resources(_ path: String) throws -> [[String: Any]] {
        let script = "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))"
        let run = try Packaging.run([try pyTools() + "/bin/python", "-c", script, path])
        XCTAssertEqual(run.status, 0, "\(run)")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [[String: Any]])
    }

    private func resource(_ all: [[String: Any]], kind: String) throws -> [String: Any] {
        try XCTUnwrap(all.first { $0["kind"] as? String == kind }, "no \(kind)")
    }

    private func podSpec(_ workload: [String: Any]) throws -> [String: Any] {
        let template = try XCTUnwrap((workload["spec"] as? [String: Any])?["template"] as? [String: Any])
        return try XCTUnwrap(template["spec"] as? [String: Any])
    }

    private func annotations(_ workload: [String: Any]) -> [String: String] {
        let template = (workload["spec"] as? [String: Any])?["template"] as? [String: Any]
        return ((template?["metadata"] as? [String: Any])?["annotations"] as? [String: String]) ?? [:]
    }

    private func container(_ spec: [String: Any], _ name: String) throws -> [String: Any] {
        let containers = try XCTUnwrap(spec["containers"] as? [[String: Any]])
        return try XCTUnwrap(containers.first { $0["name"] as? String == name }, "no container \(name)")
    }

    private func assertLockedDown(_ container: [String: Any], file: StaticString = #filePath, line: UInt = #line) {
        let security = container["securityContext"] as? [String: Any] ?? [:]
        XCTAssertEqual(security["readOnlyRootFilesystem"] as? Bool, true, file: file, line: line)
        XCTAssertEqual(security["allowPrivilegeEscalation"] as? Bool, false, file: file, line: line)
        XCTAssertEqual((security["capabilities"] as? [String: Any])?["drop"] as? [String], ["ALL"], file: file, line: line)
    }

    private func mountPaths(_ container: [String: Any]) -> [String: String] {
        var out: [String: String] = [:]
        for mount in container["volumeMounts"] as? [[String: Any]] ?? [] {
            if let name = mount["name"] as? String, let path = mount["mountPath"] as? String { out[path] = name }
        }
        return out
    }

    /// The config of a ConfigMap through `faultlined --check-config`.
    private func assertConfigMapConfigChecks(_ configMap: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
        let data = try XCTUnwrap(configMap["data"] as? [String: String])
        let config = try XCTUnwrap(data["faultline.json"], "ConfigMap has faultline.json")
        let (path, result) = try DaemonProcess.checkConfig(config)
        XCTAssertEqual(result.status, 0, "\(path): \(result.stderr)", file: file, line: line)
    }

    func testSidecarSharesTheControlSocketAndIsScraped() throws {
        let all = try resources(manifests[0])
        let deployment = try resource(all, kind: "Deployment")
        let spec = try podSpec(deployment)
        let app = try container(spec, "app"), faultline = try container(spec, "faultline")
        let run = try XCTUnwrap(mountPaths(faultline)["/run/faultline"], "socket directory mounted in faultlined")
        XCTAssertEqual(mountPaths(app)["/run/faultline"], run, "the app sees the same emptyDir")
        let volumes = try XCTUnwrap(spec["volumes"] as? [[String: Any]])
        XCTAssertNotNil(volumes.first { $0["name"] as? String == run }?["emptyDir"], "the shared volume is an emptyDir")
        let configVolume = try XCTUnwrap(mountPaths(faultline)["/etc/faultline"])
        XCTAssertNotNil(volumes.first { $0["name"] as? String == configVolume }?["configMap"], "config from a ConfigMap")
        XCTAssertEqual(annotations(deployment)["prometheus.io/scrape"], "true")
        XCTAssertEqual(annotations(deployment)["prometheus.io/port"], "9464")
        XCTAssertEqual((spec["securityContext"] as? [String: Any])?["runAsNonRoot"] as? Bool, true)
        assertLockedDown(faultline)
        assertLockedDown(app)
        let configMap = try resource(all, kind: "ConfigMap")
        try assertConfigMapConfigChecks(configMap)
        let config = try XCTUnwrap((configMap["data"] as? [String: String])?["faultline.json"])
        XCTAssertTrue(config.contains("\"unix_socket\": \"/run/faultline/control.sock\""), config)
        XCTAssertTrue(config.contains("\"metrics_listen\": \"0.0.0.0:9464\""), config)
    }

    func testDaemonSetIsNonRootWithoutHostNetwork() throws {
        let all = try resources(manifests[1])
        let daemonSet = try resource(all, kind: "DaemonSet")
        let spec = try podSpec(daemonSet)
        XCTAssertEqual(spec["hostNetwork"] as? Bool, false)
        let security = try XCTUnwrap(spec["securityContext"] as? [String: Any])
        XCTAssertEqual(security["runAsNonRoot"] as? Bool, true)
        XCTAssertNotEqual(security["runAsUser"] as? Int, 0)
        let faultline = try container(spec, "faultline")
        assertLockedDown(faultline)
        XCTAssertEqual(annotations(daemonSet)["prometheus.io/scrape"], "true")
        for port in faultline["ports"] as? [[String: Any]] ?? [] {
            XCTAssertGreaterThan(port["containerPort"] as? Int ?? 0, 1024, "no capability to bind below 1024")
        }
        let configMap = try resource(all, kind: "ConfigMap")
        let config = try XCTUnwrap((configMap["data"] as? [String: String])?["faultline.json"])
        // The token is a Secret mounted at run time; the check gets a stand-in file.
        let directory = try Packaging.makeDirectory(prefix: "faultline-k8s")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "test-token\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        var edited = configMap
        edited["data"] = ["faultline.json": config.replacingOccurrences(of: "/etc/faultline/token/token", with: directory + "/token")]
        try assertConfigMapConfigChecks(edited)
        XCTAssertTrue(config.contains("\"token_file\": \"/etc/faultline/token/token\""), "a non-loopback control listener needs a token")
        XCTAssertEqual(mountPaths(faultline)["/etc/faultline/token"], "token")
    }
}
