import FaultlineHTTP1
import FaultlineLoop
import FaultlineSystem

/// One control-API client connection, owned by the control thread.
final class ControlConnection {
    enum Phase {
        /// Reading requests, writing answers.
        case open
        /// Answered with `Connection: close`: writing what is left, then lingering.
        case closing
        /// Write side shut; reading and discarding until EOF or the linger deadline.
        case lingering
    }

    /// What the pending deadline means.
    enum DeadlineKind {
        /// No request in progress: close quietly.
        case idle
        /// A request started and has not finished: 408.
        case request
        /// Lingering after the last answer: close.
        case linger
    }

    let id: UInt64
    let kind: ControlListenerKind
    var fd: FileDescriptor?
    var registration: Registration?
    var parser: HTTPRequestParser
    var phase = Phase.open
    /// A Unix peer whose uid is not allowed: every request gets 403.
    var refusedUID: UInt32?

    var head: HTTPRequestHead?
    var body: [UInt8] = []
    var output: [UInt8] = []
    var outputOffset = 0
    var peerClosed = false
    var interest: Linux.EpollEvents = .readable

    var deadline: UInt64 = 0
    var deadlineKind = DeadlineKind.idle
    /// When the current wait began: for the idle keep-alive connection or the incomplete
    /// request (monotonic ns). At the listener's limit the connection that has waited longest
    /// makes room.
    var waitingSince: UInt64 = 0

    init(id: UInt64, kind: ControlListenerKind, fd: consuming FileDescriptor, limits: HTTPParserLimits) {
        self.id = id
        self.kind = kind
        self.fd = consume fd
        parser = HTTPRequestParser(limits: limits)
    }

    var pendingOutput: Int { output.count - outputOffset }

    /// True while a request has started arriving and is not complete.
    var requestInProgress: Bool { head != nil || !parser.isIdle }

    /// Whether it may be closed to make room: waiting for a request or for the rest of one, not
    /// writing an answer or closing after one.
    var isEvictable: Bool { phase == .open && pendingOutput == 0 }
}

@available(*, unavailable)
extension ControlConnection: Sendable {}
