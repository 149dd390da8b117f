import FaultlineLoop
import FaultlineSystem
import Glibc
import Synchronization
import Testing

/// A delegate that records what the loop hands it and stops the loop when `done` says so.
final class RecordingDelegate: EventLoopDelegate {
    typealias Message = Int

    var ready: [(tag: UInt64, events: Linux.EpollEvents)] = []
    var timers: [(tag: UInt64, at: UInt64)] = []
    var messages: [Int] = []
    var onReady: (RecordingDelegate, EventLoop<RecordingDelegate>, UInt64) -> Void = { _, _, _ in }
    var done: (RecordingDelegate) -> Bool = { _ in false }
    var timedOut = false

    /// Tag of the safety timer that ends a test that would otherwise hang.
    static let watchdogTag: UInt64 = 0xDEAD

    func loop(_ loop: EventLoop<RecordingDelegate>, ready events: Linux.EpollEvents, tag: UInt64) {
        ready.append((tag, events))
        onReady(self, loop, tag)
        if done(self) { loop.stop() }
    }

    func loop(_ loop: EventLoop<RecordingDelegate>, timerFired tag: UInt64) {
        if tag == Self.watchdogTag {
            timedOut = true
            loop.stop()
            return
        }
        timers.append((tag, Linux.monotonicNanoseconds()))
        if done(self) { loop.stop() }
    }

    func loop(_ loop: EventLoop<RecordingDelegate>, received messages: [Int]) {
        self.messages += messages
        if done(self) { loop.stop() }
    }

    func loopTurnEnded(_ loop: EventLoop<RecordingDelegate>) -> Bool { false }
}

/// A connected AF_UNIX stream pair, nonblocking (raw numbers; callers wrap them).
func rawSocketPair() throws -> (CInt, CInt) {
    var fds: [CInt] = [-1, -1]
    let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    try #require(socketpair(AF_UNIX, type, 0, &fds) == 0, "socketpair: errno \(errno)")
    return (fds[0], fds[1])
}

func writeByte(_ raw: CInt) {
    var byte: UInt8 = 1
    _ = Glibc.write(raw, &byte, 1)
}

func rawNumber(_ fd: borrowing FileDescriptor) -> CInt { fd.withUnsafeHandle { $0 } }

@Suite struct EventLoopTests {
    /// Timers fire in deadline order (ties in scheduling order), never early, and within a
    /// tolerance of 20 ms (timerfd lateness is ~50 µs p99 on an idle host; the slack is for a
    /// loaded CI machine running other tests in parallel).
    /// Off under `Scripts/test --sanitize` ($FAULTLINE_SANITIZER): TSan measured 22–151 ms late.
    @Test(.disabled(if: getenv("FAULTLINE_SANITIZER") != nil, "bounds timer lateness at 20 ms of wall-clock time; the plain Scripts/test checks it"))
    func timersFireInDeadlineOrderWithinTolerance() throws {
        let loop = try EventLoop<RecordingDelegate>()
        let delegate = RecordingDelegate()
        let start = Linux.monotonicNanoseconds()
        let ms: UInt64 = 1_000_000
        let plan: [(tag: UInt64, offset: UInt64)] = [(3, 60 * ms), (1, 20 * ms), (4, 80 * ms), (2, 40 * ms), (5, 40 * ms), (0, 5 * ms)]
        for entry in plan { loop.schedule(at: start + entry.offset, tag: entry.tag) }
        loop.schedule(at: start + 5_000 * ms, tag: RecordingDelegate.watchdogTag)
        delegate.done = { $0.timers.count == plan.count }
        try loop.run(delegate)

        #expect(!delegate.timedOut)
        #expect(delegate.timers.map(\.tag) == [0, 1, 2, 5, 3, 4])
        let deadlines = Dictionary(uniqueKeysWithValues: plan.map { ($0.tag, start + $0.offset) })
        for fired in delegate.timers {
            let deadline = deadlines[fired.tag]!
            #expect(fired.at >= deadline, "timer \(fired.tag) fired early")
            #expect(fired.at - deadline < 20 * ms, "timer \(fired.tag) fired \(Double(fired.at - deadline) / 1e6) ms late")
        }
        #expect(loop.pendingTimers == 1)  // only the watchdog is left
    }

    /// A timer scheduled in the past fires on the next turn.
    @Test func overdueTimerFiresAtOnce() throws {
        let loop = try EventLoop<RecordingDelegate>()
        let delegate = RecordingDelegate()
        let now = Linux.monotonicNanoseconds()
        loop.schedule(at: now - 1_000_000, tag: 9)
        loop.schedule(at: now + 5_000_000_000, tag: RecordingDelegate.watchdogTag)
        delegate.done = { !$0.timers.isEmpty }
        try loop.run(delegate)
        #expect(delegate.timers.map(\.tag) == [9])
        #expect(delegate.timers[0].at - now < 20_000_000)
    }

    /// Messages posted from other threads arrive on the loop's thread, each sender's in order.
    @Test func mailboxDeliversMessagesInOrderFromOtherThreads() throws {
        let loop = try EventLoop<RecordingDelegate>()
        let delegate = RecordingDelegate()
        let mailbox = loop.mailbox
        let perSender = 2000
        delegate.done = { $0.messages.count == 2 * perSender }
        loop.schedule(at: Linux.monotonicNanoseconds() + 10_000_000_000, tag: RecordingDelegate.watchdogTag)
        let senders = (0..<2).map { sender in
            Threads.spawn(name: "sender-\(sender)") {
                for i in 0..<perSender {
                    mailbox.post(sender * 1_000_000 + i)
                    if i % 97 == 0 { Linux.sleep(nanoseconds: 100_000) }
                }
            }
        }
        try loop.run(delegate)
        for sender in senders { sender.join() }

        #expect(!delegate.timedOut)
        for sender in 0..<2 {
            let mine = delegate.messages.filter { $0 / 1_000_000 == sender }.map { $0 % 1_000_000 }
            #expect(mine == Array(0..<perSender), "sender \(sender)'s messages out of order or lost")
        }
    }

    /// The stale-generation guard. Two registered descriptors are readable in the same turn;
    /// whichever the loop reports first deregisters and closes the other, with a new socket
    /// taking the same number, and registers it (same slot, next generation). The
    /// already fetched event of the closed descriptor must be dropped, never reported with the old
    /// tag; the new registration must work.
    @Test func staleEventForReusedDescriptorNumberIsDropped() throws {
        /// The descriptors of the test, reachable from the delegate callback.
        final class Descriptors {
            var a: FileDescriptor?
            var b: FileDescriptor?
            var fresh: FileDescriptor?
            /// Peers are written to, then closed at the end.
            var peers: [CInt] = []
            deinit { for peer in peers { _ = Glibc.close(peer) } }
        }
        let loop = try EventLoop<RecordingDelegate>()
        let delegate = RecordingDelegate()
        let fds = Descriptors()
        let (a, aPeer) = try rawSocketPair()
        let (b, bPeer) = try rawSocketPair()
        fds.a = FileDescriptor(unsafeTaking: a)
        fds.b = FileDescriptor(unsafeTaking: b)
        fds.peers = [aPeer, bPeer]
        let tagA: UInt64 = 100, tagB: UInt64 = 200, tagNew: UInt64 = 300
        var regA: Registration?
        var regB: Registration?
        switch fds.a { case .some(let fd): regA = try loop.register(fd, interest: .readable, tag: tagA); case .none: break }
        switch fds.b { case .some(let fd): regB = try loop.register(fd, interest: .readable, tag: tagB); case .none: break }
        // Both readable before the loop's first wait, so both events come in one epoll_wait batch.
        writeByte(aPeer)
        writeByte(bPeer)

        var closedRaw: CInt = -1
        var freshRaw: CInt = -2
        var closedRegistration: Registration?
        var closedTag: UInt64 = 0
        var freshRegistration: Registration?
        delegate.onReady = { _, loop, tag in
            guard closedTag == 0 else {
                if tag == tagNew { loop.stop() }
                return
            }
            // First report: deregister the other descriptor, then close it and put a new socket
            // under its number in one step with dup2. (close + socket would race with tests
            // running in parallel for the lowest free number; dup2 makes the reuse certain.) The
            // victim's FileDescriptor then owns the new socket.
            let victim: FileDescriptor
            if tag == tagA {
                victim = fds.b.take()!
                (closedRegistration, closedTag, closedRaw) = (regB, tagB, b)
            } else {
                victim = fds.a.take()!
                (closedRegistration, closedTag, closedRaw) = (regA, tagA, a)
            }
            loop.deregister(closedRegistration!)
            let (fresh, freshPeer) = try! rawSocketPair()
            precondition(dup2(fresh, closedRaw) == closedRaw, "dup2: errno \(errno)")
            _ = Glibc.close(fresh)
            freshRaw = rawNumber(victim)
            fds.peers.append(freshPeer)
            fds.fresh = consume victim
            switch fds.fresh {
            case .some(let fd): freshRegistration = try! loop.register(fd, interest: .readable, tag: tagNew)
            case .none: break
            }
            writeByte(freshPeer)
        }
        loop.schedule(at: Linux.monotonicNanoseconds() + 5_000_000_000, tag: RecordingDelegate.watchdogTag)
        try loop.run(delegate)

        #expect(!delegate.timedOut)
        #expect(freshRaw == closedRaw, "the new registration reuses the closed descriptor's number")
        let fresh = try #require(freshRegistration)
        let closed = try #require(closedRegistration)
        #expect(fresh.slot == closed.slot, "the freed slot is reused")
        #expect(fresh.generation != closed.generation, "with a new generation")
        #expect(loop.staleEventsDropped == 1)
        #expect(!delegate.ready.contains { $0.tag == closedTag }, "an event with the closed descriptor's tag was delivered")
        #expect(delegate.ready.filter { $0.tag == tagNew }.count == 1)
        #expect(!loop.isCurrent(closed))
        #expect(loop.isCurrent(fresh))
    }
}
