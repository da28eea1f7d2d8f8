import Testing
@testable import DiscreteEvent

/// Records what it handles; at an arrival with `spawn` it schedules follow-ups at the same instant.
private struct Recorder: EventHandler {
    var log: [(SimInstant, String)] = []
    mutating func handle(_ event: String, at now: SimInstant, in simulation: inout Simulation<String>) {
        log.append((now, event))
        if event == "spawn" {
            // Scheduled later, but its phase comes first among what is still pending at `now`.
            simulation.schedule("spawned-completion", at: now, phase: .completion)
            simulation.schedule("spawned-pass", at: now, phase: .schedulingPass)
        }
    }
}

@Test func eventsAtTheSameInstantRunInPhaseOrder() {
    var sim = Simulation<String>()
    let t = SimInstant(nanoseconds: 1_000)
    sim.schedule("pass-1", at: t, phase: .schedulingPass)
    sim.schedule("completion-1", at: t, phase: .completion)
    sim.schedule("arrival-1", at: t, phase: .arrival)
    sim.schedule("pass-2", at: t, phase: .schedulingPass)
    sim.schedule("arrival-2", at: t, phase: .arrival)
    sim.schedule("early", at: SimInstant(nanoseconds: 999), phase: .schedulingPass)
    var recorder = Recorder()
    sim.run(handler: &recorder)
    #expect(recorder.log.map(\.1) == ["early", "arrival-1", "arrival-2", "completion-1", "pass-1", "pass-2"])
}

@Test func followUpEventsAtTheSameInstantKeepPhaseOrder() {
    var sim = Simulation<String>()
    let t = SimInstant(nanoseconds: 5)
    sim.schedule("later-pass", at: t, phase: .schedulingPass)
    sim.schedule("spawn", at: t, phase: .arrival)
    var recorder = Recorder()
    sim.run(handler: &recorder)
    #expect(recorder.log.map(\.1) == ["spawn", "spawned-completion", "later-pass", "spawned-pass"])
}

@Test func timeNeverGoesBackOverManyRandomEvents() {
    var sim = Simulation<Int>()
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    for i in 0..<5_000 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let time = SimInstant(nanoseconds: Int64(state >> 44))
        sim.schedule(i, at: time, phase: EventPhase.allCases[Int(state >> 62) % 3])
    }
    var previous: (Int64, UInt8) = (-1, 0)
    var count = 0
    while let (time, _) = sim.step() {
        #expect(time.nanoseconds >= previous.0)
        previous = (time.nanoseconds, 0)
        count += 1
    }
    #expect(count == 5_000)
    #expect(sim.eventsHandled == 5_000)
}

@Test func runUntilStopsBeforeLaterEventsAndKeepsThem() {
    var sim = Simulation<String>()
    sim.schedule("a", at: SimInstant(nanoseconds: 10), phase: .arrival)
    sim.schedule("b", at: SimInstant(nanoseconds: 20), phase: .arrival)
    var recorder = Recorder()
    let handled = sim.run(until: SimInstant(nanoseconds: 15), handler: &recorder)
    #expect(handled == 1)
    #expect(sim.now == SimInstant(nanoseconds: 10))
    #expect(sim.queue.count == 1)
    sim.run(handler: &recorder)
    #expect(recorder.log.map(\.1) == ["a", "b"])
}

@Test func durationsRoundUpToTheNextNanosecond() {
    #expect(SimDuration(secondsRoundingUp: 1.5e-9).nanoseconds == 2)
    #expect(SimDuration(secondsRoundingUp: 0).nanoseconds == 0)
    #expect((SimInstant(nanoseconds: 5) + SimDuration(nanoseconds: 7)) - SimInstant(nanoseconds: 2) == SimDuration(nanoseconds: 10))
}

@Test func popsEveryEventInKeyOrderWithInterleavedSchedules() {
    // Schedules and pops interleaved at random: each pop is the least pending key
    // (time, phase, rank, sequence), checked against a plain sorted list.
    var queue = EventQueue<Int>()
    var pending: [(Int64, UInt8, UInt32, Int)] = []
    var state: UInt64 = 42
    func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
    var scheduled = 0, popped = 0
    var now: Int64 = 0
    for _ in 0..<20_000 {
        if next() % 2 == 0 || pending.isEmpty {
            let time = now + Int64(next() % 50)
            let phase = EventPhase.allCases[Int(next() % 3)]
            let rank = UInt32(next() % 4)
            queue.schedule(scheduled, at: SimInstant(nanoseconds: time), phase: phase, rank: rank)
            pending.append((time, phase.rawValue, rank, scheduled))
            scheduled += 1
        } else {
            let least = pending.indices.min { a, b in
                let (x, y) = (pending[a], pending[b])
                return (x.0, x.1, x.2, x.3) < (y.0, y.1, y.2, y.3)
            }!
            let expected = pending.remove(at: least)
            let event = queue.popNext()!
            #expect(event.event == expected.3)
            now = event.time.nanoseconds
            popped += 1
        }
    }
    #expect(queue.count == pending.count)
    #expect(popped > 5_000)
}
