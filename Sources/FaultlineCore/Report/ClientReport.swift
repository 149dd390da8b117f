/// How the report groups a route's log into attempt timelines (SPEC §3.4).
public enum AttemptGrouping: Sendable, Hashable, CustomStringConvertible {
    /// By `Idempotency-Key`, else `X-Request-Id`, else method+path per client (tcp: per client).
    case auto
    /// By one request header's value (`header:NAME`, name lowercased); requests without it per client.
    case header(String)
    /// By method and path per client.
    case methodPath
    /// By client address (without the port).
    case source

    /// Parses the `group_by` spelling: `auto`, `header:NAME`, `method+path`, `source`.
    public init?(parsing text: String) {
        switch text {
        case "auto": self = .auto
        // `+` in a query string decodes to a space: `group_by=method+path` arrives as "method path".
        case "method+path", "method path": self = .methodPath
        case "source": self = .source
        default:
            guard text.hasPrefix("header:"), text.count > "header:".count else { return nil }
            self = .header(String(text.dropFirst("header:".count)).lowercased())
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .header(let name): return "header:\(name)"
        case .methodPath: return "method+path"
        case .source: return "source"
        }
    }
}

/// The client-behaviour report of one route: attempt timelines and the verdicts drawn from them.
/// Made by `ReportClassifier.report(route:records:groupBy:)`, a pure function.
public struct ClientReport: Sendable, Equatable {
    public var route: String
    /// Log entries looked at.
    public var requests: Int
    /// Of those, the ones a fault acted on.
    public var injected: Int
    /// Attempt timelines.
    public var groups: Int
    public var retries: Retries
    public var backoff: Backoff
    public var jitter: Jitter
    public var herd: Herd
    public var breaker: Breaker
    public var timelines: [Timeline]

    public init(
        route: String, requests: Int, injected: Int, groups: Int, retries: Retries, backoff: Backoff,
        jitter: Jitter, herd: Herd, breaker: Breaker, timelines: [Timeline]
    ) {
        self.route = route
        self.requests = requests
        self.injected = injected
        self.groups = groups
        self.retries = retries
        self.backoff = backoff
        self.jitter = jitter
        self.herd = herd
        self.breaker = breaker
        self.timelines = timelines
    }

    public struct Retries: Sendable, Equatable {
        /// Timelines with an attempt after a failed one.
        public var groupsRetried: Int
        /// The most attempts in one timeline.
        public var maxAttempts: Int
        /// Timelines whose last attempt failed.
        public var gaveUp: Int
        /// Gaps from a failed attempt's end to the next attempt's start, over every retry.
        public var gapsP50Milliseconds: Double?
        public var gapsP90Milliseconds: Double?

        public init(groupsRetried: Int, maxAttempts: Int, gaveUp: Int, gapsP50Milliseconds: Double?, gapsP90Milliseconds: Double?) {
            self.groupsRetried = groupsRetried
            self.maxAttempts = maxAttempts
            self.gaveUp = gaveUp
            self.gapsP50Milliseconds = gapsP50Milliseconds
            self.gapsP90Milliseconds = gapsP90Milliseconds
        }
    }

    public enum BackoffShape: String, Sendable, Equatable, CaseIterable {
        /// Retries within a few milliseconds.
        case none
        case fixed
        case linear
        case exponential
        /// Retries, but no one shape fits.
        case mixed
        /// No timeline retried.
        case noRetries = "no_retries"
    }

    public struct Backoff: Sendable, Equatable {
        public var shape: BackoffShape
        /// `exponential`: the ratio of consecutive gaps.
        public var factor: Double?
        /// The typical (median) first gap across timelines.
        public var firstGapMilliseconds: Double?

        public init(shape: BackoffShape, factor: Double?, firstGapMilliseconds: Double?) {
            self.shape = shape
            self.factor = factor
            self.firstGapMilliseconds = firstGapMilliseconds
        }
    }

    public struct Jitter: Sendable, Equatable {
        public var present: Bool
        /// Coefficient of variation of the gaps at the same retry index across timelines; nil when
        /// no retry index is shared by enough timelines to tell.
        public var spread: Double?

        public init(present: Bool, spread: Double?) {
            self.present = present
            self.spread = spread
        }
    }

    public struct Herd: Sendable, Equatable {
        /// The most retries of different timelines that started together.
        public var maxConcurrentRetries: Int
        /// Retries of different timelines land together (no jitter under a shared failure).
        public var aligned: Bool

        public init(maxConcurrentRetries: Int, aligned: Bool) {
            self.maxConcurrentRetries = maxConcurrentRetries
            self.aligned = aligned
        }
    }

    public enum BreakerVerdict: String, Sendable, Equatable, CaseIterable {
        /// Requests kept arriving at the same rate while every answer failed.
        case keptCalling = "kept_calling"
        /// Calls paused while failing.
        case opened
        /// No failure lasted long enough to tell.
        case notTested = "not_tested"
    }

    public struct Breaker: Sendable, Equatable {
        public var verdict: BreakerVerdict
        /// Calls per second during the longest failing stretch; nil when not tested.
        public var callsWhileFailingPerSecond: Double?
        /// The longest gap between calls inside that stretch.
        public var longestPauseMilliseconds: Double

        public init(verdict: BreakerVerdict, callsWhileFailingPerSecond: Double?, longestPauseMilliseconds: Double) {
            self.verdict = verdict
            self.callsWhileFailingPerSecond = callsWhileFailingPerSecond
            self.longestPauseMilliseconds = longestPauseMilliseconds
        }
    }

    /// One group's attempts, in time order.
    public struct Timeline: Sendable, Equatable {
        public var key: String
        public var attempts: [Attempt]

        public init(key: String, attempts: [Attempt]) {
            self.key = key
            self.attempts = attempts
        }
    }

    public struct Attempt: Sendable, Equatable {
        public var seq: UInt64
        /// Nanoseconds since the Unix epoch.
        public var timestamp: Int64
        public var outcome: RequestOutcome
        public var fault: String?
        public var totalNanoseconds: UInt64
        /// A gRPC call's status; nil for other requests.
        public var grpcStatus: Int?

        /// The attempt failed (its outcome, or its gRPC status).
        public var isFailure: Bool { outcome.isFailure || grpcStatus.map(GRPCStatusCode.isFailure) == true }

        public init(
            seq: UInt64, timestamp: Int64, outcome: RequestOutcome, fault: String?, totalNanoseconds: UInt64, grpcStatus: Int? = nil
        ) {
            self.grpcStatus = grpcStatus
            self.seq = seq
            self.timestamp = timestamp
            self.outcome = outcome
            self.fault = fault
            self.totalNanoseconds = totalNanoseconds
        }
    }
}
