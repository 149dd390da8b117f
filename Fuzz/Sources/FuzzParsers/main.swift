@testable import FaultlineConfig
import FaultlineCore
import FuzzSupport

// Input: one selector byte, then the text (UTF-8, invalid sequences repaired as String does).
//   0 DurationParser   1 RFC 3339 (RFC3339.isValid and ReportJSON.parseTimestamp)
//   2 addresses (IPAddress, Endpoint, UpstreamAddress)   3 an Int64 instant (8 bytes) rendered and read back
// (The config has no size strings: sizes are JSON integers, checked by the `config` target.)
// Invariants:
//   - duration: a parsed value renders to a string that parses to the same value and renders the
//     same again; "" is `.empty`, a leading "-" is `.negative`;
//   - RFC 3339: the two readers agree (parseTimestamp only refuses what isValid refuses, or an
//     instant outside Int64 nanoseconds), and an accepted time read back from `timestamp` is the
//     same instant to the microsecond; T/Z case does not matter;
//   - addresses: whatever parses prints (description) to text that parses to the same value.

/// The instant floored to a whole microsecond; nil below the first one Int64 holds.
func floorToMicroseconds(_ instant: Int64) -> Int64? {
    let (floored, overflow) = instant.subtractingReportingOverflow(((instant % 1000) + 1000) % 1000)
    return overflow ? nil : floored
}

func checkDuration(_ text: String) {
    switch DurationParser.parse(text) {
    case .success(let duration):
        require(duration >= .zero, "\(text.debugDescription) parsed to a negative \(duration)")
        let rendered = DurationParser.render(duration)
        require(DurationParser.parse(rendered) == .success(duration), "\(text.debugDescription) → \(duration) → \(rendered.debugDescription) does not read back")
        require(DurationParser.render(duration) == rendered, "render is not stable")
    case .failure(let failure):
        if text.isEmpty { require(failure == .empty, "\"\" failed as \(failure)") }
        else if text.hasPrefix("-") { require(failure == .negative, "\(text.debugDescription) failed as \(failure)") }
        else { require(failure != .empty && failure != .negative, "\(text.debugDescription) failed as \(failure)") }
    }
}

func checkTimestamp(_ text: String) {
    let valid = RFC3339.isValid(text)
    let instant = ReportJSON.parseTimestamp(text)
    if let instant = instant {
        require(valid, "parseTimestamp reads \(text.debugDescription), isValid refuses it")
        let rendered = ReportJSON.timestamp(instant)
        require(RFC3339.isValid(rendered), "timestamp wrote \(rendered), which isValid refuses")
        let microseconds = floorToMicroseconds(instant)
        require(ReportJSON.parseTimestamp(rendered) == microseconds, "\(text.debugDescription) → \(instant) → \(rendered) reads back as \(String(describing: ReportJSON.parseTimestamp(rendered)))")
    } else if valid {
        // Only an instant outside Int64 nanoseconds (years 1677…2262) may be refused.
        let year = Int(text.prefix(4)) ?? 0
        require(year <= 1677 || year >= 2262, "isValid accepts \(text.debugDescription), parseTimestamp refuses it")
    }
    let flipped = String(text.map { c -> Character in
        switch c {
        case "T": return "t"
        case "t": return "T"
        case "Z": return "z"
        case "z": return "Z"
        default: return c
        }
    })
    require(RFC3339.isValid(flipped) == valid, "the case of T/Z changes isValid for \(text.debugDescription)")
}

func checkAddresses(_ text: String) {
    if let address = IPAddress(parsing: text) {
        require(IPAddress(parsing: address.description) == address, "\(text.debugDescription) → \(address) does not read back")
    }
    if let endpoint = Endpoint(parsing: text) {
        require(Endpoint(parsing: endpoint.description) == endpoint, "\(text.debugDescription) → \(endpoint) does not read back")
        // `localhost` is 127.0.0.1 to Endpoint (listen addresses) but a name to UpstreamAddress.
        if !text.hasPrefix("localhost:") {
            require(UpstreamAddress(parsing: text) == UpstreamAddress(endpoint), "UpstreamAddress reads \(text.debugDescription) differently from Endpoint")
        }
    }
    if let upstream = UpstreamAddress(parsing: text) {
        let printed = upstream.endpoint.map(\.description) ?? "\(upstream.hostText):\(upstream.port)"
        require(UpstreamAddress(parsing: printed) == upstream, "\(text.debugDescription) → \(printed) does not read back")
        if case .name(let name) = upstream.host {
            require(UpstreamAddress.isHostName(name) && IPAddress(parsing: name) == nil || name == "localhost",
                    "\(name.debugDescription) taken as a host name")
        }
    }
}

func checkInstant(_ raw: [UInt8]) {
    var value: UInt64 = 0
    for byte in raw.prefix(8) { value = value << 8 | UInt64(byte) }
    let instant = Int64(bitPattern: value)
    let rendered = ReportJSON.timestamp(instant)
    let microseconds = floorToMicroseconds(instant)
    let back = ReportJSON.parseTimestamp(rendered)
    // Rendering is defined for every instant; reading back only inside Int64 nanoseconds at µs.
    if back != nil || RFC3339.isValid(rendered) {
        require(back == nil || back == microseconds, "\(instant) → \(rendered) → \(String(describing: back))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParsers(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let raw = bytes(data + 1, size - 1)
    let text = String(decoding: raw, as: UTF8.self)
    switch data[0] % 4 {
    case 0: checkDuration(text)
    case 1: checkTimestamp(text)
    case 2: checkAddresses(text)
    default: checkInstant(raw)
    }
    return 0
}
