import FaultlineConfig
import FaultlineCore
import FuzzSupport

// Input: a config file's bytes. Invariants:
//   - JSON: a document JSONParser accepts renders (JSONWriter) to text that parses to the same value;
//   - the decoder reads that rendering exactly as it read the original (when the original has no
//     repeated keys, which the rendering cannot keep);
//   - a failure has at least one error, every error has a non-empty message and a well-formed JSON
//     path; a syntax error is the only error, at `$`; any other path names a value in the document
//     or a missing key of an object in it;
//   - every decoded fault (`faults[]` and schedule steps) re-encodes with FaultEncoder and decodes
//     with FaultDecoder to the same FaultSpec.

/// One step of a JSON path.
enum PathStep: Equatable {
    case key(String)
    case index(Int)
}

/// Splits a path as JSONPath writes it (`routes[0].listen`, `$["a b"].x`, `nodes.n1`); nil when it
/// is not one.
func steps(of path: String) -> [PathStep]? {
    let b = Array(path.utf8)
    var i = 0
    var out: [PathStep] = []
    func isSimple(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
    }
    func bareKey() -> String? {
        let start = i
        while i < b.count, isSimple(b[i]) { i += 1 }
        return i > start ? String(decoding: b[start..<i], as: UTF8.self) : nil
    }
    if b.first == UInt8(ascii: "$") {
        i = 1
        if i == b.count { return [] }
        guard b[i] == UInt8(ascii: "[") else { return nil }
    } else {
        guard let key = bareKey() else { return nil }
        out.append(.key(key))
    }
    while i < b.count {
        if b[i] == UInt8(ascii: ".") {
            i += 1
            guard let key = bareKey() else { return nil }
            out.append(.key(key))
        } else if b[i] == UInt8(ascii: "[") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "\"") {
                let start = i
                i += 1
                while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard i < b.count else { return nil }
                i += 1
                guard case .success(.string(let key)) = JSONParser.parse(bytes: Array(b[start..<i])) else { return nil }
                out.append(.key(key))
            } else {
                let start = i
                while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
                guard i > start, let index = Int(String(decoding: b[start..<i], as: UTF8.self)) else { return nil }
                out.append(.index(index))
            }
            guard i < b.count, b[i] == UInt8(ascii: "]") else { return nil }
            i += 1
        } else {
            return nil
        }
    }
    return out
}

/// Whether `path` leads to a value of `document`, or to a missing key of an object in it.
func resolves(_ path: [PathStep], in document: JSONValue) -> Bool {
    var value = document
    for (n, step) in path.enumerated() {
        switch (step, value) {
        case (.key(let key), .object(let object)):
            guard let next = object[key] else { return n == path.count - 1 }
            value = next
        case (.index(let index), .array(let items)):
            guard index < items.count else { return false }
            value = items[index]
        default:
            return false
        }
    }
    return true
}

func roundTrip(_ fault: FaultSpec, routes: Set<String>, where place: String) {
    let text = JSONWriter.render(FaultEncoder.encode(fault))
    guard case .success(let parsed) = JSONParser.parse(text) else {
        require(false, "\(place): FaultEncoder wrote invalid JSON \(text)")
        return
    }
    switch FaultDecoder.decodeFault(parsed, path: "", knownRoutes: routes) {
    case .success(let again):
        require(again == fault, "\(place): \(text) decodes to \(again), not \(fault)")
    case .failure(let errors):
        require(false, "\(place): \(text) does not decode: \(errors)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    let result = ConfigDecoder.decode(bytes: input)
    let strict = JSONParser.parse(bytes: input)

    if case .success(let document) = strict {
        let rendered = JSONWriter.render(document)
        guard case .success(let reparsed) = JSONParser.parse(rendered) else {
            require(false, "JSONWriter output does not parse: \(rendered)")
            return 0
        }
        require(reparsed == document, "JSON round trip changed \(document) to \(reparsed)")
        require(ConfigDecoder.decode(bytes: Array(rendered.utf8)) == result, "the decoder reads the rendered document differently")
    }

    switch result {
    case .failure(let failure):
        require(!failure.errors.isEmpty, "a failure without errors")
        let syntax = failure.errors.filter { $0.message.hasPrefix("invalid JSON at line ") }
        if !syntax.isEmpty {
            require(failure.errors.count == 1 && syntax[0].path == "$", "a syntax error among others: \(failure.lines)")
            if case .success = strict { require(false, "syntax error on a document JSONParser accepts: \(failure.lines)") }
            break
        }
        // Repeated keys aside, the strict parse is the decoder's document.
        let document: JSONValue
        switch strict {
        case .success(let value):
            document = value
        case .failure:
            // Only repeated keys make the strict parser refuse what the decoder reads.
            require(failure.errors.contains { $0.message.hasPrefix("duplicate key ") }, "strict parse failed without a duplicate: \(failure.lines)")
            return 0
        }
        for error in failure.errors {
            require(!error.message.isEmpty, "empty message at \(error.path)")
            guard let path = steps(of: error.path) else {
                require(false, "malformed path \(error.path) (\(error.message))")
                continue
            }
            if path.isEmpty { continue }
            require(resolves(path, in: document), "path \(error.path) is not in the document (\(error.message))")
        }
    case .success(let config):
        let routes = Set(config.routes.map(\.name))
        for (index, fault) in config.faults.enumerated() {
            roundTrip(fault, routes: routes, where: "faults[\(index)]")
        }
        for (index, step) in (config.schedule?.steps ?? []).enumerated() {
            if case .apply(let fault) = step.action {
                roundTrip(fault, routes: routes, where: "schedule.steps[\(index)].apply")
            }
        }
    }
    return 0
}
