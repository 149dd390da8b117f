internal import Glibc
internal import CFaultlineShims

/// Starting OS threads without Foundation.
public enum Threads {
    private final class Box: @unchecked Sendable {
        // Written once before the thread starts and read once by it: no lock needed.
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts a detached-joinable pthread running `body`; returns a handle to join.
    public static func spawn(name: String, _ body: @escaping @Sendable () -> Void) -> ThreadHandle {
        let threadName = String(name.utf8.prefix(15))!
        let box = Unmanaged.passRetained(Box {
            _ = threadName.withCString { CFaultline_set_thread_name($0) }
            body()
        }).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return ThreadHandle(thread: thread)
    }
}

/// A started thread that can be joined once.
public struct ThreadHandle: Sendable {
    fileprivate let thread: pthread_t

    /// Waits for the thread to finish.
    public func join() {
        pthread_join(thread, nil)
    }

    /// Lets the thread go: nobody will join it, and its resources are freed when it ends.
    /// Call this or ``join()``, once; a thread that is neither leaks its stack and handle until exit.
    public func detach() {
        pthread_detach(thread)
    }
}
