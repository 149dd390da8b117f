@testable import FaultlineProxy
import FaultlineSystem
import Testing

/// When an upstream host name is asked for, and what a connect gets meanwhile (explicit times in
/// nanoseconds: TTL 30 s, negative TTL 1 s, as the daemon runs).
@Suite struct UpstreamResolverCacheTests {
    private let redis = UpstreamResolverCache.Key(name: "redis", port: 6379)
    private let first = [SocketAddress(ipv6: [UInt8](repeating: 0, count: 15) + [1], port: 6379), SocketAddress(ipv4: 127, 0, 0, 1, port: 6379)]
    private let moved = [SocketAddress(ipv4: 127, 0, 0, 2, port: 6379)]
    private let second: UInt64 = 1_000_000_000

    private func cache() -> UpstreamResolverCache {
        UpstreamResolverCache(ttlNanoseconds: 30 * second, negativeTTLNanoseconds: second)
    }

    @Test func theFirstLookupAsksOnceAndWaits() {
        var cache = cache()
        do { let result = cache.lookup(redis, now: 0); #expect(result == (.pending, true)) }
        do { let result = cache.lookup(redis, now: 1); #expect(result == (.pending, false), "asked once, however many connections wait") }
        do { let result = cache.answer(redis, addresses: first, now: 2); #expect(result) }
        do { let result = cache.lookup(redis, now: 3); #expect(result == (.addresses(first), false), "every address, in getaddrinfo's order") }
    }

    @Test func anAnswerServesForTheTTLThenServesWhileAskedAgain() {
        var cache = cache()
        _ = cache.lookup(redis, now: 0)
        _ = cache.answer(redis, addresses: first, now: 0)
        do { let result = cache.lookup(redis, now: 30 * second - 1); #expect(result == (.addresses(first), false)) }
        do { let result = cache.lookup(redis, now: 30 * second); #expect(result == (.addresses(first), true), "stale: still used, asked again") }
        do { let result = cache.lookup(redis, now: 30 * second + 1); #expect(result == (.addresses(first), false), "asked once") }
        do { let result = cache.answer(redis, addresses: moved, now: 31 * second); #expect(result, "a new address set is a change") }
        do { let result = cache.lookup(redis, now: 31 * second); #expect(result == (.addresses(moved), false)) }
        do { let result = cache.answer(redis, addresses: moved, now: 62 * second); #expect(!result, "the same set again is no change") }
    }

    @Test func aConnectThatFailedOnEveryAddressAsksAgainAtOnce() {
        var cache = cache()
        _ = cache.lookup(redis, now: 0)
        do { let result = cache.refresh(redis, failed: first); #expect(!result, "already being asked") }
        _ = cache.answer(redis, addresses: first, now: 0)
        do { let result = cache.refresh(redis, failed: first); #expect(result) }
        do { let result = cache.refresh(redis, failed: first); #expect(!result, "asked once") }
        do { let result = cache.lookup(redis, now: 1); #expect(result == (.addresses(first), false), "the old answer serves until the new one") }
        _ = cache.answer(redis, addresses: moved, now: 2)
        do { let result = cache.refresh(redis, failed: first); #expect(!result, "a connect that began before the new answer does not ask again") }
        do { let result = cache.refresh(redis, failed: moved); #expect(result) }
        do { let result = cache.refresh(UpstreamResolverCache.Key(name: "unknown", port: 1), failed: []); #expect(!result, "a name no route uses is not asked") }
    }

    @Test func aNameThatDoesNotResolveFailsThenIsAskedAgainAfterOneSecond() {
        var cache = cache()
        _ = cache.lookup(redis, now: 0)
        do { let result = cache.answer(redis, addresses: nil, now: 0); #expect(!result) }
        do { let result = cache.lookup(redis, now: second - 1); #expect(result == (.failed, false)) }
        do { let result = cache.lookup(redis, now: second); #expect(result == (.pending, true), "waits for the new answer, not failing on the old") }
        do { let result = cache.lookup(redis, now: second + 1); #expect(result == (.pending, false)) }
        _ = cache.answer(redis, addresses: first, now: second + 2)
        do { let result = cache.lookup(redis, now: second + 3); #expect(result == (.addresses(first), false), "the service came up") }
    }

    @Test func retainKeepsThePlansNamesAndAsksForNewOnes() {
        var cache = cache()
        let db = UpstreamResolverCache.Key(name: "db", port: 5432)
        do { let result = cache.retain([redis, db]); #expect(result == [db, redis]) }
        do { let result = cache.lookup(redis, now: 0); #expect(result == (.pending, false), "already asked by retain") }
        _ = cache.answer(redis, addresses: first, now: 0)
        do { let result = cache.retain([redis]); #expect(result == []) }
        do { let result = cache.answer(db, addresses: moved, now: 1); #expect(!result, "an answer for a dropped name is not kept") }
        do { let result = cache.lookup(db, now: 2); #expect(result == (.pending, true)) }
        do { let result = cache.lookup(redis, now: 2); #expect(result == (.addresses(first), false)) }
    }
}
