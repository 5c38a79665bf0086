import Foundation
import Testing
import Linalg
import Policies
@testable import Flows

/// The 2025–26 methods as sampled algorithms (dft, chord-phi, luffy, rloo; TRL's loss types bnpo,
/// cispo, sapo; GSPO's sequence ratio; sampling temperature): exact expected updates against an
/// independent enumeration written here (ordered sample tuples, tabular scores e_y − p by hand,
/// every method's token derivative by hand), and the known facts between them.
@Suite struct PracticalSampledTests {
    /// A configuration with two inner iterations (ratios ≠ 1 on the second) and small groups.
    static func config(_ m: SampledMethod, _ edit: (inout SampledConfig) -> Void = { _ in }) -> SampledConfig {
        var c = SampledConfig(method: m)
        c.groupSize = 2; c.batchSize = 2; c.eta = 0.7; c.innerIterations = 2; c.epsilon = 0.1; c.klCoefficient = 0.3
        c.mix = 0.35
        edit(&c)
        return c
    }

    static let cases: [(String, SampledConfig)] = [
        ("dft", config(.dft)),
        ("chord-phi", config(.chordPhi)),
        ("chord-phi none", config(.chordPhi) { $0.scaling = .none; $0.klEstimator = .k2 }),
        ("luffy", config(.luffy)),
        ("luffy dapo γ", config(.luffy) { $0.aggregation = .dapo; $0.luffyGamma = 0.3; $0.klCoefficient = 0 }),
        ("rloo", config(.rloo) { $0.groupSize = 3 }),
        ("grpo bnpo", config(.grpo) { $0.aggregation = .bnpo; $0.scaling = .batch }),
        ("grpo cispo", config(.grpo) { $0.aggregation = .cispo }),
        ("grpo cispo ε_high 5", config(.grpo) { $0.aggregation = .cispo; $0.epsilonHigh = 5 }),
        ("grpo sapo", config(.grpo) { $0.aggregation = .sapo; $0.sapo = SAPOTemperatures(positive: 0.8, negative: 2) }),
        ("grpo T 0.6", config(.grpo) { $0.temperature = 0.6 }),
        ("rloo T 2", config(.rloo) { $0.temperature = 2; $0.groupSize = 2 }),
        ("luffy T 1.5 sapo", config(.luffy) { $0.temperature = 1.5; $0.aggregation = .sapo }),
    ]

    @Test(arguments: 0..<cases.count)
    func matchesIndependentEnumeration(_ i: Int) throws {
        let (name, c) = Self.cases[i]
        let inst = try SFixture.tabular(beta: 0.3)
        let d = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start)
        let ref = Self.independent(inst, c)
        let err = zip(d.expectedUpdate, ref).map { abs($0 - $1) }.max()!
        #expect(err <= 1e-10, "\(name): largest difference \(err)")
        #expect(ref.map(abs).max()! > 1e-3, "\(name): the update must not vanish")
    }

    /// Two prompts of the tabular fixture (θ = logits), every ordered tuple of G policy samples (from
    /// p^{1/T}) and B data samples per prompt, one SGD step per inner iteration of the loss written
    /// here, averaged with the tuple's probability.
    static func independent(_ inst: Instance, _ c: SampledConfig) -> [Double] {
        let sizes = inst.responseCounts, q = inst.weights, G = c.groupSize, B = c.batchSize
        let beta = c.klCoefficient ?? inst.beta
        let m = c.method
        let usesRL = m != .dft, usesData = [.dft, .chordPhi, .luffy].contains(m)
        var offsets = [0]; for n in sizes { offsets.append(offsets.last! + n) }
        func softmax(_ z: [Double]) -> [Double] { let mx = z.max()!; let e = z.map { exp($0 - mx) }; let s = e.reduce(0, +); return e.map { $0 / s } }
        func probs(_ th: [Double], _ x: Int) -> [Double] { softmax(Array(th[offsets[x]..<offsets[x + 1]])) }
        func tuples(_ n: Int, _ k: Int) -> [[Int]] { (0..<k).reduce([[]]) { acc, _ in acc.flatMap { t in (0..<n).map { t + [$0] } } } }
        func std(_ v: [Double]) -> Double { let mu = v.reduce(0, +) / Double(v.count); return sqrt(v.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(v.count - 1)) }
        func kPrime(_ d: Double) -> Double {
            switch c.klEstimator { case .k1: return 1; case .k2: return d; case .k3: return 1 - exp(-d) }
        }
        let theta0 = inst.start
        let p0 = (0..<2).map { probs(theta0, $0) }
        let ps = p0.map { p -> [Double] in let w = p.map { pow($0, 1 / c.temperature) }; let s = w.reduce(0, +); return w.map { $0 / s } }
        let rlT = usesRL ? (0..<2).map { tuples(sizes[$0], G) } : [[[]], [[]]]
        let dataT = usesData ? (0..<2).map { tuples(sizes[$0], B) } : [[[]], [[]]]
        let eHigh = c.epsilonHigh ?? c.epsilon
        var mean = [Double](repeating: 0, count: theta0.count)
        for r0 in rlT[0] { for r1 in rlT[1] { for d0 in dataT[0] { for d1 in dataT[1] {
            let rl = [r0, r1], data = [d0, d1]
            var prob = 1.0
            for x in 0..<2 { for y in rl[x] { prob *= ps[x][y] }; for y in data[x] { prob *= inst.data[x][y] } }
            if prob == 0 { continue }
            // Group members (LUFFY: the data samples join the group), rewards, advantages.
            let members = (0..<2).map { m == .luffy ? rl[$0] + data[$0] : rl[$0] }
            let rewards = (0..<2).map { x in members[x].map { inst.reward[x][$0] } }
            let all = Array(rewards.joined())
            let adv = rewards.map { r -> [Double] in
                let mu = r.reduce(0, +) / Double(r.count)
                switch c.scaling { case .none: return r.map { $0 - mu }
                case .group: return r.map { ($0 - mu) / (std(r) + 1e-4) }
                case .batch: return r.map { ($0 - mu) / (std(all) + 1e-4) } }
            }
            let total = (0..<2).map { q[$0] * Double(members[$0].count) }.reduce(0, +)
            var th = theta0
            for _ in 0..<c.innerIterations {
                var grad = [Double](repeating: 0, count: th.count)
                for x in 0..<2 {
                    let p = probs(th, x)
                    func addScore(_ y: Int, _ coef: Double) { for k in 0..<sizes[x] { grad[offsets[x] + k] += coef * ((k == y ? 1 : 0) - p[k]) } }
                    let mu = c.mix
                    if m == .grpo || m == .chordPhi || m == .luffy {
                        let n = Double(members[x].count)
                        let w = [.dapo, .bnpo, .cispo].contains(c.aggregation) ? q[x] / total : q[x] / n
                        let scale = m == .chordPhi ? 1 - mu : 1
                        for (i, y) in members[x].enumerated() {
                            let a = adv[x][i]
                            var dl: Double
                            if i < G {
                                let rho = p[y] / p0[x][y]
                                switch c.aggregation {
                                case .cispo: dl = -min(rho, eHigh) * a
                                case .sapo:
                                    let tau = a > 0 ? c.sapo.positive : c.sapo.negative
                                    let s = 1 / (1 + exp(-tau * (rho - 1)))
                                    dl = -4 * s * (1 - s) * rho * a
                                default:
                                    let unclipped = a > 0 ? rho <= 1 + eHigh : (a < 0 ? rho >= 1 - c.epsilon : true)
                                    dl = unclipped ? -rho * a : 0
                                }
                                if beta > 0 { dl += beta * kPrime(log(p[y]) - log(inst.reference[x][y])) }
                                dl *= scale
                            } else {
                                // LUFFY's off-policy token: −A·f(π), f = π/(π + γ); d/dlog π = γπ/(π + γ)².
                                let g = c.luffyGamma
                                dl = -a * g * p[y] / ((p[y] + g) * (p[y] + g))
                            }
                            addScore(y, w * dl)
                        }
                    }
                    if m == .rloo {
                        let a = rl[x].map { inst.reward[x][$0] - beta * (log(p0[x][$0]) - log(inst.reference[x][$0])) }
                        let s = a.reduce(0, +)
                        for (i, y) in rl[x].enumerated() { addScore(y, -q[x] / Double(G) * (a[i] - (s - a[i]) / Double(G - 1))) }
                    }
                    if m == .dft || m == .chordPhi {
                        let scale = m == .chordPhi ? mu : 1
                        for y in data[x] {
                            let w = m == .dft ? p[y] : p[y] * (1 - p[y])
                            addScore(y, -scale * q[x] / Double(B) * w)
                        }
                    }
                }
                for k in th.indices { th[k] -= c.eta * grad[k] }
            }
            for k in th.indices { mean[k] += prob * (th[k] - theta0[k]) }
        } } } }
        return mean
    }

    /// Known facts, exactly: SAPO's gate has slope 1 at ratio 1, so its first on-policy step is
    /// GRPO's; CISPO with TRL's default ε_high = ε = 0.2 weights every on-policy token by 0.2; RLOO is
    /// unbiased for ∇J_β; DFT's minibatch step is its exact expected direction (``PracticalUpdate``).
    @Test func knownFactsAtRatioOne() throws {
        for inst in SFixture.all {
            func update(_ m: SampledMethod, _ edit: (inout SampledConfig) -> Void = { _ in }) throws -> UpdateDistribution {
                var c = SampledConfig(method: m)
                c.groupSize = 2; c.batchSize = 2; c.eta = 1; c.klCoefficient = 0; c.scaling = .none
                edit(&c)
                return try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start)
            }
            func diff(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max()! }
            let grpo = try update(.grpo).expectedUpdate
            #expect(diff(try update(.grpo) { $0.aggregation = .sapo }.expectedUpdate, grpo) <= 1e-13, "SAPO ≠ GRPO at ratio 1")
            let dapo = try update(.grpo) { $0.aggregation = .dapo }.expectedUpdate
            #expect(diff(try update(.grpo) { $0.aggregation = .cispo }.expectedUpdate, dapo.map { 0.2 * $0 }) <= 1e-13, "CISPO ≠ 0.2·DAPO")
            #expect(diff(try update(.grpo) { $0.aggregation = .bnpo }.expectedUpdate, dapo) <= 1e-15, "bnpo ≠ dapo on one process")
            let rloo = try update(.rloo) { $0.groupSize = 3; $0.klCoefficient = 0.4 }
            #expect(rloo.biasNorm <= 1e-12 * max(1, rloo.gradientNorm), "RLOO biased: \(rloo.biasNorm)")
            let dft = try update(.dft)
            let exact = try PracticalUpdate(instance: inst, settings: PracticalSettings(method: .dft)).direction(inst.start)
            #expect(diff(dft.expectedUpdate, exact) <= 1e-13 && dft.biasNorm <= 1e-13, "DFT's step is not its expected direction")
            let phi = try update(.chordPhi) { $0.mix = 1 }
            let phiExact = try PracticalUpdate(instance: inst, settings: PracticalSettings(method: .chordPhi)).direction(inst.start)
            #expect(diff(phi.expectedUpdate, phiExact) <= 1e-13, "chord-phi at μ = 1 is not φ-SFT's expected direction")
            // Temperature 1 is the untempered sampler; another temperature moves the update.
            #expect(diff(try update(.grpo) { $0.temperature = 1 }.expectedUpdate, grpo) == 0)
            #expect(diff(try update(.grpo) { $0.temperature = 0.5 }.expectedUpdate, grpo) > 1e-4)
        }
    }

    /// GSPO: the sequence-level ratio exp(mean_t(lp_t − old_t)) gives the token-level first step
    /// (ratio 1) on autoregressive instances, for every aggregation; at ratios ≠ 1 (two inner
    /// iterations) the two differ.
    @Test func gspoSequenceRatioFirstStep() throws {
        let inst = try SFixture.autoregressive()
        for agg in [LossAggregation.grpo, .dapo, .drGRPO, .sapo] {
            var c = Self.config(.grpo) { $0.aggregation = agg; $0.innerIterations = 1; $0.epsilon = 0.05; $0.eta = 2 }
            let token = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start).expectedUpdate
            c.importanceSampling = .sequence
            let seq = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start).expectedUpdate
            #expect(zip(token, seq).map { abs($0 - $1) }.max()! <= 1e-13, "\(agg)")
            c.innerIterations = 3
            let seq3 = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start).expectedUpdate
            c.importanceSampling = .token
            let tok3 = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start).expectedUpdate
            #expect(zip(tok3, seq3).map { abs($0 - $1) }.max()! > 1e-6, "\(agg): sequence and token ratios coincide off ratio 1")
        }
    }

    /// On an autoregressive instance the loss gradient of a fixed batch equals central differences of
    /// each new method's loss written here from per-token log-probabilities (weights sg(·) held at θ's
    /// values by evaluating them at the unperturbed θ), ratios ≠ 1.
    @Test func autoregressiveGradientsMatchFiniteDifferences() throws {
        let inst = try SFixture.autoregressive()
        guard case let .autoregressive(tree, _) = inst.policy else { return }
        let batch = SampledBatch(rl: [[0, 3, 5, 6]], sft: [[1, 4, 5]])
        let variants: [(String, SampledConfig)] = [
            ("dft", Self.config(.dft) { $0.batchSize = 3 }),
            ("chord-phi dapo", Self.config(.chordPhi) { $0.groupSize = 4; $0.batchSize = 3; $0.aggregation = .dapo }),
            ("luffy grpo", Self.config(.luffy) { $0.groupSize = 4; $0.batchSize = 3 }),
            ("luffy dapo", Self.config(.luffy) { $0.groupSize = 4; $0.batchSize = 3; $0.aggregation = .dapo }),
            ("cispo", Self.config(.grpo) { $0.groupSize = 4; $0.aggregation = .cispo; $0.epsilonHigh = 1.02 }),
            ("sapo", Self.config(.grpo) { $0.groupSize = 4; $0.aggregation = .sapo }),
            ("gspo", Self.config(.grpo) { $0.groupSize = 4; $0.importanceSampling = .sequence; $0.epsilon = 0.02 }),
            ("rloo", Self.config(.rloo) { $0.groupSize = 4 }),
        ]
        func nodeLog(_ th: [Double], _ n: Int, _ c: Int) -> Double {
            let z = Array(th[(n * 3)..<(n * 3 + 3)]); let m = z.max()!
            return z[c] - m - log(z.map { exp($0 - m) }.reduce(0, +))
        }
        func tokens(_ y: Int) -> [(Int, Int)] { (tree.pathStart[y]..<tree.pathStart[y + 1]).map { (tree.pathNodes[$0], tree.pathChoices[$0]) } }
        let refLogits = tree.logits(ofSequenceDistribution: inst.reference[0])
        var theta = inst.start
        for k in theta.indices { theta[k] += 0.03 * sin(Double(k) * 1.7) }
        for (name, c) in variants {
            let algo = try SampledAlgorithm(instance: inst, config: c)
            let old = algo.nodes.nodeLogProbs(inst.start)
            let adv = algo.advantages(batch, old: old)
            let m = c.method, beta = c.klCoefficient!
            func loss(_ th: [Double]) -> Double {
                var out = 0.0
                if m == .grpo || m == .chordPhi || m == .luffy {
                    let members = m == .luffy ? batch.rl[0] + batch.sft[0] : batch.rl[0]
                    let totalT = Double(members.map { tokens($0).count }.reduce(0, +))
                    for (i, y) in members.enumerated() {
                        let a = adv[0][i], toks = tokens(y)
                        let seqLR = toks.map { nodeLog(th, $0.0, $0.1) - nodeLog(inst.start, $0.0, $0.1) }.reduce(0, +) / Double(toks.count)
                        var s = 0.0
                        for (n, ch) in toks {
                            let lp = nodeLog(th, n, ch), o = nodeLog(inst.start, n, ch), r = nodeLog(refLogits, n, ch)
                            if i >= batch.rl[0].count {
                                let p = exp(lp)   // LUFFY's off-policy token: −A·π/(π + γ), differentiated through π
                                s += -a * p / (p + c.luffyGamma)
                                continue
                            }
                            let rho = exp(c.importanceSampling == .sequence ? seqLR : lp - o)
                            switch c.aggregation {
                            case .cispo: s += -min(exp(nodeLog(theta, n, ch) - o), c.epsilonHigh!) * a * lp
                            case .sapo:
                                let tau = a > 0 ? c.sapo.positive : c.sapo.negative
                                s += -(4 / tau) / (1 + exp(-tau * (rho - 1))) * a
                            default: s += -min(rho * a, min(max(rho, 1 - c.epsilon), 1 + (c.epsilonHigh ?? c.epsilon)) * a)
                            }
                            s += beta * c.klEstimator.value(lp - r)
                        }
                        let w: Double
                        switch c.aggregation {
                        case .dapo, .bnpo, .cispo: w = 1 / totalT
                        default: w = 1 / Double(toks.count) / Double(members.count)
                        }
                        out += (m == .chordPhi ? 1 - c.mix : 1) * w * s
                    }
                }
                if m == .rloo {
                    let a = batch.rl[0].map { y in inst.reward[0][y] - beta * tokens(y).map { nodeLog(inst.start, $0.0, $0.1) - nodeLog(refLogits, $0.0, $0.1) }.reduce(0, +) }
                    let s = a.reduce(0, +), g = Double(a.count)
                    for (i, y) in batch.rl[0].enumerated() {
                        out -= (a[i] - (s - a[i]) / (g - 1)) / g * tokens(y).map { nodeLog(th, $0.0, $0.1) }.reduce(0, +)
                    }
                }
                if m == .dft || m == .chordPhi {
                    for y in batch.sft[0] {
                        for (n, ch) in tokens(y) {
                            let p = exp(nodeLog(theta, n, ch))   // sg(w(π)) at θ
                            out -= (m == .chordPhi ? c.mix : 1) / Double(c.batchSize) * (m == .dft ? p : p * (1 - p)) * nodeLog(th, n, ch)
                        }
                    }
                }
                return out
            }
            let g = algo.lossGradient(theta: theta, old: old, batch: batch, advantages: adv)
            let h = 1e-6
            let fd = theta.indices.map { k -> Double in
                var a = theta, b = theta; a[k] += h; b[k] -= h
                return (loss(a) - loss(b)) / (2 * h)
            }
            #expect(zip(g, fd).map { abs($0 - $1) }.max()! <= 1e-7, "\(name)")
            #expect(g.map(abs).max()! > 1e-3, "\(name): zero gradient")
        }
    }

    /// CHORD's μ schedule at its landmarks, LUFFY's shaping derivative against central differences.
    @Test func muScheduleAndLUFFYWeight() {
        let s = CHORDMuSchedule(peak: 0.8, valley: 0.1, warmup: 4, decay: 10)
        #expect(s.mu(step: 0) == 0 && abs(s.mu(step: 2) - 0.4) < 1e-15 && abs(s.mu(step: 4) - 0.8) < 1e-15)
        #expect(abs(s.mu(step: 9) - 0.45) < 1e-15 && s.mu(step: 14) == 0.1 && s.mu(step: 1000) == 0.1)
        #expect(s.mu(step: 5) < s.mu(step: 4) && s.mu(step: 13) > 0.1)
        let f = LUFFYWeight()
        for p in [1e-4, 0.05, 0.1, 0.5, 0.99] {
            let h = 1e-6
            let fd = (f.value(p * exp(h)) - f.value(p * exp(-h))) / (2 * h)
            #expect(abs(f.dLogp(p) - fd) <= 1e-8, "f′ at \(p)")
        }
        #expect(abs(f.value(0.1) - 0.5) < 1e-15)
    }

    /// The new phases in `sftrl flow`: the same seed gives the same bytes on one thread or two; the
    /// exact curve beside dft is gradient steps along DFT's expected direction and beside chord-phi
    /// along (1 − μ_s)∇J_β + μ_s·(φ-SFT's direction) with CHORD's scheduled μ_s, both recomputed here.
    @Test func flowPhasesDeterministicWithTheirExactCurves() throws {
        let inst = try SFixture.tabular(beta: 0.3)
        var c = SampledConfig(method: .dft)
        c.eta = 0.2; c.groupSize = 3; c.batchSize = 2; c.temperature = 0.8; c.aggregation = .sapo
        c.muSchedule = CHORDMuSchedule(peak: 0.8, valley: 0.1, warmup: 2, decay: 0)
        let s = try SampledSchedule(parsing: "dft:3,chord-phi:6,luffy:2,rloo:2")
        let a = try runSampled(instance: inst, schedule: s, config: c, seeds: 4, seed: 5, threads: 1)
        let b = try runSampled(instance: inst, schedule: s, config: c, seeds: 4, seed: 5, threads: 2)
        #expect(a.values == b.values && a.finalThetas == b.finalThetas && a.steps.last == 13)
        // The exact steps of the first 9 steps, by hand.
        let u = { (m: PracticalMethod) in try PracticalUpdate(instance: inst, settings: PracticalSettings(method: m)) }
        var theta = inst.start
        for _ in 0..<3 { let v = try u(.dft).direction(theta); for k in theta.indices { theta[k] += 0.2 * v[k] } }
        let mus = [0.0, 0.4, 0.8, 0.8 * 0 + 0.1 + 0.7 * 0.5 * (1 + cos(Double.pi / 4)), 0.1 + 0.7 * 0.5 * (1 + cos(Double.pi / 2)),
                   0.1 + 0.7 * 0.5 * (1 + cos(3 * Double.pi / 4))]
        for j in 0..<6 {
            let pt = inst.point(theta)
            var rl = inst.gradient(.reward, at: pt)
            let kl = inst.gradient(.klPolicyRef, at: pt)
            for k in rl.indices { rl[k] -= 0.3 * kl[k] }
            let phi = try u(.chordPhi).direction(theta)
            for k in theta.indices { theta[k] += 0.2 * ((1 - mus[j]) * rl[k] + mus[j] * phi[k]) }
        }
        let row = a.steps.firstIndex(of: 9)!
        let want = inst.value(.sft, at: inst.point(theta))
        #expect(abs(a.exact[0][row] - want) <= 1e-12, "exact sft_loss at step 9: \(a.exact[0][row]) vs \(want)")
    }

    /// Bad settings name the option.
    @Test func badSettings() throws {
        let inst = try SFixture.tabular()
        func message(_ edit: (inout SampledConfig) -> Void, _ m: SampledMethod = .grpo) -> String {
            var c = SampledConfig(method: m); edit(&c)
            do { _ = try SampledAlgorithm(instance: inst, config: c); return "" } catch { return "\(error)" }
        }
        #expect(message({ $0.groupSize = 1; $0.scaling = .none }, .rloo).contains("--group-size"))
        #expect(message({ $0.temperature = 0 }).contains("--temperature"))
        #expect(message({ $0.luffyGamma = -1 }, .luffy).contains("--luffy-gamma"))
        #expect(message({ $0.muSchedule = CHORDMuSchedule(peak: 0.1, valley: 0.5, warmup: 0, decay: 3) }, .chordPhi).contains("--mu-schedule"))
        #expect(message({ $0.sapo = SAPOTemperatures(positive: 0, negative: 1) }).contains("--sapo-temperatures"))
    }
}
