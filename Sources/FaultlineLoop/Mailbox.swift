import FaultlineSystem
import Synchronization

/// The only door into a loop from another thread: post a message, wake the loop.
///
/// Messages queue under a mutex; the loop's owner drains them on its own thread after the
/// eventfd wakes it.
public final class Mailbox<Message: Sendable>: Sendable {
    private let queue = Mutex<[Message]>([])
    private let wakeFD: FileDescriptor

    init(wakeFD: consuming FileDescriptor) {
        self.wakeFD = wakeFD
    }

    /// Queues a message and wakes the loop.
    public func post(_ message: Message) {
        queue.withLock { $0.append(message) }
        Linux.eventFDSignal(wakeFD)
    }

    /// Takes every queued message (owner thread).
    func drain() -> [Message] {
        Linux.drainCounter(wakeFD)
        return queue.withLock { queue in
            let messages = queue
            queue.removeAll(keepingCapacity: true)
            return messages
        }
    }

    func withWakeHandle<R, E: Error>(_ body: (borrowing FileDescriptor) throws(E) -> R) throws(E) -> R {
        try body(wakeFD)
    }
}
