// pthread helpers: the tool's threads share nothing but their results, read after join.

import Glibc

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// A started thread; `join()` waits for it.
struct Thread {
    private let handle: pthread_t

    /// Starts `body` on a new pthread.
    init(_ body: @escaping @Sendable () -> Void) throws {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { context in
            let body = Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue()
            body.body()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            throw BenchError.errno("pthread_create", rc)
        }
        self.handle = handle
    }

    func join() {
        _ = pthread_join(handle, nil)
    }

    /// Lets the thread's resources go when it ends, for threads nobody joins.
    func detach() {
        _ = pthread_detach(handle)
    }
}

/// One slot per thread, written by that thread only and read after every thread is joined;
/// `pthread_join` is the happens-before edge, hence `@unchecked Sendable`. Storage is a raw
/// allocation so that writes to different slots never touch shared Array metadata.
final class PerThread<Value>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Value>
    let count: Int

    init(count: Int, initial: Value) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: initial, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    subscript(index: Int) -> Value {
        get { slots[index] }
        set { slots[index] = newValue }
    }

    var all: [Value] { Array(UnsafeBufferPointer(start: slots, count: count)) }
}
