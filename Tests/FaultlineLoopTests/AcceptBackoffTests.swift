import FaultlineLoop
import FaultlineSystem
import Testing

/// The accept back-off decision, driven with plain numbers for the clock.
struct AcceptBackoffTests {
    private static let ms: UInt64 = 1_000_000

    @Test func errnosMapToTheirReasons() {
        #expect(AcceptFailureReason(errno: Errno.tooManyFiles) == .emfile)
        #expect(AcceptFailureReason(errno: Errno.fileTableFull) == .enfile)
        #expect(AcceptFailureReason(errno: Errno.noBufferSpace) == .enobufs)
        #expect(AcceptFailureReason(errno: Errno.outOfMemory) == .enomem)
        #expect(AcceptFailureReason(errno: Errno.connectionAborted) == .aborted)
        #expect(AcceptFailureReason(errno: Errno.protocolError) == .aborted)
        #expect(AcceptFailureReason(errno: Errno.notPermitted) == .aborted)
        #expect(AcceptFailureReason(errno: Errno.addressInUse) == .error)
        #expect(AcceptFailureReason.allCases.filter(\.isTransient) == [.aborted])
        #expect(AcceptFailureReason.allCases.map(\.rawValue) == ["emfile", "enfile", "enobufs", "enomem", "aborted", "error"])
    }

    @Test func aTransientFailureOutsideAnEpisodeJustMovesOn() {
        var backoff = AcceptBackoff()
        #expect(backoff.failed(.aborted, now: 5) == .acceptNext)
        #expect(!backoff.inEpisode)
        #expect(!backoff.paused)
    }

    @Test func exhaustionPausesDoublesUpToTheCapAndEndsAfterAQuietPeriod() {
        var backoff = AcceptBackoff(initialDelay: 10 * Self.ms, maxDelay: 1000 * Self.ms, quietPeriod: 500 * Self.ms)
        let start: UInt64 = 1000 * Self.ms
        var now = start
        #expect(backoff.failed(.emfile, now: now) == .pause(retryAt: now + 10 * Self.ms, startsEpisode: true))
        #expect(backoff.inEpisode && backoff.paused)
        // Early timers (for a deadline that moved) do nothing.
        #expect(backoff.timerFired(now: now + 9 * Self.ms) == .none)
        var waits: [UInt64] = []
        for _ in 0..<10 {
            now = backoff.retryAt!
            #expect(backoff.timerFired(now: now) == .retry)
            #expect(!backoff.paused)
            // A second timer for the same deadline finds the attempt already under way.
            #expect(backoff.timerFired(now: now) == .none)
            guard case .pause(let retryAt, let starts) = backoff.failed(.emfile, now: now) else {
                Issue.record("a failed retry must pause")
                return
            }
            #expect(!starts)
            waits.append((retryAt - now) / Self.ms)
        }
        #expect(waits == [20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000])
        now = backoff.retryAt!
        #expect(backoff.timerFired(now: now) == .retry)
        let resumed = now
        #expect(backoff.succeeded(now: now) == .resume(checkAt: now + 500 * Self.ms))
        // Later successes change nothing; the episode stays open through the quiet period.
        #expect(backoff.succeeded(now: now + 1) == .none)
        #expect(backoff.inEpisode && !backoff.paused)
        #expect(backoff.timerFired(now: now + 499 * Self.ms) == .none)
        now += 500 * Self.ms
        #expect(backoff.timerFired(now: now) == .ended(AcceptBackoff.Episode(
            reason: .emfile, failures: 11, startedAt: start, recoveredAt: resumed)))
        #expect(!backoff.inEpisode && !backoff.paused && backoff.retryAt == nil)
        #expect(backoff.timerFired(now: now + 10 * Self.ms) == .none)
        // The next episode starts from the initial delay again.
        #expect(backoff.failed(.enfile, now: now + 1) == .pause(retryAt: now + 1 + 10 * Self.ms, startsEpisode: true))
    }

    @Test func aShortageThatComesBackWithinTheQuietPeriodIsTheSameEpisode() {
        var backoff = AcceptBackoff(initialDelay: 10, maxDelay: 1000, quietPeriod: 100)
        _ = backoff.failed(.emfile, now: 0)
        #expect(backoff.timerFired(now: 10) == .retry)
        #expect(backoff.succeeded(now: 10) == .resume(checkAt: 110))
        // Fails again while recovering: pause from the initial delay, no new episode.
        #expect(backoff.failed(.emfile, now: 50) == .pause(retryAt: 60, startsEpisode: false))
        // Whichever timer comes first at or after 60 retries (here the first resume's, at 110).
        #expect(backoff.timerFired(now: 110) == .retry)
        #expect(backoff.succeeded(now: 110) == .resume(checkAt: 210))
        #expect(backoff.timerFired(now: 210) == .ended(AcceptBackoff.Episode(reason: .emfile, failures: 2, startedAt: 0, recoveredAt: 110)))
    }

    @Test func aFreedDescriptorBringsTheRetryForwardButNotBeforeTheMinimumGap() {
        var backoff = AcceptBackoff(initialDelay: 10 * Self.ms, maxDelay: 1000 * Self.ms)
        var now: UInt64 = 0
        _ = backoff.failed(.emfile, now: now)
        for _ in 0..<6 {
            now = backoff.retryAt!
            _ = backoff.timerFired(now: now)
            _ = backoff.failed(.emfile, now: now)
        }
        let lastAttempt = now
        #expect(backoff.retryAt == lastAttempt + 640 * Self.ms)
        // A close 3 ms after the attempt: the retry moves to 10 ms after it.
        #expect(backoff.descriptorFreed(now: lastAttempt + 3 * Self.ms) == lastAttempt + 10 * Self.ms)
        // More closes in the same stretch change nothing (no timer per close).
        #expect(backoff.descriptorFreed(now: lastAttempt + 4 * Self.ms) == nil)
        #expect(backoff.retryAt == lastAttempt + 10 * Self.ms)
        // The doubling started over: the next failed retry waits 20 ms.
        now = backoff.retryAt!
        #expect(backoff.timerFired(now: now) == .retry)
        // Not paused while the attempt is under way: nothing to bring forward.
        #expect(backoff.descriptorFreed(now: now) == nil)
        #expect(backoff.failed(.emfile, now: now) == .pause(retryAt: now + 20 * Self.ms, startsEpisode: false))
        // A close long after the last attempt: retry at once.
        #expect(backoff.descriptorFreed(now: now + 15 * Self.ms) == now + 15 * Self.ms)
        var idle = AcceptBackoff()
        #expect(idle.descriptorFreed(now: 1) == nil)
    }

    @Test func transientFailuresDuringAnEpisodeAreCountedInIt() {
        var backoff = AcceptBackoff(initialDelay: 10, maxDelay: 100, quietPeriod: 5)
        _ = backoff.failed(.enomem, now: 0)
        #expect(backoff.timerFired(now: 10) == .retry)
        #expect(backoff.failed(.aborted, now: 10) == .acceptNext)
        #expect(backoff.succeeded(now: 11) == .resume(checkAt: 16))
        #expect(backoff.timerFired(now: 16) == .ended(AcceptBackoff.Episode(reason: .enomem, failures: 2, startedAt: 0, recoveredAt: 11)))
    }

    @Test func anUnknownErrorAlsoPauses() {
        var backoff = AcceptBackoff()
        #expect(backoff.failed(.error, now: 0) == .pause(retryAt: 10_000_000, startsEpisode: true))
    }
}
