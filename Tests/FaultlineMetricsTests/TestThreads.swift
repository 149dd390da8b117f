import Glibc
import Synchronization

/// Runs `body(index)` on `count` OS threads at once and waits for all of them.
///
/// Real pthreads rather than tasks, so that the bodies truly run in parallel on different
/// cores; a spin barrier makes them start together so that their work overlaps.
func runOnThreads(count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let started = ThreadStart()
    var threads: [pthread_t] = []
    for index in 0..<count {
        let box = Unmanaged.passRetained(ThreadBody {
            started.arrive(total: count)
            body(index)
        })
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box.toOpaque())
        precondition(result == 0, "pthread_create failed: \(result)")
        threads.append(thread)
    }
    for thread in threads {
        pthread_join(thread, nil)
    }
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

private final class ThreadStart: Sendable {
    private let arrived = Atomic<Int>(0)

    func arrive(total: Int) {
        arrived.wrappingAdd(1, ordering: .acquiringAndReleasing)
        while arrived.load(ordering: .acquiring) < total {}
    }
}
