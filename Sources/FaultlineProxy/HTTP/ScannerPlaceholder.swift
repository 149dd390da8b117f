// TEMPORARY: stands in for FaultlineHTTP1.HTTP1MessageScanner until it lands (shadows it).
import FaultlineHTTP1

struct HTTP1MessageScanner {
    enum Role { case request, response }
    enum Event: Equatable {
        case requestHead(HTTPRequestHead, length: Int)
        case responseHead(HTTPResponseHead, length: Int)
        case body(length: Int)
        case end(length: Int)
        case needMore
    }
    init(role: Role, limits: HTTPParserLimits = .defaults) {}
    mutating func next(_ bytes: Span<UInt8>, atEnd: Bool) throws(HTTPParseError) -> Event { fatalError() }
    mutating func expectResponse(toMethod method: String) {}
}
