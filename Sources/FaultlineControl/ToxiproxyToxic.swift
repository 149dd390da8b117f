import FaultlineConfig
import FaultlineCore

/// The Toxiproxy 2.12 toxic types Faultline serves, with their attributes (all integers, as in
/// Toxiproxy's `toxics/*.go`).
enum ToxiproxyToxicType: String, Sendable, Hashable, CaseIterable {
    case latency
    case bandwidth
    case slowClose = "slow_close"
    case timeout
    case resetPeer = "reset_peer"
    case slicer
    case limitData = "limit_data"

    /// Attribute names in the order Toxiproxy declares them; `ToxiproxyToxic.attributes` follows it.
    var attributeNames: [String] {
        switch self {
        case .latency: return ["latency", "jitter"]
        case .bandwidth: return ["rate"]
        case .slowClose: return ["delay"]
        case .timeout, .resetPeer: return ["timeout"]
        case .slicer: return ["average_size", "size_variation", "delay"]
        case .limitData: return ["bytes"]
        }
    }
}

/// One Toxiproxy toxic on one proxy, and its mapping to and from a Faultline fault (pure).
///
/// | Toxiproxy | Faultline |
/// |---|---|
/// | `latency` (`latency`, `jitter` ms) | `latency` (`delay`, `jitter`, uniform) |
/// | `bandwidth` (`rate` KB/s) | `bandwidth` (`bytes_per_second` = rate × 1000); rate 0 → `stall` |
/// | `slow_close` (`delay` ms) | `slow_close` (`delay`) |
/// | `timeout` (`timeout` ms) | `timeout` (`timeout`; 0 = never) |
/// | `reset_peer` (`timeout` ms) | `reset` (`after`) |
/// | `slicer` (`average_size`, `size_variation`, `delay` µs) | `slicer` |
/// | `limit_data` (`bytes`) | `limit_data` (`bytes`) |
///
/// `stream` is the direction (Toxiproxy's upstream is client → server, as Faultline's), `toxicity`
/// the probability, and the fault id is `toxiproxy.<proxy>.<toxic>` on route `<proxy>`.
struct ToxiproxyToxic: Sendable, Hashable {
    var name: String
    var type: ToxiproxyToxicType
    var stream: Flow
    /// Toxiproxy's `toxicity`: the chance, per connection and direction, that the toxic acts.
    var toxicity: Double
    /// Values of `type.attributeNames`, in that order.
    var attributes: [Int64]

    init(name: String, type: ToxiproxyToxicType, stream: Flow, toxicity: Double, attributes: [Int64]) {
        self.name = name
        self.type = type
        self.stream = stream
        self.toxicity = toxicity
        self.attributes = attributes
    }

    /// The id prefix every toxic of `proxy` has.
    static func idPrefix(proxy: String) -> String { "toxiproxy.\(proxy)." }

    /// The fault id of toxic `name` on `proxy`.
    static func faultID(proxy: String, toxic name: String) -> String { idPrefix(proxy: proxy) + name }

    /// Toxiproxy's JSON shape: `{"name", "type", "stream", "toxicity", "attributes"}`.
    var json: JSONValue {
        var attributeObject = JSONObject()
        for (key, value) in zip(type.attributeNames, attributes) { attributeObject[key] = .integer(value) }
        return [
            "name": .string(name), "type": .string(type.rawValue), "stream": .string(stream.label),
            "toxicity": .double(toxicity), "attributes": .object(attributeObject),
        ]
    }

    /// Reads attribute values of `type` from `object`, starting from `base` (a new toxic starts
    /// from zeros, as in Toxiproxy; an update merges into the toxic's values).
    /// - Returns: the values, or a 400 naming the offending attribute. Unknown attributes are
    ///   refused: Toxiproxy ignores them, so a typo (`"latancy"`) silently meant no latency.
    static func attributes(
        of type: ToxiproxyToxicType, from object: JSONObject, base: [Int64]? = nil
    ) -> Result<[Int64], ToxiproxyError> {
        var values = base ?? Array(repeating: 0, count: type.attributeNames.count)
        for member in object.members {
            guard let index = type.attributeNames.firstIndex(of: member.key) else {
                let known = type.attributeNames.joined(separator: ", ")
                return .failure(.badBody("unknown attribute \"\(member.key)\" for toxic type \(type.rawValue) (expected \(known))"))
            }
            guard case .integer(let value) = member.value else {
                return .failure(.badBody("attributes.\(member.key): expected an integer, got \(member.value.kindName)"))
            }
            guard value >= 0 else {
                return .failure(.badBody("attributes.\(member.key): must not be negative, got \(value)"))
            }
            values[index] = value
        }
        return .success(values)
    }

    /// The Faultline fault this toxic is on `proxy`, or a 400 when its values are out of range.
    func fault(proxy: String) -> Result<FaultSpec, ToxiproxyError> {
        guard name.utf8.count <= NameRule.maxBytes else { return .failure(.badBody("name: \(NameRule.problem(name) ?? "too long")")) }
        guard Self.isValidName(name) else {
            return .failure(.badBody("toxic name \"\(name)\" may only use letters, digits, '.', '_' and '-'"))
        }
        let id = Self.faultID(proxy: proxy, toxic: name)
        guard id.utf8.count <= NameRule.maxBytes else {
            let room = NameRule.maxBytes - Self.idPrefix(proxy: proxy).utf8.count
            return .failure(.badBody(
                "name: a toxic's fault id toxiproxy.<proxy>.<toxic> is at most \(NameRule.maxBytes) bytes, so a toxic of proxy \"\(proxy)\" has a name of at most \(max(0, room)) bytes, got \(name.utf8.count)"))
        }
        guard (0...1).contains(toxicity) else {
            return .failure(.badBody("toxicity must be between 0 and 1, got \(toxicity)"))
        }
        let kind: FaultKind
        switch type {
        case .latency:
            kind = .latency(delay: .milliseconds(attributes[0]), jitter: .milliseconds(attributes[1]), distribution: .uniform)
        case .bandwidth:
            let rate = attributes[0]
            let (bytesPerSecond, overflow) = rate.multipliedReportingOverflow(by: 1000)
            guard !overflow else { return .failure(.badBody("attributes.rate: \(rate) KB/s is too large")) }
            // Toxiproxy's bandwidth toxic with rate 0 passes nothing and reads nothing more: a stall.
            kind = rate == 0 ? .stall : .bandwidth(bytesPerSecond: Int(bytesPerSecond))
        case .slowClose:
            kind = .slowClose(delay: .milliseconds(attributes[0]))
        case .timeout:
            kind = .timeout(.milliseconds(attributes[0]))
        case .resetPeer:
            kind = .reset(after: .milliseconds(attributes[0]), afterBytes: nil)
        case .slicer:
            // Toxiproxy accepts average_size 0 (every attribute absent), then panics on the first
            // data; here a slice of "0 bytes" is the smallest there is, 1 byte.
            let (averageSize, sizeVariation) = (max(1, attributes[0]), attributes[1])
            guard sizeVariation < averageSize else {
                return .failure(.badBody("attributes.size_variation: must be less than average_size (\(averageSize)), got \(sizeVariation)"))
            }
            kind = .slicer(averageSize: Int(averageSize), sizeVariation: Int(sizeVariation), delay: .microseconds(attributes[2]))
        case .limitData:
            kind = .limitData(bytes: Int(attributes[0]))
        }
        let direction: Direction = stream == .upstream ? .upstream : .downstream
        return .success(FaultSpec(
            id: Self.faultID(proxy: proxy, toxic: name), routes: .names([proxy]), direction: direction,
            probability: toxicity, kind: kind
        ))
    }

    /// The toxic `fault` is on `proxy`: nil unless the fault is one this mapping makes (id
    /// `toxiproxy.<proxy>.<name>`, route exactly `proxy`, one direction, a mapped kind).
    init?(fault: FaultSpec, proxy: String) {
        let prefix = Self.idPrefix(proxy: proxy)
        guard fault.id.hasPrefix(prefix), fault.id.count > prefix.count, fault.routes == .names([proxy]) else { return nil }
        let stream: Flow
        switch fault.direction {
        case .upstream: stream = .upstream
        case .downstream: stream = .downstream
        case .both: return nil
        }
        func milliseconds(_ duration: Duration) -> Int64 { duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000 }
        func microseconds(_ duration: Duration) -> Int64 { duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000 }
        let type: ToxiproxyToxicType
        let attributes: [Int64]
        switch fault.kind {
        case .latency(let delay, let jitter, .uniform):
            (type, attributes) = (.latency, [milliseconds(delay), milliseconds(jitter)])
        case .bandwidth(let bytesPerSecond):
            (type, attributes) = (.bandwidth, [Int64(bytesPerSecond / 1000)])
        case .stall:
            (type, attributes) = (.bandwidth, [0])
        case .slowClose(let delay):
            (type, attributes) = (.slowClose, [milliseconds(delay)])
        case .timeout(let timeout):
            (type, attributes) = (.timeout, [milliseconds(timeout)])
        case .reset(let after, nil):
            (type, attributes) = (.resetPeer, [milliseconds(after)])
        case .slicer(let averageSize, let sizeVariation, let delay):
            (type, attributes) = (.slicer, [Int64(averageSize), Int64(sizeVariation), microseconds(delay)])
        case .limitData(let bytes):
            (type, attributes) = (.limitData, [Int64(bytes)])
        default:
            return nil
        }
        self.init(
            name: String(fault.id.dropFirst(prefix.count)), type: type, stream: stream, toxicity: fault.probability,
            attributes: attributes
        )
    }

    /// Faultline's name rule (`[A-Za-z0-9._-]+`): a toxic name becomes part of a fault id.
    static func isValidName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }
}
