import Foundation
import Linalg
import Policies

/// One phase of a sampled schedule: a method run for a number of sampled steps.
public struct SampledPhase: Equatable, Sendable {
    public var method: SampledMethod
    public var steps: Int
    /// chord's SFT weight μ (ignored by the other methods).
    public var mix: Double

    /// The phase in spec syntax: `grpo:100`, `sft-sgd:50`, `reinforce:20`, `chord:0.3:100`.
    public var spec: String {
        method == .chord ? "chord:\(shortNumber(mix)):\(steps)" : "\(method.rawValue):\(steps)"
    }
}

/// A schedule of sampled phases, parsed from `grpo:STEPS,sft-sgd:STEPS,reinforce:STEPS,chord:MU:STEPS` and
/// `dft:STEPS`, `chord-phi:STEPS` (μ by CHORD's schedule, ``CHORDMuSchedule``), `luffy:STEPS`, `rloo:STEPS`.
public struct SampledSchedule: Equatable, Sendable {
    public var phases: [SampledPhase]

    /// The most steps of one phase (10¹²; a run is further bounded by `--max-steps`).
    public static let maxPhaseSteps = 1_000_000_000_000

    public init(parsing spec: String) throws {
        let items = spec.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var out: [SampledPhase] = []
        for (k, item) in items.enumerated() {
            func bad(_ s: String) -> ScheduleError { .badPhase(index: k + 1, text: item, problem: s) }
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard let method = SampledMethod(rawValue: parts[0].lowercased()) else {
                throw bad("unknown sampled phase '\(parts[0])'; write grpo:STEPS, sft-sgd:STEPS, reinforce:STEPS, chord:MU:STEPS, dft:STEPS, chord-phi:STEPS, luffy:STEPS or rloo:STEPS")
            }
            let want = method == .chord ? 3 : 2
            guard parts.count == want else {
                throw bad(method == .chord ? "chord takes the SFT weight and a step count: chord:MU:STEPS (e.g. chord:0.3:100)"
                                           : "\(method.rawValue) takes one whole number of steps: \(method.rawValue):STEPS")
            }
            guard let steps = Int(parts[want - 1]), steps >= 1 else { throw bad("the step count must be a whole number ≥ 1, got '\(parts[want - 1])'") }
            // Bounded so that the total over the phases cannot overflow (issue 24).
            guard steps <= SampledSchedule.maxPhaseSteps else { throw bad("the step count \(steps) is above the limit of \(SampledSchedule.maxPhaseSteps)") }
            var mix = 0.0
            if method == .chord {
                guard let m = Double(parts[1]), m >= 0, m <= 1 else { throw bad("the chord weight μ must be a number in [0, 1], got '\(parts[1])'") }
                mix = m
            }
            out.append(SampledPhase(method: method, steps: steps, mix: mix))
        }
        guard !out.isEmpty else { throw ScheduleError.empty }
        phases = out
    }

    /// Throws what building each phase's ``SampledAlgorithm`` on `instance` throws (a method the
    /// instance cannot run, options it does not take), before any step is run.
    public func checkPhases(instance: Instance, config: SampledConfig) throws {
        for ph in phases {
            var c = config
            c.method = ph.method; c.mix = ph.mix
            _ = try SampledAlgorithm(instance: instance, config: c)
        }
    }

    /// Whether a spec names sampled phases (its first phase's kind is a sampled method).
    public static func isSampled(_ spec: String) -> Bool {
        let first = spec.split(separator: ",").first.map { String($0.split(separator: ":").first ?? "").lowercased() } ?? ""
        return SampledMethod(rawValue: first) != nil
    }

    public var spec: String { phases.map(\.spec).joined(separator: ",") }
    public var totalSteps: Int { phases.reduce(0) { $0 + $1.steps } }
}

/// K seeded runs of a sampled schedule and, beside them, exact gradient steps of the same η and
/// length (each sampled step's μ optimiser steps matched by μ exact steps of the phase's field,
/// ``SampledMethod/exactKind(mix:)``, on the instance with β = β_kl).
public struct SampledRunResult: Sendable {
    public static let quantities: [(name: String, objective: Objective)] = [
        ("sft_loss", .sft), ("reward", .reward), ("reward_reg", .rewardRegularized),
        ("kl_policy_ref", .klPolicyRef), ("entropy", .entropy),
    ]
    public var schedule: SampledSchedule
    public var seeds: Int
    public var seed: UInt64
    /// Recorded step numbers (0 = start) and each row's phase label.
    public var steps: [Int]
    public var phaseLabels: [String]
    /// values[q][row][k]: quantity q at the row for seed run k.
    public var values: [[[Double]]]
    /// exact[q][row]: the exact gradient steps.
    public var exact: [[Double]]
    public var finalThetas: [[Double]]

    /// The p-quantile of v with linear interpolation between order statistics (NumPy's default):
    /// h = (n − 1)p, v₍⌊h⌋₎ + (h − ⌊h⌋)(v₍⌊h⌋+1₎ − v₍⌊h⌋₎).
    public static func quantile(_ v: [Double], _ p: Double) -> Double {
        let s = v.sorted()
        let h = Double(s.count - 1) * p
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (h - Double(lo)) * (s[hi] - s[lo])
    }
}

/// Runs K seeded copies of the schedule (run k draws from `SeededGenerator.derived(seed:index: k)`,
/// so the bytes do not depend on the thread count) and the exact gradient steps beside them.
/// Rows are recorded at step 0, every `every` steps and at every phase boundary.
public func runSampled(instance: Instance, schedule: SampledSchedule, config: SampledConfig, seeds: Int, seed: UInt64,
                       every: Int = 1, threads: Int = 2, progress: (@Sendable (Int) -> Void)? = nil) throws -> SampledRunResult {
    guard seeds >= 1 else { throw FlowError.invalid("--seeds must be ≥ 1, got \(seeds)") }
    guard every >= 1 else { throw FlowError.invalid("the recording interval must be ≥ 1, got \(every)") }
    let algos = try schedule.phases.map { ph -> SampledAlgorithm in
        var c = config
        c.method = ph.method
        c.mix = ph.mix
        if ph.method == .chordPhi, var m = c.muSchedule {
            if m.decay == 0 { m.decay = max(ph.steps - m.warmup, 1) }   // default: decay over the rest of the phase
            c.muSchedule = m
        } else { c.muSchedule = nil }
        return try SampledAlgorithm(instance: instance, config: c)
    }
    var recordList: [(step: Int, label: String)] = [(0, schedule.phases[0].spec)]
    var s = 0
    for ph in schedule.phases {
        for _ in 0..<ph.steps {
            s += 1
            if s % every == 0 { recordList.append((s, ph.spec)) }
        }
        if recordList.last!.step != s { recordList.append((s, ph.spec)) }
    }
    let record = recordList
    let recordIndex = Dictionary(uniqueKeysWithValues: record.enumerated().map { ($1.step, $0) })
    let qs = SampledRunResult.quantities
    let values: @Sendable ([Double]) -> [Double] = { theta in
        let pt = instance.point(theta)
        return qs.map { instance.value($0.objective, at: pt) }
    }

    // Exact gradient steps.
    var exactInstance = instance
    exactInstance.beta = algos[0].klCoefficient
    var exact = [[Double]](repeating: [Double](repeating: 0, count: record.count), count: qs.count)
    var theta = instance.start
    func store(_ row: Int, _ v: [Double], into m: inout [[Double]]) { for q in v.indices { m[q][row] = v[q] } }
    store(0, values(theta), into: &exact)
    s = 0
    for (k, ph) in schedule.phases.enumerated() {
        let flow = try ph.method.exactKind(mix: ph.mix).map { try PolicyFlow(instance: exactInstance, kind: $0) }
        for j in 0..<ph.steps {
            let mu = algos[k].scheduledMix(step: j)
            for _ in 0..<algos[k].config.innerIterations {
                let v = flow?.velocity(at: theta) ?? algos[k].targetDirection(theta: theta, mix: mu)
                for i in theta.indices { theta[i] += config.eta * v[i] }
            }
            s += 1
            if theta.contains(where: { !$0.isFinite }) { throw FlowError.diverged(phase: k, label: ph.spec, step: s, t: Double(s)) }
            if let r = recordIndex[s] { store(r, values(theta), into: &exact) }
        }
    }

    // K sampled runs, in parallel over seeds.
    let box = SlotBox<([[Double]], [Double])>(count: seeds)
    let failure = SlotBox<FlowError>(count: 1)
    let work: @Sendable (Int) -> Void = { k in
        var g = SeededGenerator.derived(seed: seed, index: UInt64(k))
        var th = instance.start
        var rows = [[Double]](repeating: [], count: record.count)
        rows[0] = values(th)
        var step = 0
        for (p, ph) in schedule.phases.enumerated() {
            var state = OptimizerState()
            for j in 0..<ph.steps {
                let v = algos[p].nodes.values(th)
                let batch = algos[p].sample(v, &g)
                th = algos[p].step(theta: th, batch: batch, state: &state, nodeValues: v, mix: algos[p].scheduledMix(step: j))
                step += 1
                if th.contains(where: { !$0.isFinite }) {
                    failure.set(0, .diverged(phase: p, label: ph.spec, step: step, t: Double(step)))
                    return
                }
                if let r = recordIndex[step] { rows[r] = values(th) }
            }
        }
        box.set(k, (rows, th))
        progress?(k)
    }
    if threads <= 1 || seeds == 1 {
        for k in 0..<seeds { work(k) }
    } else {
        DispatchQueue.concurrentPerform(iterations: seeds) { work($0) }
    }
    if let e = failure.values[0] { throw e }
    let runs = box.values.map { $0! }
    let vals = qs.indices.map { q in record.indices.map { r in runs.map { $0.0[r][q] } } }
    return SampledRunResult(schedule: schedule, seeds: seeds, seed: seed, steps: record.map(\.step), phaseLabels: record.map(\.label),
                            values: vals, exact: exact, finalThetas: runs.map(\.1))
}

/// Thread-safe slots for parallel results (each slot written once, by one worker).
final class SlotBox<T>: @unchecked Sendable {
    private var storage: [T?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ o: T) { lock.lock(); storage[i] = o; lock.unlock() }
    var values: [T?] { lock.lock(); defer { lock.unlock() }; return storage }
}
