import Foundation
import Numerics
import Testing
@testable import Flows

// MARK: - Events

@Suite("Event location")
struct EventTests {
    @Test("y = e^{−t} crosses 0.5 at ln 2", arguments: [Stepper.rk8pd, .rkf45, .msadams, .msbdf, .bsimp])
    func halfLife(stepper: Stepper) throws {
        let half = Event(name: "half", level: 0.5, direction: .down) { _, y in y[0] }
        let options = IntegratorOptions(stepper: stepper, rtol: 1e-10, atol: 1e-12)
        let traj = try integrate(decay(1), from: 0, y0: [1], to: 3, events: [half], options: options)
        try #require(traj.events.count == 1)
        let hit = traj.events[0]
        #expect(hit.name == "half" && hit.index == 0 && hit.direction == .down)
        #expect(hit.t.isApproximatelyEqual(to: Foundation.log(2), absoluteTolerance: 1e-8), "\(stepper): \(hit.t)")
        #expect(hit.y[0].isApproximatelyEqual(to: 0.5, absoluteTolerance: 1e-8))
        #expect(traj.finalTime == 3 && !traj.stoppedByEvent)
    }

    /// Backward from y(2) = e^{−2}, y grows: in the order of integration it crosses 0.5 upward at ln 2.
    @Test("events during backward integration")
    func backwardEvent() throws {
        let half = Event(name: "half", level: 0.5, direction: .up) { _, y in y[0] }
        let traj = try integrate(decay(1), from: 2, y0: [Foundation.exp(-2)], to: 0, events: [half],
                                 options: IntegratorOptions(rtol: 1e-10, atol: 1e-12))
        try #require(traj.events.count == 1)
        #expect(traj.events[0].direction == .up)
        #expect(traj.events[0].t.isApproximatelyEqual(to: Foundation.log(2), absoluteTolerance: 1e-8))
    }

    @Test("a direction filter ignores crossings the other way")
    func directionFilter() throws {
        let up = Event(name: "up", level: 0.5, direction: .up) { _, y in y[0] }
        let traj = try integrate(decay(1), from: 0, y0: [1], to: 3, events: [up])
        #expect(traj.events.isEmpty)
    }

    @Test("a terminal event ends the integration at the crossing")
    func terminal() throws {
        let half = Event(name: "half", level: 0.5, isTerminal: true) { _, y in y[0] }
        let traj = try integrate(decay(1), from: 0, y0: [1], to: 3, outputTimes: [0, 0.5, 1, 2], events: [half],
                                 options: IntegratorOptions(rtol: 1e-10, atol: 1e-12))
        #expect(traj.times == [0, 0.5])
        #expect(traj.stoppedByEvent)
        #expect(traj.finalTime.isApproximatelyEqual(to: Foundation.log(2), absoluteTolerance: 1e-9))
        #expect(traj.finalState[0].isApproximatelyEqual(to: 0.5, absoluteTolerance: 1e-9))
        #expect(traj.terminalEvent == traj.events.last)
    }

    /// g = (y − 0.6)(y − 0.55) along y = e^{−t}: down through 0 at ln(1/0.6), up at ln(1/0.55), 0.087
    /// apart; at rtol 1e-3 rk8pd takes one step over both, so the step ends see g > 0 twice.
    @Test("two crossings inside one accepted step are both found, the first one first")
    func doubleCrossingInOneStep() throws {
        let band = Event(name: "band") { _, y in (y[0] - 0.6) * (y[0] - 0.55) }
        let first = Foundation.log(1 / 0.6), second = Foundation.log(1 / 0.55)
        let options = IntegratorOptions(rtol: 1e-3, atol: 1e-6, recordStepTimes: true)
        let traj = try integrate(decay(1), from: 0, y0: [1], to: 2, events: [band], options: options)
        let spanning = zip(traj.stepTimes, traj.stepTimes.dropFirst()).contains { $0 < first && $1 > second }
        try #require(spanning, "no step spans both crossings: \(traj.stepTimes)")
        try #require(traj.events.count == 2, "\(traj.events)")
        #expect(traj.events[0].direction == .down && traj.events[1].direction == .up)
        // rk8pd at rtol 1e-3 is far more accurate than 1e-3 on this smooth problem.
        #expect(traj.events[0].t.isApproximatelyEqual(to: first, absoluteTolerance: 1e-6), "\(traj.events[0].t)")
        #expect(traj.events[1].t.isApproximatelyEqual(to: second, absoluteTolerance: 1e-6), "\(traj.events[1].t)")

        // Looking at step ends only (one sample per step) misses both: scipy issue 9228.
        var endsOnly = options
        endsOnly.eventSamplesPerStep = 1
        let blind = try integrate(decay(1), from: 0, y0: [1], to: 2, events: [band], options: endsOnly)
        #expect(blind.events.isEmpty)
    }

    /// x = cos 3t falls through 0.5 at (π/3 + 2πj)/3 and through 0.2 at (acos 0.2 + 2πj)/3, 0.107
    /// later; v = −3 sin 3t is 0 at πj/3. The events are listed latest-first, and at rtol 1e-6 one
    /// step holds both falls, so only sorting puts the hits in time order.
    @Test("hits of several events are reported in time order")
    func timeOrder() throws {
        let events = [
            Event(name: "v=0") { _, y in y[1] },
            Event(name: "x<0.2", level: 0.2, direction: .down) { _, y in y[0] },
            Event(name: "x<0.5", level: 0.5, direction: .down) { _, y in y[0] },
        ]
        let omega = 3.0, end = 4.0
        let options = IntegratorOptions(rtol: 1e-6, atol: 1e-9, recordStepTimes: true)
        let traj = try integrate(oscillator(omega), from: 0, y0: [1, 0], to: end, events: events, options: options)
        var expected: [(String, Double)] = []
        for j in 0..<10 {
            let turn = 2 * Double.pi * Double(j)
            expected.append(("x<0.5", (Double.pi / 3 + turn) / omega))
            expected.append(("x<0.2", (Foundation.acos(0.2) + turn) / omega))
            expected.append(("v=0", Double.pi * Double(j + 1) / omega))
        }
        expected = expected.filter { $0.1 < end }.sorted { $0.1 < $1.1 }
        let shared = zip(traj.stepTimes, traj.stepTimes.dropFirst()).contains { a, b in
            expected.filter { $0.1 > a && $0.1 < b }.count >= 2
        }
        try #require(shared, "no step holds two events: \(traj.stepTimes)")
        try #require(traj.events.count == expected.count, "\(traj.events.map { ($0.name, $0.t) })")
        for (hit, want) in zip(traj.events, expected) {
            #expect(hit.name == want.0)
            #expect(hit.t.isApproximatelyEqual(to: want.1, absoluteTolerance: 1e-6), "\(hit.name) \(hit.t) vs \(want.1)")
        }
    }

    @Test("Brent's method finds cos x = 0 at π/2 and returns an exact zero endpoint")
    func brent() {
        var calls = 0
        let root = findRoot(1, 2, Foundation.cos(1), Foundation.cos(2), tolerance: 1e-14) { x in
            calls += 1
            return Foundation.cos(x)
        }
        #expect(root.isApproximatelyEqual(to: Double.pi / 2, absoluteTolerance: 1e-13))
        #expect(calls < 20)
        #expect(findRoot(0, 1, -1, 0, tolerance: 1e-12) { _ in 1 } == 1)
    }
}
