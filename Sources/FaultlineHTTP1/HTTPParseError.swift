/// Why a byte stream is not a valid HTTP/1.x message. Once a parser reports one it stays failed:
/// the connection's framing can no longer be trusted.
public enum HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A line ended in LF without CR (this parser requires CRLF everywhere).
    case bareLineFeed
    /// A CR not followed by LF.
    case bareCarriageReturn
    /// The request line is not `method SP target SP version`.
    case invalidRequestLine
    /// The status line is not `version SP 3DIGIT [SP reason]`.
    case invalidStatusLine
    /// The method is empty or has a non-token character.
    case invalidMethod
    /// The request-target is empty or has a byte outside visible ASCII.
    case invalidTarget
    /// The version is not `HTTP/DIGIT.DIGIT`.
    case invalidVersion
    /// A well-formed version other than HTTP/1.0 or HTTP/1.1.
    case unsupportedVersion(HTTPVersion)
    /// The status code is not three digits in 100…599.
    case invalidStatus
    /// The reason phrase has a control character.
    case invalidReasonPhrase
    /// A field name is empty or has a non-token character.
    case invalidHeaderName
    /// Whitespace between a field name and its colon.
    case whitespaceBeforeColon
    /// A header line without a colon.
    case missingColon
    /// A field value has a control character (NUL, CR, LF, …) or is not UTF-8.
    case invalidHeaderValue(name: String)
    /// A line starting with SP or HTAB (obsolete line folding, RFC 9112 §5.2).
    case obsoleteLineFolding
    /// More header fields than the limit.
    case tooManyHeaders(limit: Int)
    /// The head (start line and fields) is longer than the limit, in bytes.
    case headTooLarge(limit: Int)
    /// The body is longer than the limit, in bytes.
    case bodyTooLarge(limit: Int)
    /// Content-Length is not a decimal number that fits.
    case invalidContentLength
    /// Several Content-Length values that differ.
    case conflictingContentLength
    /// Both Content-Length and Transfer-Encoding (a request-smuggling vector).
    case contentLengthWithTransferEncoding
    /// Transfer-Encoding in an HTTP/1.0 message.
    case transferEncodingInHTTP10
    /// A request whose Transfer-Encoding is empty or repeats `chunked`.
    case unsupportedTransferEncoding
    /// A transfer coding other than `chunked` where it cannot be accepted: last in a request's
    /// Transfer-Encoding (its body length is unknowable), or anywhere for a server that decodes
    /// only chunked (the control API). Carries the coding, lowercased.
    case unsupportedTransferCoding(String)
    /// An HTTP/1.1 request without Host.
    case missingHost
    /// A request with more than one Host.
    case duplicateHost
    /// A chunk-size line that is not `1*HEXDIG [chunk-ext]` or overflows.
    case invalidChunkSize
    /// A malformed chunk extension.
    case invalidChunkExtension
    /// Chunk data not followed by CRLF.
    case invalidChunkTerminator
    /// A chunk-size line longer than the limit.
    case chunkLineTooLong(limit: Int)
    /// The stream ended inside a message.
    case unexpectedEndOfStream

    /// A short English sentence for logs and error bodies.
    public var description: String {
        switch self {
        case .bareLineFeed: return "line ends in LF without CR"
        case .bareCarriageReturn: return "CR not followed by LF"
        case .invalidRequestLine: return "malformed request line"
        case .invalidStatusLine: return "malformed status line"
        case .invalidMethod: return "invalid method"
        case .invalidTarget: return "invalid request target"
        case .invalidVersion: return "invalid HTTP version"
        case .unsupportedVersion(let version): return "unsupported HTTP version \(version)"
        case .invalidStatus: return "invalid status code"
        case .invalidReasonPhrase: return "invalid reason phrase"
        case .invalidHeaderName: return "invalid header name"
        case .whitespaceBeforeColon: return "whitespace between header name and colon"
        case .missingColon: return "header line without colon"
        case .invalidHeaderValue(let name): return "invalid value for header \(name)"
        case .obsoleteLineFolding: return "obsolete line folding is not allowed"
        case .tooManyHeaders(let limit): return "more than \(limit) header fields"
        case .headTooLarge(let limit): return "head larger than \(limit) bytes"
        case .bodyTooLarge(let limit): return "body larger than \(limit) bytes"
        case .invalidContentLength: return "invalid Content-Length"
        case .conflictingContentLength: return "conflicting Content-Length values"
        case .contentLengthWithTransferEncoding: return "both Content-Length and Transfer-Encoding"
        case .transferEncodingInHTTP10: return "Transfer-Encoding in an HTTP/1.0 message"
        case .unsupportedTransferEncoding: return "unsupported Transfer-Encoding (must end in chunked, once)"
        case .unsupportedTransferCoding(let coding): return "unsupported transfer coding \"\(coding)\""
        case .missingHost: return "HTTP/1.1 request without Host"
        case .duplicateHost: return "more than one Host header"
        case .invalidChunkSize: return "invalid chunk size"
        case .invalidChunkExtension: return "invalid chunk extension"
        case .invalidChunkTerminator: return "chunk data not followed by CRLF"
        case .chunkLineTooLong(let limit): return "chunk size line longer than \(limit) bytes"
        case .unexpectedEndOfStream: return "connection closed inside a message"
        }
    }

    /// The status a server answers this error with: 400, or 413/431/501/505 where one fits.
    public var suggestedStatus: Int {
        switch self {
        case .headTooLarge, .tooManyHeaders: return 431
        case .bodyTooLarge: return 413
        case .unsupportedTransferEncoding, .unsupportedTransferCoding: return 501
        case .unsupportedVersion: return 505
        default: return 400
        }
    }
}
