import Foundation
import Linalg
import Numerics
import Policies
import Testing
@testable import Flows

@Suite("Schedules, events and gradient steps")
struct ScheduleTests {
    /// Durations that are each finite but overflow when added are refused (the flow saw t = NaN).
    @Test func totalDurationMustBeFinite() {
        #expect(throws: ScheduleError.totalOverflows) { try Schedule(parsing: "sft:1e308,rl:1e308") }
        #expect((try? Schedule(parsing: "sft:1e307,rl:1e307")) != nil)
    }

    @Test("good specs parse, with boundaries and labels")
    func goodSpecs() throws {
        let s = try Schedule(parsing: "sft:2,rl:5,sft:2")
        #expect(s.phases == [Phase(.sft, duration: 2), Phase(.rl, duration: 5), Phase(.sft, duration: 2)])
        #expect(s.boundaries == [0, 2, 7, 9])
        #expect(s.totalDuration == 9)
        #expect(s.spec == "sft:2,rl:5,sft:2")
        let m = try Schedule(parsing: " mix:0.3:4 , RL:0.5 ")
        #expect(m.phases == [Phase(.mix(mu: 0.3), duration: 4), Phase(.rl, duration: 0.5)])
        #expect(m.phases[0].kind.label == "mix(0.3)")
        #expect(try Schedule(parsing: m.spec) == m)
        #expect(try Schedule(parsing: "mix:0:1,mix:1:1e-3").phases.count == 2)
        // phase membership: a boundary belongs to the phase that ends there
        #expect(s.phaseIndex(at: 0) == 0)
        #expect(s.phaseIndex(at: 2) == 0)
        #expect(s.phaseIndex(at: 2.0001) == 1)
        #expect(s.phaseIndex(at: 9) == 2)
    }

    @Test("bad specs are refused with the phase, its text and what to write", arguments: [
        ("", "the schedule is empty"),
        ("sft:2,rl:x", "phase 2 'rl:x': duration must be a positive number"),
        ("sft:0", "phase 1 'sft:0': duration must be a positive number"),
        ("sft:-1", "phase 1 'sft:-1': duration must be a positive number"),
        ("rl:inf", "phase 1 'rl:inf': duration must be a positive number"),
        ("sft:2,", "phase 2 '': is empty"),
        ("grpo:3", "phase 1 'grpo:3': unknown phase kind 'grpo'"),
        ("sft", "phase 1 'sft': sft takes one number"),
        ("rl:1:2", "phase 1 'rl:1:2': rl takes one number"),
        ("mix:0.3", "phase 1 'mix:0.3': mix takes two numbers"),
        ("mix:1.5:2", "phase 1 'mix:1.5:2': the mixture weight μ must be in [0, 1]"),
        ("mix:a:2", "phase 1 'mix:a:2': the mixture weight μ must be a number"),
    ])
    func badSpecs(spec: String, message: String) {
        do {
            _ = try Schedule(parsing: spec)
            Issue.record("'\(spec)' parsed")
        } catch {
            #expect("\(error)".hasPrefix(message), "\(error)")
        }
    }

    @Test("output times: evenly spaced samples plus every boundary, no near-duplicates")
    func outputTimes() throws {
        let s = try Schedule(parsing: "sft:0.1,rl:0.2,sft:0.7")  // 0.1 + 0.2 ≠ 0.3 in binary
        let t = s.outputTimes(samples: 11)
        #expect(t.first == 0 && t.last == s.totalDuration)
        #expect(t.count == 11)  // 0.1·k grid hits both boundaries up to rounding
        for b in s.boundaries { #expect(t.contains(b)) }
        #expect(zip(t, t.dropFirst()).allSatisfy { $0 < $1 })
        let u = try Schedule(parsing: "sft:1,rl:1.5").outputTimes(samples: 3)  // 0, 1.25, 2.5 + boundary 1
        #expect(u == [0, 1, 1.25, 2.5])
    }

    @Test("rows carry the phase of their time; boundaries close the phase that ends there")
    func rowsPhases() throws {
        let inst = try PFFixture.threeResponse()
        let run = try runFlow(instance: inst, schedule: try Schedule(parsing: "sft:2,rl:5,sft:2"), samples: 10)
        #expect(run.rows.map(\.t) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(run.rows.map(\.phaseIndex) == [0, 0, 0, 1, 1, 1, 1, 1, 2, 2])
        #expect(run.rows.map(\.phase) == ["sft", "sft", "sft", "rl", "rl", "rl", "rl", "rl", "sft", "sft"])
        #expect(run.phaseStats.count == 3)
        #expect(run.stats.accepted == run.phaseStats.map(\.accepted).reduce(0, +))
    }

    @Test("an event is located inside a step, at the closed-form crossing time, with its phase")
    func eventInsideStep() throws {
        // Two responses, β = 0, RL: J = r₁σ(Δ) + r₂(1−σ(Δ)) reaches J* when σ(Δ) = (J*−r₂)/(r₁−r₂).
        let inst = try PFFixture.twoResponse(beta: 0, data: [0.5, 0.5], reward: [1, -0.5], start: [0.2, 0.8])
        let level = 0.6
        let sig = (level + 0.5) / 1.5
        let deltaStar = Foundation.log(sig / (1 - sig))
        // sinh Δ + Δ = sinh Δ₀ + Δ₀ + (r₁−r₂)t, so t* = (sinh Δ* + Δ* − sinh Δ₀ − Δ₀)/1.5; the SFT phase first lasts 0.5.
        let sft = try runFlow(instance: inst, schedule: try Schedule(parsing: "sft:0.5"), samples: 2, options: PFFixture.tight())
        let d1 = sft.finalTheta[0] - sft.finalTheta[1]
        let tStar = 0.5 + (Foundation.sinh(deltaStar) + deltaStar - Foundation.sinh(d1) - d1) / 1.5
        let ev = LevelEvent(.reward, level: level)
        let options = IntegratorOptions(stepper: .rk8pd, rtol: 1e-12, atol: 1e-13)
        let run = try runFlow(instance: inst, schedule: try Schedule(parsing: "sft:0.5,rl:6"), samples: 3, events: [ev], options: options)
        let hit = try #require(run.hit(for: ev))
        #expect(hit.t.isApproximatelyEqual(to: tStar, absoluteTolerance: 1e-9), "hit \(hit.t), exact \(tStar)")
        #expect(hit.phaseIndex == 1 && hit.phase == "rl")
        #expect(hit.direction == .up)
        #expect(!run.rows.map(\.t).contains(hit.t))  // not an output time: found inside a step
        // An event never met is reported as such.
        let never = LevelEvent(.reward, level: 5)
        let r2 = try runFlow(instance: inst, schedule: try Schedule(parsing: "rl:1"), samples: 2, events: [never])
        #expect(r2.hits.isEmpty)
    }

    @Test("event specs parse and bad ones are refused")
    func eventSpecs() throws {
        #expect(try LevelEvent(parsing: "sft_loss=1.2") == LevelEvent(.sftLoss, level: 1.2))
        #expect(try LevelEvent(parsing: "cos_sft_rl=-0.5") == LevelEvent(.cosSFTRL, level: -0.5))
        for (bad, msg) in [("sft_loss", "write QUANTITY=LEVEL"), ("loss=1", "unknown quantity 'loss'"), ("reward=abc", "the level must be a finite number")] {
            #expect(throws: FlowError.self) { try LevelEvent(parsing: bad) }
            do { _ = try LevelEvent(parsing: bad) } catch { #expect("\(error)".contains(msg), "\(error)") }
        }
    }

    @Test("integration failures are errors naming the phase, not crashes")
    func integrationFailure() throws {
        let inst = try PFFixture.threeResponse()
        var options = IntegratorOptions()
        options.maxSteps = 3
        do {
            _ = try runFlow(instance: inst, schedule: try Schedule(parsing: "sft:1,rl:50"), samples: 5, options: options)
            Issue.record("no error")
        } catch let e as FlowError {
            guard case let .integration(phase, _, _, _, error) = e, case let .tooManySteps(_, limit) = error else {
                Issue.record("unexpected \(e)"); return
            }
            #expect(limit == 3)
            #expect(phase <= 1)
            #expect("\(e)".contains("raise --max-steps"))
        }
        // The step limit is over the whole schedule, not per phase: a limit that each phase
        // alone respects, but their sum exceeds, stops the run.
        let schedule = try Schedule(parsing: "sft:2,rl:5,sft:2")
        let full = try runFlow(instance: inst, schedule: schedule, samples: 2)
        let perPhase = full.phaseStats.map(\.accepted).max()!
        #expect(full.stats.accepted > perPhase)
        options.maxSteps = perPhase
        #expect(throws: FlowError.self) { try runFlow(instance: inst, schedule: schedule, samples: 2, options: options) }
        options.maxSteps = full.stats.accepted
        #expect(try runFlow(instance: inst, schedule: schedule, samples: 2, options: options).stats == full.stats)
        // A zero start probability is refused before integrating.
        let zero = try PFFixture.twoResponse(beta: 0, data: [0.5, 0.5], reward: [1, 0], start: [1, 0])
        #expect(throws: InstanceError.self) { try runFlow(instance: zero, schedule: try Schedule(parsing: "rl:1")) }
    }

    @Test("gradient steps with small η approach the flow, with error O(η)")
    func gradientStepsApproachFlow() throws {
        let inst = try PFFixture.twoPrompt()
        let schedule = try Schedule(parsing: "sft:1,rl:2,mix:0.4:1")
        let flow = try runFlow(instance: inst, schedule: schedule, samples: 5, options: PFFixture.tight())
        var errors: [Double] = []
        for eta in [0.01, 0.005, 0.0025] {
            let gd = try runGradientSteps(instance: inst, schedule: schedule, eta: eta, samples: 5)
            #expect(gd.stepsPerPhase == [1, 2, 1].map { Int((Double($0) / eta).rounded()) })
            #expect(gd.rows.map(\.phaseIndex) == flow.rows.map(\.phaseIndex))
            for (a, b) in zip(gd.rows, flow.rows) { #expect(a.t.isApproximatelyEqual(to: b.t, absoluteTolerance: 1e-12)) }
            errors.append(norm(axpy(gd.finalTheta, -1, flow.finalTheta)))
        }
        #expect(errors[2] < 0.02, "\(errors)")
        for k in 1..<errors.count {
            let ratio = errors[k - 1] / errors[k]
            #expect(ratio > 1.8 && ratio < 2.2, "halving η should halve the error: \(errors)")
        }
    }

    @Test("gradient steps: whole numbers of steps per phase, events at the first step past the level")
    func gradientStepsDetails() throws {
        let inst = try PFFixture.threeResponse()
        let schedule = try Schedule(parsing: "sft:2,rl:5,sft:2")
        #expect(try stepsPerPhase(schedule, eta: 0.1) == [20, 50, 20])
        #expect(throws: FlowError.self) { try stepsPerPhase(schedule, eta: 0.3) }
        #expect(throws: FlowError.self) { try stepsPerPhase(schedule, eta: 0) }
        do { _ = try stepsPerPhase(schedule, eta: 0.3) } catch { #expect("\(error)".hasPrefix("phase 1 'sft:2': duration 2 is not a whole number of steps")) }
        let reward0 = TraceQuantity.reward.value(inst, at: inst.start)
        let ev = LevelEvent(.reward, level: reward0 + 0.05)
        let run = try runGradientSteps(instance: inst, schedule: schedule, eta: 0.1, samples: 10, events: [ev])
        #expect(run.rows.compactMap(\.step) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90])
        let hit = try #require(run.hit(for: ev))
        let s = try #require(hit.step)
        #expect(hit.phase == "rl" && hit.t.isApproximatelyEqual(to: Double(s) * 0.1))
        // Reproduce by hand: the reward is below the level after s−1 steps, at or above after s.
        let flow = try PolicyFlow(instance: inst, kind: .rl)
        let sft = try PolicyFlow(instance: inst, kind: .sft)
        var theta = inst.start
        for k in 1...s {
            let v = k <= 20 ? sft.velocity(at: theta) : flow.velocity(at: theta)
            for i in theta.indices { theta[i] += 0.1 * v[i] }
            let j = TraceQuantity.reward.value(inst, at: theta)
            if k < s { #expect((j - ev.level) * (reward0 - ev.level) > 0, "crossed early at step \(k)") } else { #expect(j >= ev.level) }
        }
    }
}
