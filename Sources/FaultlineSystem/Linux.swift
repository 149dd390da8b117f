internal import Glibc
internal import CFaultlineShims

/// Linux-only calls: epoll, eventfd, timerfd, signalfd, clocks.
public enum Linux {
    /// epoll interest and readiness bits.
    public struct EpollEvents: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = EpollEvents(rawValue: CFaultline_EPOLLIN)
        public static let writable = EpollEvents(rawValue: CFaultline_EPOLLOUT)
        public static let error = EpollEvents(rawValue: CFaultline_EPOLLERR)
        public static let hangup = EpollEvents(rawValue: CFaultline_EPOLLHUP)
        public static let readHangup = EpollEvents(rawValue: CFaultline_EPOLLRDHUP)
        public static let edgeTriggered = EpollEvents(rawValue: CFaultline_EPOLLET)
    }

    /// One readiness event: what happened, and the 64-bit tag it was registered with.
    public struct EpollEvent: Sendable {
        public var events: EpollEvents
        public var data: UInt64
    }

    /// A new epoll instance (close-on-exec).
    public static func epollCreate() throws(SystemError) -> FileDescriptor {
        FileDescriptor(unsafeTaking: try syscall("epoll_create1") { epoll_create1(CInt(EPOLL_CLOEXEC)) })
    }

    /// Operation for `epollControl`.
    public enum EpollOperation: Sendable { case add, modify, delete }

    /// `epoll_ctl` on a raw descriptor lent by its owner.
    public static func epollControl(
        _ epoll: borrowing FileDescriptor, _ op: EpollOperation, fd: CInt, events: EpollEvents, data: UInt64
    ) throws(SystemError) {
        let operation: CInt
        switch op {
        case .add: operation = EPOLL_CTL_ADD
        case .modify: operation = EPOLL_CTL_MOD
        case .delete: operation = EPOLL_CTL_DEL
        }
        var event = CFaultline_epoll_event_make(events.rawValue, data)
        try epoll.withUnsafeHandle { (ep) throws(SystemError) in
            try syscall("epoll_ctl") { epoll_ctl(ep, operation, fd, &event) }
        }
    }

    /// Waits for events into `buffer`; returns how many were written. `timeoutMilliseconds` -1 blocks.
    public static func epollWait(
        _ epoll: borrowing FileDescriptor, into buffer: inout EpollEventBuffer, timeoutMilliseconds: CInt
    ) throws(SystemError) -> Int {
        let capacity = buffer.capacity
        let pointer = buffer.storage
        let count = try epoll.withUnsafeHandle { (ep) throws(SystemError) in
            try syscall("epoll_wait") { epoll_wait(ep, pointer, CInt(capacity), timeoutMilliseconds) }
        }
        buffer.count = Int(count)
        return Int(count)
    }

    /// A nonblocking, close-on-exec eventfd.
    public static func eventFD() throws(SystemError) -> FileDescriptor {
        FileDescriptor(unsafeTaking: try syscall("eventfd") { eventfd(0, CInt(EFD_NONBLOCK | EFD_CLOEXEC)) })
    }

    /// Adds one to an eventfd, waking its reader.
    public static func eventFDSignal(_ fd: borrowing FileDescriptor) {
        var one: UInt64 = 1
        _ = try? withUnsafeBytes(of: &one) { (bytes) throws(SystemError) in try Posix.writeFile(fd, from: bytes) }
    }

    /// Reads (and so resets) the 8-byte counter of an eventfd or timerfd.
    public static func drainCounter(_ fd: borrowing FileDescriptor) {
        var value: UInt64 = 0
        _ = try? withUnsafeMutableBytes(of: &value) { (bytes) throws(SystemError) in try Posix.read(fd, into: bytes) }
    }

    /// A nonblocking CLOCK_MONOTONIC timerfd.
    public static func timerFD() throws(SystemError) -> FileDescriptor {
        FileDescriptor(unsafeTaking: try syscall("timerfd_create") {
            timerfd_create(CLOCK_MONOTONIC, CInt(TFD_NONBLOCK | TFD_CLOEXEC))
        })
    }

    /// Arms the timerfd to fire at an absolute CLOCK_MONOTONIC instant (ns); 0 disarms.
    public static func timerFDArm(_ fd: borrowing FileDescriptor, deadlineNanoseconds: UInt64) throws(SystemError) {
        try fd.withUnsafeHandle { (raw) throws(SystemError) in
            try syscall("timerfd_settime") { CFaultline_timerfd_settime_abs_ns(raw, max(deadlineNanoseconds, deadlineNanoseconds == 0 ? 0 : 1)) }
        }
    }

    /// Blocks SIGINT/SIGTERM/SIGHUP for this thread (and threads it starts later), ignores SIGPIPE,
    /// and returns a nonblocking signalfd that reads them.
    public static func lifecycleSignalFD() throws(SystemError) -> FileDescriptor {
        FileDescriptor(unsafeTaking: try syscall("signalfd") { CFaultline_signalfd_for_lifecycle() })
    }

    /// A lifecycle signal read from the signalfd.
    public enum LifecycleSignal: Sendable { case interrupt, terminate, hangup }

    /// Reads one pending signal, or nil when none is pending.
    public static func readSignal(_ fd: borrowing FileDescriptor) -> LifecycleSignal? {
        let number = fd.withUnsafeHandle { CFaultline_signalfd_read($0) }
        switch number {
        case SIGINT: return .interrupt
        case SIGTERM: return .terminate
        case SIGHUP: return .hangup
        default: return nil
        }
    }

    /// Sets this thread's timer slack to 1 ns, for precise timer wake-ups.
    public static func minimiseTimerSlack() {
        _ = CFaultline_set_timer_slack_ns(1)
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 { CFaultline_monotonic_ns() }

    /// CLOCK_REALTIME in nanoseconds since 1970.
    public static func realtimeNanoseconds() -> UInt64 { CFaultline_realtime_ns() }
}

/// A fixed array of `epoll_event` for `epollWait`, allocated once per loop.
public struct EpollEventBuffer: ~Copyable {
    fileprivate let storage: UnsafeMutablePointer<epoll_event>
    public let capacity: Int
    public fileprivate(set) var count = 0

    public init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// The i-th event of the last wait.
    public subscript(index: Int) -> Linux.EpollEvent {
        let pointer = storage + index
        return Linux.EpollEvent(
            events: Linux.EpollEvents(rawValue: CFaultline_epoll_event_events(pointer)),
            data: CFaultline_epoll_event_data(pointer)
        )
    }
}

extension Linux {
    /// Sleeps the calling thread (control side only; never on a loop thread).
    public static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
