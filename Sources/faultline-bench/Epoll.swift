// epoll for the load generator.
//
// `import Glibc` does not expose epoll (SWIFT-ON-LINUX.md, edge 1) and this tool may not add a
// C target, so the three calls are resolved with dlsym and called through `@convention(c)`
// pointers, which keeps the C calling convention exact. `struct epoll_event` is packed on
// x86_64 and aarch64 alike as 12 bytes: `uint32 events` at 0, `uint64 data` at 4.

import Glibc

/// A single-threaded epoll instance whose registrations carry a 64-bit token (here: the fd).
final class Epoll {
    static let input: UInt32 = 0x001
    static let output: UInt32 = 0x004
    static let error: UInt32 = 0x008
    static let hangUp: UInt32 = 0x010
    static let readHangUp: UInt32 = 0x2000
    static let exclusive: UInt32 = 1 << 28

    private typealias CreateFunction = @convention(c) (Int32) -> Int32
    private typealias ControlFunction = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    private typealias WaitFunction = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32

    private static let eventSize = 12
    private let controlFunction: ControlFunction
    private let waitFunction: WaitFunction
    private let fd: Int32
    private let events: UnsafeMutableRawPointer
    private let capacity: Int

    init(capacity: Int = 256) throws {
        guard let handle = dlopen(nil, RTLD_NOW),
              let create = dlsym(handle, "epoll_create1"),
              let control = dlsym(handle, "epoll_ctl"),
              let wait = dlsym(handle, "epoll_wait")
        else { throw BenchError("dlsym: epoll functions not found") }
        let createFunction = unsafeBitCast(create, to: CreateFunction.self)
        controlFunction = unsafeBitCast(control, to: ControlFunction.self)
        waitFunction = unsafeBitCast(wait, to: WaitFunction.self)
        fd = createFunction(Int32(O_CLOEXEC))
        guard fd >= 0 else { throw BenchError.errno("epoll_create1") }
        self.capacity = capacity
        events = UnsafeMutableRawPointer.allocate(byteCount: capacity * Self.eventSize, alignment: 8)
    }

    deinit {
        events.deallocate()
        close(fd)
    }

    private func control(_ operation: Int32, _ target: Int32, _ mask: UInt32, _ token: UInt64) throws {
        var event = (UInt64(0), UInt64(0))  // 16 bytes of scratch for a 12-byte packed struct
        try withUnsafeMutableBytes(of: &event) { raw in
            raw.storeBytes(of: mask, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: token, toByteOffset: 4, as: UInt64.self)
            guard controlFunction(fd, operation, target, raw.baseAddress) == 0 else {
                throw BenchError.errno("epoll_ctl(\(operation), fd \(target))")
            }
        }
    }

    func add(_ target: Int32, _ mask: UInt32, token: UInt64? = nil) throws {
        try control(1, target, mask, token ?? UInt64(UInt32(bitPattern: target)))
    }

    func modify(_ target: Int32, _ mask: UInt32, token: UInt64? = nil) throws {
        try control(3, target, mask, token ?? UInt64(UInt32(bitPattern: target)))
    }

    /// Waits up to `timeoutMilliseconds` (-1 = forever) and calls `body(token, events)` per event.
    func wait(timeoutMilliseconds: Int32, _ body: (UInt64, UInt32) throws -> Void) throws {
        let count = waitFunction(fd, events, Int32(capacity), timeoutMilliseconds)
        if count < 0 {
            if errno == EINTR { return }
            throw BenchError.errno("epoll_wait")
        }
        for index in 0..<Int(count) {
            let base = events + index * Self.eventSize
            let mask = base.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
            let token = base.loadUnaligned(fromByteOffset: 4, as: UInt64.self)
            try body(token, mask)
        }
    }
}

@available(*, unavailable)
extension Epoll: Sendable {}
