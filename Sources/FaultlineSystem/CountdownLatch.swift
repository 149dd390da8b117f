internal import Glibc

/// Blocks one thread until `count` others have checked in (plan acknowledgements).
public final class CountdownLatch: @unchecked Sendable {
    // Every access to `remaining` holds `mutex`; waiting uses `condition` on it.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var remaining: Int

    public init(count: Int) {
        remaining = count
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// One party is done.
    public func countDown() {
        pthread_mutex_lock(mutex)
        remaining -= 1
        if remaining <= 0 { pthread_cond_broadcast(condition) }
        pthread_mutex_unlock(mutex)
    }

    /// Waits until every party is done, or `timeoutNanoseconds` passes; true when all were done.
    @discardableResult
    public func wait(timeoutNanoseconds: UInt64 = .max) -> Bool {
        let deadline = timeoutNanoseconds == .max ? UInt64.max : Linux.monotonicNanoseconds() &+ timeoutNanoseconds
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while remaining > 0 {
            if deadline == .max {
                pthread_cond_wait(condition, mutex)
            } else {
                var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                if pthread_cond_timedwait(condition, mutex, &ts) == ETIMEDOUT { return remaining <= 0 }
            }
        }
        return true
    }
}
