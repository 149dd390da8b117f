import FaultlineConfig
import FaultlineControl
import FaultlineCore
import Testing

/// A clock the test moves by hand (monotonic nanoseconds).
struct MockClock {
    var now: UInt64 = 1_000_000_000_000

    mutating func advance(_ duration: Duration) {
        now += duration.nanosecondsClamped
    }
}

/// The schedule runner's logic, driven with a mock clock: no sockets, no threads.
@Suite struct ScheduleStateMachineTests {
    static let cut = FaultSpec(id: "cut", kind: .partition(PartitionFault(rule: .groups([["n1"], ["n2", "n3"]]))))
    static let lag = FaultSpec(id: "lag", kind: .latency(delay: .milliseconds(50), jitter: .zero, distribution: .uniform))

    /// SPEC §2's example: cut at 5s for 20s, lag at 30s, clear lag at 60s.
    static let example = ScheduleSpec(steps: [
        .init(at: .seconds(5), action: .apply(cut), forDuration: .seconds(20)),
        .init(at: .seconds(30), action: .apply(lag)),
        .init(at: .seconds(60), action: .clear("lag")),
    ])

    /// The actions, with deadlines made relative to `origin` in milliseconds, for readable expectations.
    private func describe(_ actions: [ScheduleStateMachine.Action], origin: UInt64) -> [String] {
        actions.map { action in
            func ms(_ due: ScheduleStateMachine.Due) -> String {
                "\(due.step)/\(due.iteration)@\(due.offset / 1_000_000)ms(+\((due.deadline - origin) / 1_000_000))"
            }
            switch action {
            case .started(let at): return "started(+\((at - origin) / 1_000_000))"
            case .apply(let fault, let due, let replacing): return "apply \(fault.id) \(ms(due))\(replacing ? " replacing" : "")"
            case .clear(let id, let due, let automatic): return "clear \(id) \(ms(due))\(automatic ? " for" : "")"
            case .release(let id): return "release \(id)"
            case .finished: return "finished"
            case .stopped: return "stopped"
            }
        }
    }

    @Test func startRunsStepsAtTheirOffsetsAndForClearsAfterItsDuration() {
        var clock = MockClock()
        let origin = clock.now
        var machine = ScheduleStateMachine(spec: Self.example)
        #expect(machine.phase == .idle)
        #expect(machine.nextDeadline == nil)
        #expect(describe(machine.start(now: clock.now), origin: origin) == ["started(+0)"])
        #expect(machine.nextDeadline == origin + 5_000_000_000)

        clock.advance(.milliseconds(4999))
        #expect(machine.tick(now: clock.now).isEmpty, "nothing is due a millisecond early")
        clock.advance(.milliseconds(1))
        #expect(describe(machine.tick(now: clock.now), origin: origin) == ["apply cut 0/0@5000ms(+5000)"])
        #expect(machine.applied == ["cut"])
        #expect(machine.nextDeadline == origin + 25_000_000_000)

        clock.advance(.seconds(20))
        #expect(describe(machine.tick(now: clock.now), origin: origin) == ["clear cut 0/0@25000ms(+25000) for"])
        #expect(machine.applied.isEmpty)

        // A late tick carries out everything due, in order, each with its own deadline.
        clock.advance(.seconds(40))
        #expect(describe(machine.tick(now: clock.now), origin: origin) == [
            "apply lag 1/0@30000ms(+30000)", "clear lag 2/0@60000ms(+60000)", "finished",
        ])
        #expect(machine.phase == .finished)
        #expect(machine.stepsRun == 4)
        #expect(machine.nextDeadline == nil)
        #expect(machine.tick(now: clock.now + 1_000_000_000_000).isEmpty)
    }

    @Test func stepsDueAtZeroRunWithTheStart() {
        let spec = ScheduleSpec(steps: [.init(at: .zero, action: .apply(Self.lag))])
        var machine = ScheduleStateMachine(spec: spec)
        let clock = MockClock()
        #expect(describe(machine.start(now: clock.now), origin: clock.now) == ["started(+0)", "apply lag 0/0@0ms(+0)", "finished"])
        #expect(machine.applied == ["lag"], "a fault without for stays applied after the schedule finishes")
    }

    @Test func pauseFreezesTheClockAndResumeShiftsLaterDeadlines() {
        var clock = MockClock()
        let origin = clock.now
        var machine = ScheduleStateMachine(spec: Self.example)
        _ = machine.start(now: clock.now)
        clock.advance(.seconds(6))
        // Deadlines are when the step was due, not when the tick came: the owner measures lateness.
        #expect(describe(machine.tick(now: clock.now), origin: origin) == ["apply cut 0/0@5000ms(+5000)"])

        let ok1 = machine.pause(now: clock.now)
        #expect(ok1)
        #expect(machine.phase == .paused)
        #expect(machine.nextDeadline == nil, "a paused schedule needs no timer")
        let ok2 = machine.pause(now: clock.now)
        #expect(!ok2, "pausing twice is refused")
        clock.advance(.seconds(100))
        #expect(machine.tick(now: clock.now).isEmpty)
        #expect(machine.elapsed(now: clock.now) == 6_000_000_000, "the schedule clock stood still")

        // 100 s paused: the for-clear due at 25s of schedule time is now at 125 s of wall time.
        #expect(machine.resume(now: clock.now).isEmpty)
        #expect(machine.nextDeadline == origin + 125_000_000_000)
        clock.advance(.milliseconds(18_999))
        #expect(machine.tick(now: clock.now).isEmpty)
        clock.advance(.milliseconds(1))
        #expect(describe(machine.tick(now: clock.now), origin: origin) == ["clear cut 0/0@25000ms(+125000) for"])
        #expect(machine.resume(now: clock.now).isEmpty, "resume only from paused")
    }

    @Test func repeatRunsTheStepsEveryIntervalAndTheTimelineIsOrdered() {
        let spec = ScheduleSpec(
            steps: [
                .init(at: .seconds(1), action: .apply(Self.cut), forDuration: .seconds(2)),
                .init(at: .seconds(3), action: .apply(Self.lag), forDuration: .seconds(1)),
            ],
            repeat: .init(every: .seconds(10), times: 3)
        )
        var clock = MockClock()
        let origin = clock.now
        var machine = ScheduleStateMachine(spec: spec)
        #expect(machine.timeline.count == 12)
        var log = describe(machine.start(now: clock.now), origin: origin)
        while machine.phase == .running {
            clock.now = machine.nextDeadline!
            log += describe(machine.tick(now: clock.now), origin: origin)
        }
        #expect(log == [
            "started(+0)",
            // The cut's for-clear at 3s comes before the lag applied at 3s: step order breaks ties.
            "apply cut 0/0@1000ms(+1000)", "clear cut 0/0@3000ms(+3000) for", "apply lag 1/0@3000ms(+3000)",
            "clear lag 1/0@4000ms(+4000) for",
            "apply cut 0/1@11000ms(+11000)", "clear cut 0/1@13000ms(+13000) for", "apply lag 1/1@13000ms(+13000)",
            "clear lag 1/1@14000ms(+14000) for",
            "apply cut 0/2@21000ms(+21000)", "clear cut 0/2@23000ms(+23000) for", "apply lag 1/2@23000ms(+23000)",
            "clear lag 1/2@24000ms(+24000) for", "finished",
        ])
        #expect(machine.stepsRun == 12)
    }

    @Test func aRepeatedApplyWithoutForReplacesItsOwnFault() {
        let spec = ScheduleSpec(steps: [.init(at: .seconds(1), action: .apply(Self.lag))], repeat: .init(every: .seconds(5), times: 2))
        var clock = MockClock()
        let origin = clock.now
        var machine = ScheduleStateMachine(spec: spec)
        _ = machine.start(now: clock.now)
        clock.advance(.seconds(7))
        #expect(describe(machine.tick(now: clock.now), origin: origin) == [
            "apply lag 0/0@1000ms(+1000)", "apply lag 0/1@6000ms(+6000) replacing", "finished",
        ])
        #expect(machine.applied == ["lag"])
    }

    @Test func stopReleasesWhatTheScheduleAppliedLatestFirstAndForgetsClearedFaults() {
        let spec = ScheduleSpec(steps: [
            .init(at: .seconds(1), action: .apply(Self.cut)),
            .init(at: .seconds(2), action: .apply(Self.lag)),
            .init(at: .seconds(3), action: .apply(FaultSpec(id: "third", kind: .stall)), forDuration: .seconds(10)),
            .init(at: .seconds(60), action: .clear("lag")),
        ])
        var clock = MockClock()
        var machine = ScheduleStateMachine(spec: spec)
        _ = machine.start(now: clock.now)
        clock.advance(.seconds(4))
        #expect(machine.tick(now: clock.now).count == 3)
        #expect(machine.applied == ["cut", "lag", "third"])
        machine.forget(id: "lag")  // cleared through the API meanwhile
        #expect(describe(machine.stop(), origin: clock.now) == ["release third", "release cut", "stopped"])
        #expect(machine.phase == .stopped)
        #expect(machine.applied.isEmpty)
        #expect(machine.nextDeadline == nil)
        #expect(machine.stop().isEmpty, "stopping twice does nothing")
        // Restart runs every step again from a fresh clock.
        let restart = clock.now
        #expect(describe(machine.start(now: restart), origin: restart) == ["started(+0)"])
        #expect(machine.stepsRun == 0)
        #expect(machine.nextDeadline == restart + 1_000_000_000)
    }

    @Test func stopAfterFinishingOnlyReleases() {
        var machine = ScheduleStateMachine(spec: ScheduleSpec(steps: [.init(at: .zero, action: .apply(Self.lag))]))
        _ = machine.start(now: 5)
        #expect(machine.phase == .finished)
        #expect(describe(machine.stop(), origin: 0) == ["release lag"])
    }

    @Test func retainForgetsFaultsNoLongerActive() {
        var machine = ScheduleStateMachine(spec: Self.example, applied: ["old", "cut"])
        machine.retain(active: ["cut", "other"])
        #expect(machine.applied == ["cut"])
    }

    @Test func aStartInstantWaitsThenStartsWithItsClockAtTheInstant() {
        var clock = MockClock()
        var machine = ScheduleStateMachine(spec: Self.example)
        let at = clock.now + 30_000_000_000
        let ok3 = machine.startAt(at)
        #expect(ok3)
        #expect(machine.phase == .waiting)
        #expect(machine.nextDeadline == at)
        let ok4 = machine.pause(now: clock.now)
        #expect(!ok4, "a waiting schedule cannot pause")
        clock.advance(.seconds(10))
        #expect(machine.tick(now: clock.now).isEmpty)
        // The timer fires 7 ms late: the clock still starts at the instant, so steps stay in step
        // with other hosts, and the first step is due 5 s after the instant.
        clock.now = at + 7_000_000
        #expect(describe(machine.tick(now: clock.now), origin: at) == ["started(+0)"])
        #expect(machine.nextDeadline == at + 5_000_000_000)
    }

    @Test func aStartInstantInThePastCatchesUp() {
        let clock = MockClock()
        var machine = ScheduleStateMachine(spec: Self.example)
        let at = clock.now - 26_000_000_000
        let ok5 = machine.startAt(at)
        #expect(ok5)
        #expect(describe(machine.tick(now: clock.now), origin: at) == [
            "started(+0)", "apply cut 0/0@5000ms(+5000)", "clear cut 0/0@25000ms(+25000) for",
        ])
        #expect(machine.nextDeadline == at + 30_000_000_000)
    }

    @Test func aManualStartOverridesAWaitingInstantAndStopEndsAWait() {
        var machine = ScheduleStateMachine(spec: Self.example)
        _ = machine.startAt(1_000_000_000_000_000)
        #expect(describe(machine.start(now: 10), origin: 10) == ["started(+0)"])
        var waiting = ScheduleStateMachine(spec: Self.example)
        _ = waiting.startAt(1_000_000_000_000_000)
        #expect(describe(waiting.stop(), origin: 0) == ["stopped"])
        #expect(waiting.nextDeadline == nil)
    }

    @Test func upcomingAndElapsedDescribeWhereTheScheduleIs() {
        var clock = MockClock()
        var machine = ScheduleStateMachine(spec: Self.example)
        #expect(machine.elapsed(now: clock.now) == nil)
        _ = machine.start(now: clock.now)
        #expect(machine.upcoming == ScheduleStateMachine.Entry(offset: 5_000_000_000, step: 0, iteration: 0, isForClear: false))
        clock.advance(.seconds(5))
        _ = machine.tick(now: clock.now)
        #expect(machine.upcoming == ScheduleStateMachine.Entry(offset: 25_000_000_000, step: 0, iteration: 0, isForClear: true))
        clock.advance(.milliseconds(1500))
        #expect(machine.elapsed(now: clock.now) == 6_500_000_000)
        #expect(!machine.start(now: clock.now).contains(.finished), "start while running does nothing")
        #expect(machine.stepsRun == 1)
    }

    /// What ends a fault: the pending `for` clear of the step that applied it, or a `clear` step;
    /// nothing before the apply has run, after the clear ran, or once stopped.
    @Test func pendingClearFindsWhatEndsAFault() {
        var clock = MockClock()
        var machine = ScheduleStateMachine(spec: Self.example)
        #expect(machine.pendingClear(of: "cut") == nil, "not started")
        _ = machine.start(now: clock.now)
        #expect(machine.pendingClear(of: "cut") == nil, "its apply comes first")
        #expect(machine.pendingClear(of: "lag") == nil)
        clock.advance(.seconds(5))
        _ = machine.tick(now: clock.now)
        #expect(machine.pendingClear(of: "cut") == ScheduleStateMachine.Entry(offset: 25_000_000_000, step: 0, iteration: 0, isForClear: true))
        clock.advance(.seconds(25))
        _ = machine.tick(now: clock.now)
        #expect(machine.pendingClear(of: "cut") == nil, "cleared by its for")
        #expect(machine.pendingClear(of: "lag") == ScheduleStateMachine.Entry(offset: 60_000_000_000, step: 2, iteration: 0, isForClear: false))
        let paused = machine.pause(now: clock.now)
        #expect(paused)
        #expect(machine.pendingClear(of: "lag")?.offset == 60_000_000_000, "paused: still pending")
        _ = machine.stop()
        #expect(machine.pendingClear(of: "lag") == nil)
    }
}
