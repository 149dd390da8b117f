public import FaultlineCore

/// Writes a `FaultSpec` as the JSON object of SPEC §3, which `FaultDecoder` reads back to an equal
/// fault: for the control API's answers and the journal.
///
/// Keys come in a fixed order: `id`, `type`, `route`, `direction`, `probability`, then the type's
/// parameters. Every parameter is written, defaults included, except `after_bytes` when it is nil.
/// HTTP faults have no `direction`, and end with `match` and `attempts` (each only when given) and
/// `mark`. An abort's `grpc_status` and `grpc_message` are written only when it has a gRPC status;
/// `error_code` and `grpc_status` are written by name where the code has one, else as a number.
/// A route selector of one name is written as a string, of several as a list, `.all` as `"*"`.
/// Durations use `DurationParser.render`.
public enum FaultEncoder {
    /// The JSON object of `fault`.
    public static func encode(_ fault: FaultSpec) -> JSONValue {
        var object = JSONObject()
        object["id"] = .string(fault.id)
        object["type"] = .string(fault.kind.typeName)
        switch fault.routes {
        case .all: object["route"] = "*"
        case .names(let names) where names.count == 1: object["route"] = .string(names[0])
        case .names(let names): object["route"] = .array(names.map { .string($0) })
        }
        object["direction"] = .string(fault.direction.rawValue)
        object["probability"] = .double(fault.probability)
        switch fault.kind {
        case .latency(let delay, let jitter, let distribution):
            object["delay"] = duration(delay)
            object["jitter"] = duration(jitter)
            object["distribution"] = .string(distribution.rawValue)
        case .bandwidth(let bytesPerSecond):
            object["bytes_per_second"] = .integer(Int64(bytesPerSecond))
        case .slicer(let averageSize, let sizeVariation, let delay):
            object["average_size"] = .integer(Int64(averageSize))
            object["size_variation"] = .integer(Int64(sizeVariation))
            object["delay"] = duration(delay)
        case .blackhole, .stall:
            break
        case .reset(let after, let afterBytes):
            object["after"] = duration(after)
            if let afterBytes { object["after_bytes"] = .integer(Int64(afterBytes)) }
        case .timeout(let timeout):
            object["timeout"] = duration(timeout)
        case .limitData(let bytes):
            object["bytes"] = .integer(Int64(bytes))
        case .slowClose(let delay):
            object["delay"] = duration(delay)
        case .refuse(let existing):
            object["existing"] = .string(existing.rawValue)
        case .connectDelay(let delay):
            object["delay"] = duration(delay)
        case .corrupt(let bitFlipRate):
            object["bit_flip_rate"] = .double(bitFlipRate)
        case .partition(let partition):
            object["direction"] = nil
            object["probability"] = nil
            switch partition.rule {
            case .groups(let groups):
                object["groups"] = FaultEncoder.groups(groups)
            case .generator(let generator):
                object["kind"] = .string(generator.kindName)
                if case .isolate(let node) = generator { object["node"] = .string(node) }
            }
            object["mode"] = .string(partition.mode.rawValue)
            object["one_way"] = .bool(partition.oneWay)
        case .abort(let abort):
            object["status"] = .integer(Int64(abort.status))
            object["body"] = .string(abort.body)
            var headers = JSONObject()
            for header in abort.headers { headers[header.name] = .string(header.value) }
            object["headers"] = .object(headers)
            if let grpcStatus = abort.grpcStatus {
                object["grpc_status"] = code(Int64(grpcStatus), name: GRPCStatusCode.name(of: grpcStatus))
                object["grpc_message"] = .string(abort.grpcMessage)
            }
        case .delay(let delay, let jitter, let phase):
            object["delay"] = duration(delay)
            object["jitter"] = duration(jitter)
            object["phase"] = .string(phase.rawValue)
        case .dropResponse(let then):
            object["then"] = .string(then.rawValue)
        case .duplicate(let copies, let spacing):
            object["copies"] = .integer(Int64(copies))
            object["spacing"] = duration(spacing)
        case .rstStream(let errorCode):
            object["error_code"] = code(Int64(errorCode), name: HTTP2ErrorCode.name(of: errorCode))
        case .goaway(let errorCode, let graceful):
            object["error_code"] = code(Int64(errorCode), name: HTTP2ErrorCode.name(of: errorCode))
            object["graceful"] = .bool(graceful)
        case .windowStall:
            break
        }
        if fault.kind.isHTTP {
            object["direction"] = nil
            if let match = fault.http.match { object["match"] = encode(match) }
            if let attempts = fault.http.attempts {
                var item = JSONObject()
                item["key"] = .string(attempts.key.text)
                item["first"] = .integer(Int64(attempts.first))
                object["attempts"] = .object(item)
            }
            object["mark"] = .bool(fault.http.mark)
        }
        if let lifetime = fault.lifetime { object["for"] = duration(lifetime) }
        return .object(object)
    }

    /// A `match` object: only the fields it has.
    public static func encode(_ match: HTTPMatch) -> JSONValue {
        var object = JSONObject()
        if let methods = match.methods {
            object["method"] = methods.count == 1 ? .string(methods[0]) : .array(methods.map { .string($0) })
        }
        if let path = match.path { object["path"] = .string(path) }
        if let prefix = match.pathPrefix { object["path_prefix"] = .string(prefix) }
        if !match.headers.isEmpty {
            var headers = JSONObject()
            for header in match.headers { headers[header.name] = .string(header.value ?? "*") }
            object["headers"] = .object(headers)
        }
        return .object(object)
    }

    /// Groups as a JSON array of arrays of names.
    public static func groups(_ groups: [[String]]) -> JSONValue {
        .array(groups.map { .array($0.map { .string($0) }) })
    }

    /// A protocol code by its name where it has one (easier to read in the journal), else as the number.
    private static func code(_ value: Int64, name: String?) -> JSONValue {
        name.map { .string($0) } ?? .integer(value)
    }

    private static func duration(_ value: Duration) -> JSONValue {
        .string(DurationParser.render(value))
    }
}
