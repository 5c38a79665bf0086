import Foundation
import RealModule
import Linalg
import Policies
import Flows

/// Random small instances of the three classes for the claims about sampled algorithms: 1–2
/// prompts; tabular 2–4 responses, log-linear 3–4 responses with d ≤ 2 features, autoregressive
/// V ∈ {1, 2}, L ∈ {1, 2}, or (a fraction `longFraction` of the autoregressive instances, one
/// prompt) a long shape of ``longShapes``; positive data, reference and start, rewards in [−1, 1]
/// with ties.
enum SampledGenerate {
    static let families: [Family] = [.tabular, .loglinear, .autoregressive]

    /// Autoregressive shapes (V, L) beyond length 2, where per-sequence length normalisation has an
    /// effect (responses of 1 … L + 1 tokens). The number of sequences Σ_{j≤L} V^j is kept at most 40
    /// (V = 1, L = 8: 9; V = 2, L = 4: 31; V = 3, L = 3: 40) so that the exact enumeration of a
    /// group of G ≤ 4 samples, C(S + G − 1, G) ≤ 123,410 batches, stays within
    /// `UpdateDistribution.maxOutcomes`; V = 2, L = 8 (511 sequences) allows only G = 2 and one step.
    static let longShapes: [(vocab: Int, length: Int)] = [(1, 4), (1, 6), (1, 8), (2, 3), (2, 4), (3, 2), (3, 3)]
    /// The default fraction of autoregressive instances drawn with a long shape.
    static let longFraction = 0.15

    /// The exact enumeration's work per instance: a claim's drawn group (or batch) size k and step
    /// count are lowered, largest first, until the batches to step per prompt, C(S + k − 1, k)^steps
    /// for S responses, are at most this many. Only the long shapes reach it (S ≤ 7 with k ≤ 4 is at
    /// most 210), so the other instances keep their draws; the long ones keep G = 2 at least.
    static let outcomeBudget = 5_000.0

    /// (k, steps) lowered to ``outcomeBudget`` for S responses per prompt (k ≥ 1, steps ≥ 1 kept).
    static func withinBudget(size k: Int, steps: Int = 1, responses s: Int) -> (size: Int, steps: Int) {
        func count(_ k: Int) -> Double { (0..<k).reduce(1.0) { $0 * Double(s + $1) / Double($1 + 1) } }   // C(s + k − 1, k)
        var k = k, steps = steps
        while steps > 1 && Foundation.pow(count(k), Double(steps)) > outcomeBudget { steps -= 1 }
        while k > 2 && count(k) > outcomeBudget { k -= 1 }
        return (k, steps)
    }

    static func file(_ g: inout SeededGenerator, family: Family, beta: Double, maxPrompts: Int = 2,
                     longFraction: Double = SampledGenerate.longFraction) -> InstanceFile {
        var m = g.int(1...maxPrompts)
        var sizes = (0..<m).map { _ in g.int(2...4) }
        var spec = InstanceFile.PolicySpec(kind: "tabular")
        if family == .autoregressive {
            var v = g.int(1...2), l = g.int(1...2)
            if g.uniform() < longFraction {
                let shape = longShapes[g.int(0...(longShapes.count - 1))]
                (v, l, m) = (shape.vocab, shape.length, 1)
            }
            let s = (0...l).reduce(0) { $0 + Int(Foundation.pow(Double(v), Double($1))) }
            sizes = [Int](repeating: s, count: m)
            spec = .init(kind: "autoregressive", vocab: v, maxLength: l)
        }
        if family == .loglinear { sizes = sizes.map { max($0, 3) } }
        var f = Generate.file(beta: beta, weights: Generate.weights(&g, m), data: sizes.map { Generate.positiveSimplex(&g, $0) },
                              reward: sizes.map { Generate.reward(&g, $0) }, reference: sizes.map { Generate.positiveSimplex(&g, $0) },
                              start: sizes.map { Generate.positiveSimplex(&g, $0) })
        f.policy = spec
        if family == .loglinear {
            let d = g.int(1...2)
            f.policy = .init(kind: "loglinear", features: sizes.map { n in let x = Generate.features(&g, n: n, d: d, illConditioned: false); return (0..<n).map { x.row($0) } },
                             theta: (0..<d).map { _ in g.normal() })
            for x in f.prompts.indices { f.prompts[x].start = nil }
        }
        return f
    }
}

/// E[f(θ + Δθ)] over the exact distribution of one sampled update, f evaluated by `value` (in T).
/// When the update is additive over prompts, the expectation is taken prompt by prompt
/// (``PromptOutcomes``): for `separable` f (a sum of per-prompt terms of their own parameter
/// blocks, such as L_SFT, on a class with per-prompt blocks) over M_1 + … + M_m outcomes, else over
/// the joint product with one vector sum per batch instead of one step; otherwise every joint
/// batch is stepped. The three agree to round-off (SampledExpectationTests).
func expectedAfterUpdate<T: Real & BinaryFloatingPoint>(_ algo: SampledAlgorithm, theta: [Double], separable: Bool = false,
                                                        _ value: ([T]) -> T) throws -> (mean: T, meanSquaredNorm: Double, mean_update: [Double]) {
    let nodeValues = algo.nodes.values(theta)   // once per θ, not once per batch
    if let po = try PromptOutcomes.make(algo, theta: theta, nodeValues: nodeValues) {
        let f: ([Double]) -> T = { value($0.map { T($0) }) }
        let m = separable && algo.instance.policy.hasPromptBlocks ? po.expectation(ofSeparable: f) : po.expectation(ofAny: f)
        return (m, po.meanSquaredNorm, po.mean)
    }
    return try expectedAfterUpdateJointly(algo, theta: theta, nodeValues: nodeValues, value)
}

/// ``expectedAfterUpdate(_:theta:separable:_:)`` by stepping every joint batch (any update).
func expectedAfterUpdateJointly<T: Real & BinaryFloatingPoint>(_ algo: SampledAlgorithm, theta: [Double], nodeValues: DecisionNodes.Values? = nil,
                                                               _ value: ([T]) -> T) throws -> (mean: T, meanSquaredNorm: Double, mean_update: [Double]) {
    var m: T = 0, sq = 0.0
    var mean = [Double](repeating: 0, count: theta.count)
    let nodeValues = nodeValues ?? algo.nodes.values(theta)
    try UpdateDistribution.forEachBatch(algo, theta: theta) { batch, p in
        var state = OptimizerState()
        let next = algo.step(theta: theta, batch: batch, state: &state, nodeValues: nodeValues)
        m += T(p) * value(next.map { T($0) })
        var n2 = 0.0
        for i in next.indices { let d = next[i] - theta[i]; n2 += d * d; mean[i] += p * d }
        sq += p * n2
    }
    return (m, sq, mean)
}

/// E[f(θ_k)] after k sampled updates from θ, by exact enumeration of every batch of every step
/// (the tree of k batches); `value` gives f as a vector so several expectations share one walk.
func expectedAfterSteps<T: Real & BinaryFloatingPoint>(_ algo: SampledAlgorithm, theta: [Double], steps: Int,
                                                       _ value: ([Double]) -> [T]) throws -> [T] {
    if steps == 0 { return value(theta) }
    var m: [T]? = nil
    let nodeValues = algo.nodes.values(theta)
    try UpdateDistribution.forEachBatch(algo, theta: theta) { batch, p in
        var state = OptimizerState()
        let next = algo.step(theta: theta, batch: batch, state: &state, nodeValues: nodeValues)
        let r = (try? expectedAfterSteps(algo, theta: next, steps: steps - 1, value)) ?? value(theta).map { _ in .nan }
        m = zip(m ?? r.map { _ in 0 }, r).map { $0 + T(p) * $1 }
    }
    return m ?? value(theta)
}


/// The descent lemma in expectation for a sampled RL step (R4 with E‖g‖²): for any random step
/// Δθ = ηĝ and L_S a global smoothness constant of L_SFT,
/// E L_SFT(θ + Δθ) ≤ L_SFT(θ) + ⟨∇L_SFT, EΔθ⟩ + (L_S/2)·E‖Δθ‖²; so the step lowers the SFT loss in
/// expectation when ⟨−∇L_SFT, EΔθ⟩ > (L_S/2)·E‖Δθ‖². Checked with REINFORCE and GRPO steps.
struct SampledDescent: PrecisionGenericClaim {
    let id = "sampled-descent"
    let reference = "reconstruction of v2 (R4) for sampled steps"
    let statement = "A sampled RL step Δθ (REINFORCE or GRPO, G samples per prompt) lowers L_SFT in expectation when ⟨−∇L_SFT, E Δθ⟩ > (L_S/2)·E‖Δθ‖², L_S a global smoothness constant of L_SFT: R4 with E‖g‖² in place of ‖g‖²."
    let hypotheses = [Hypothesis("step-condition", "⟨−∇L_SFT, E Δθ⟩ − (L_S/2)·E‖Δθ‖² > 0"),
                      Hypothesis("resolvable", "the first-order change |⟨∇L_SFT, EΔθ⟩| is at least 1e-12·max(1, L_SFT) (a hypothesis of the numerical check)")]
    let families = SampledGenerate.families
    let strict = true
    let shrinkable = false

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let f = SampledGenerate.file(&g, family: family, beta: g.uniform() < 0.5 ? 0 : g.uniform(0.05, 1))
        return ClaimInstance(family: family, instance: f, parameters: [
            "eta": Foundation.pow(10, g.uniform(-2, 0.5)), "group_size": Double(g.int(2...3)), "grpo": g.uniform() < 0.5 ? 1 : 0,
        ])
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        var c = SampledConfig(method: try ci.parameter("grpo") == 1 ? .grpo : .reinforce)
        c.eta = try ci.parameter("eta"); c.groupSize = Int(try ci.parameter("group_size"))
        let algo = try SampledAlgorithm(instance: inst, config: c)
        let ls = try inst.policy.sftSmoothnessBound(weights: inst.weights)
        let gradL = inst.gradient(.sft, at: inst.point())
        let e: (mean: T, meanSquaredNorm: Double, mean_update: [Double]) = try expectedAfterUpdate(algo, theta: inst.start, separable: true) { inst.sftLoss(at: $0) }
        let l0: T = inst.sftLoss(at: inst.start.map { T($0) })
        let first = -dot(gradL, e.mean_update)
        let condition = first - ls / 2 * e.meanSquaredNorm
        return Evaluation(hypotheses: ["step-condition": condition, "resolvable": abs(first) / max(1, Double(l0)) - 1e-12],
                          conclusion: Double((l0 - e.mean) / max(abs(l0), T.leastNormalMagnitude)),
                          quantities: ["first_order": first, "E_sq_norm": e.meanSquaredNorm, "L_S": ls,
                                       "sft_loss_before": Double(l0), "expected_sft_loss_after": Double(e.mean)])
    }
}

/// Whether the expected GRPO update is an ascent direction of J: ⟨E Δθ, ∇J⟩ > 0, for one advantage
/// scaling and one loss aggregation (no KL term, one inner iteration, SGD). The three
/// `grpo-ascent-<scaling>` claims use the flow default aggregation `grpo`; the split of
/// `grpo-ascent-none` by aggregation (`-drgrpo`, `-seqnorm`, `-dapo`) asks the question on the
/// autoregressive instances where the aggregations differ (`dr_grpo` also on the others).
struct GRPOExpectedAscent: Claim {
    let scaling: AdvantageScaling
    var aggregation: LossAggregation = .grpo
    /// The id's suffix after `grpo-ascent-<scaling>` ("" for the three original claims).
    var suffix = ""
    var families = SampledGenerate.families
    /// The fraction of autoregressive instances with a long shape (``SampledGenerate/longShapes``).
    var longFraction = SampledGenerate.longFraction
    var id: String { "grpo-ascent-\(scaling.rawValue)\(suffix)" }
    let reference = "practice (TRL's GRPO), not a statement of the paper"
    var statement: String {
        let agg = suffix.isEmpty ? "" : ", loss aggregation '\(aggregation.rawValue)'"
        return "The expected GRPO update with advantage scaling '\(scaling.rawValue)'\(agg) (G samples per prompt, no KL, one inner step) has a positive inner product with ∇J whenever ∇J ≠ 0."
    }
    let hypotheses = [Hypothesis("gradient-nonzero", "‖∇J‖ ≥ 1e-6")]
    let strict = true

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let f = SampledGenerate.file(&g, family: family, beta: 0, longFraction: longFraction)
        let k = SampledGenerate.withinBudget(size: g.int(2...4), responses: f.prompts[0].data.count).size
        return ClaimInstance(family: family, instance: f, parameters: ["group_size": Double(k)])
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        var c = SampledConfig(method: .grpo)
        c.scaling = scaling; c.aggregation = aggregation
        c.groupSize = Int(try ci.parameter("group_size")); c.eta = 1; c.klCoefficient = 0
        let algo = try SampledAlgorithm(instance: inst, config: c)
        let d = try UpdateDistribution.exactByPrompt(algo, theta: inst.start)
        let ip = dot(d.expectedUpdate, d.gradient)
        return Evaluation(hypotheses: ["gradient-nonzero": d.gradientNorm - 1e-6],
                          conclusion: d.cosine,
                          quantities: ["inner_product": ip, "cosine": d.cosine, "grad_norm": d.gradientNorm, "bias_norm": d.biasNorm,
                                       // ⟨E Δθ, ∇J⟩/‖∇J‖²: the update's component along ∇J in units of ∇J (η = 1), a size that
                                       // means something when θ has one coordinate and the cosine is ±1.
                                       "ascent_ratio": d.gradientNorm > 0 ? ip / (d.gradientNorm * d.gradientNorm) : 0,
                                       // dr_grpo's exact ratio (1 − 1/G)/L_max (L_max = 1 without sequences).
                                       "drgrpo_ratio": (1 - 1 / Double(c.groupSize)) / Double(algo.nodes.maxTokens)])
    }
    /// The enumeration runs in Double only (no Float80 path), so, as for r5-spectral, the re-check
    /// adds a stated round-off allowance of 1e-9 to the cosine: a violation counts only when the
    /// cosine is below −1e-9 − 1e-12, far beyond the Double round-off of these enumerations.
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation {
        var e = try evaluate(ci)
        e.conclusion += 1e-9
        return e
    }
}

/// Thm 3.1 under sampling: from the SFT optimum with π_ref = p_SFT, k sampled GRPO steps raise the
/// SFT loss in expectation: E L_SFT(θ_k) > L_SFT(θ_SFT).
struct Thm31Sampled: PrecisionGenericClaim {
    let id = "thm3.1-sampled"
    let reference = "Thm 3.1 under sampled GRPO"
    let statement = "From the SFT optimum of the class (π_ref = p_SFT), k sampled GRPO steps (G samples per prompt, k3 KL to π_ref with coefficient β) raise the SFT loss in expectation: E L_SFT(θ_k) > L_SFT(θ_SFT), whenever the expected first update is non-zero."
    let hypotheses = [Hypothesis("moves", "the expected first update has norm ≥ 1e-9")]
    let families = SampledGenerate.families
    let strict = true
    let shrinkable = false

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let f = SampledGenerate.file(&g, family: family, beta: g.uniform(0.05, 1), maxPrompts: 1)
        let steps = SampledGenerate.withinBudget(size: 2, steps: g.int(1...2), responses: f.prompts[0].data.count).steps
        return ClaimInstance(family: family, instance: f, parameters: ["group_size": 2, "steps": Double(steps), "eta": Foundation.pow(10, g.uniform(-1.5, 0.5))])
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        var inst = try Instance(file: try ci.requireInstance())
        let sft = try inst.sftOptimum()
        inst.start = sft.theta
        inst.reference = inst.policy.probabilities(sft.theta)
        var c = SampledConfig(method: .grpo)
        c.groupSize = Int(try ci.parameter("group_size")); c.eta = try ci.parameter("eta")
        let algo = try SampledAlgorithm(instance: inst, config: c)
        let k = Int(try ci.parameter("steps"))
        let first = try UpdateDistribution.exactByPrompt(algo, theta: sft.theta)
        let l0: T = inst.sftLoss(at: sft.theta.map { T($0) })
        let lk: T = try expectedAfterSteps(algo, theta: sft.theta, steps: k) { [inst.sftLoss(at: $0.map { T($0) })] }[0]
        return Evaluation(hypotheses: ["moves": norm(first.expectedUpdate) - 1e-9],
                          conclusion: Double((lk - l0) / max(abs(l0), 1)),
                          quantities: ["sft_loss_optimum": Double(l0), "expected_sft_loss_after": Double(lk), "steps": Double(k)])
    }
}

/// Prop. 1 along sampled SFT from an RL optimum: after k minibatch SFT steps from the Gibbs/RL
/// optimum θ_RL, E J(θ_k) ≤ J(θ_RL) + R_max·√(2·E KL(p_θk‖p_RL)).
struct Prop1Sampled: PrecisionGenericClaim {
    let id = "prop1-sampled"
    let reference = "Prop. 1 under sampled SFT"
    let statement = "After k minibatch SFT steps (B samples of p_D per prompt) from the RL optimum θ_RL of the class, E J(θ_k) ≤ J(θ_RL) + R_max·√(2·E_{batches} E_x KL(p_θk‖p_RL))."
    let hypotheses: [Hypothesis] = []
    let families: [Family] = [.tabular, .autoregressive]
    let shrinkable = false

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let f = SampledGenerate.file(&g, family: family, beta: g.uniform(0.05, 1), maxPrompts: 1)
        let b = g.int(1...2), fit = SampledGenerate.withinBudget(size: b, steps: g.int(1...2), responses: f.prompts[0].data.count)
        return ClaimInstance(family: family, instance: f, parameters: ["batch_size": Double(b), "steps": Double(fit.steps), "eta": Foundation.pow(10, g.uniform(-1, 0.7))])
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        var inst = try Instance(file: try ci.requireInstance())
        let rl = try inst.rlOptimum()
        inst.start = rl.theta
        var c = SampledConfig(method: .sftSGD)
        c.batchSize = Int(try ci.parameter("batch_size")); c.eta = try ci.parameter("eta")
        let algo = try SampledAlgorithm(instance: inst, config: c)
        let pRL = inst.policy.probabilities(rl.theta).map { $0.map { T($0) } }
        func jAndKL(_ theta: [Double]) -> (T, T) {
            let z: [[T]] = inst.policy.logits(theta.map { T($0) })
            var j: T = 0, kl: T = 0
            for x in z.indices where inst.weights[x] > 0 {
                let lp = DistOf<T>.logSoftmax(z[x]), p = lp.map { T.exp($0) }
                j += T(inst.weights[x]) * DistOf<T>.expectation(p, inst.reward[x].map { T($0) })
                kl += T(inst.weights[x]) * DistOf<T>.kl(p, pRL[x], logP: lp)
            }
            return (j, kl)
        }
        let (j0, _) = jAndKL(rl.theta)
        let e = try expectedAfterSteps(algo, theta: rl.theta, steps: Int(try ci.parameter("steps"))) { th -> [T] in
            let (j, kl) = jAndKL(th)
            return [j, kl]
        }
        let (jk, klk) = (e[0], e[1])
        let rmax = T(inst.rewardBound)
        let bound = j0 + rmax * (2 * max(klk, 0)).squareRoot()
        return Evaluation(conclusion: Double(inequalityMargin(jk, bound, scale: max(rmax, 1e-300))),
                          quantities: ["reward_rl": Double(j0), "expected_reward_after": Double(jk), "expected_kl": Double(klk), "bound": Double(bound)])
    }
}

/// Lemma 1 on autoregressive instances of the instance schema: the token-level SFT loss of a
/// dataset drawn from p_D, −Σ_i Σ_t log π_{n_t}(c_t) (EOS factor included; each token's node
/// log-softmax computed here from the node's logits), equals n·E_emp[−log p_θ(y|x)] with p_θ(y|x)
/// the class's sequence distribution, and the class's exact L_SFT equals the expectation of the
/// token-level loss under p_D.
struct Lemma1Autoregressive: PrecisionGenericClaim {
    let id = "lemma1-autoregressive"
    let reference = "Lemma 1"
    let statement = "On an autoregressive instance, the token-level SFT loss −Σ_j log p(y_j|x, y_<j) − log p(EOS|x, y) of a dataset of n responses equals n times the empirical expectation of the class's sequence-level −log p_θ(y|x), and the class's exact L_SFT equals the expected token-level loss under p_D."
    let hypotheses: [Hypothesis] = []
    let families: [Family] = [.autoregressive]
    let shrinkable = false

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        var f = SampledGenerate.file(&g, family: .autoregressive, beta: 0)
        let m = f.prompts.count
        let inst = try? Instance(file: f)
        f.policy.theta = (0..<(inst?.policy.dimension ?? 0)).map { _ in 3 * g.normal() }
        for x in 0..<m { f.prompts[x].start = nil }
        return ClaimInstance(family: family, instance: f, parameters: ["n": Double(g.int(1...40)), "dataset_seed": Double(g.int(0...1_000_000))])
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        guard case let .autoregressive(tree, _) = inst.policy else { throw ClaimError.invalid("lemma1-autoregressive needs an autoregressive instance") }
        let theta = inst.start.map { T($0) }
        let o = inst.policy.offsets, w = tree.vocab + 1
        let seq: [[T]] = inst.policy.logits(theta)   // the class's log p(y|x)
        // Token-level: walk the tokens of y, the node of each prefix found by its index, log-softmax of its logits.
        let model = Autoregressive(vocab: tree.vocab, maxLength: tree.maxLength)
        let responses = model.allResponses()
        func tokenLogLik(_ x: Int, _ y: [Int]) -> T {
            func node(_ prefix: [Int]) -> [T] {
                let n = model.index(of: prefix)
                return DistOf<T>.logSoftmax(Array(theta[(o[x] + n * w)..<(o[x] + (n + 1) * w)]))
            }
            var s: T = 0
            for j in y.indices { s += node(Array(y[..<j]))[y[j]] }
            if y.count < tree.maxLength { s += node(y)[tree.vocab] }
            return s
        }
        var g = SeededGenerator(seed: UInt64(try ci.parameter("dataset_seed")))
        let n = Int(try ci.parameter("n"))
        var worst: T = 1, tokenTotal: T = 0, empirical: T = 0, total: T = 0
        for x in inst.weights.indices {
            total += seq[x].reduce(T(0)) { $0 + T.exp($1) }
            var exactLoss: T = 0
            for (k, y) in responses.enumerated() where inst.data[x][k] > 0 { exactLoss -= T(inst.data[x][k]) * tokenLogLik(x, y) }
            let lq = DistOf<T>.logSoftmax(seq[x])
            let classLoss = DistOf<T>.crossEntropy(inst.data[x].map { T($0) }, lq.map { T.exp($0) }, logQ: lq)
            worst = min(worst, identityMargin(exactLoss, classLoss))
            let cdf = SampledAlgorithm.cumulativeDistribution(inst.data[x])
            var tl: T = 0, emp: T = 0
            for _ in 0..<n {
                let k = SampledAlgorithm.draw(cdf: cdf, &g)
                tl -= tokenLogLik(x, responses[k])
                emp -= seq[x][k]
            }
            worst = min(worst, identityMargin(tl, emp))
            tokenTotal += tl; empirical += emp
        }
        worst = min(worst, identityMargin(total, T(inst.promptCount)))
        return Evaluation(conclusion: Double(worst), quantities: ["token_level_loss": Double(tokenTotal), "n_times_empirical": Double(empirical), "total_probability": Double(total)])
    }
}
