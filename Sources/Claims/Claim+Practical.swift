import Foundation
import Linalg
import Policies
import Flows

/// The relative distance ‖a − b‖/max(‖a‖, ‖b‖) of two updates (0 when both vanish).
func relativeDistance(_ a: [Double], _ b: [Double]) -> Double {
    let s = Swift.max(norm(a), norm(b))
    guard s > 0 else { return 0 }
    return norm(zip(a, b).map { $0 - $1 }) / s
}

/// The update computations below run in Double only (no Float80 path), so, as for the sampled
/// claims, the re-check adds a stated round-off allowance of 1e-9 to the margin.
func withRoundOffAllowance(_ e: Evaluation) -> Evaluation {
    var e = e
    e.conclusion += 1e-9
    return e
}

/// DFT (TRL's SFT loss_type "dft": per token −sg(π_t)·log π_t, y ∼ p_D) has the expected update of
/// policy gradient with reward p_D: Σ_x q Σ_y p_D(y) Σ_t π_t ∇log π_t = ∇_θ Σ_x q E_{p_θ}[p_D].
struct DFTIsPG: Claim {
    let id = "dft-is-pg"
    let reference = "practice (TRL's DFT loss), not a statement of the paper"
    let statement = "DFT's expected update (per token −sg(π_t)·log π_t under y ∼ p_D) equals the policy gradient ∇_θ E_x E_{y∼p_θ}[p_D(y|x)] with reward p_D, in every policy class (tabular, log-linear, autoregressive)."
    let hypotheses = [Hypothesis("moves", "the policy gradient with reward p_D has norm ≥ 1e-9")]
    let families = SampledGenerate.families

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        ClaimInstance(family: family, instance: SampledGenerate.file(&g, family: family, beta: 0))
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let dft = try PracticalUpdate(instance: inst, settings: PracticalSettings(method: .dft)).direction(inst.start)
        var pg = inst
        pg.reward = inst.data
        let g = pg.gradient(.reward, at: pg.point())
        let d = relativeDistance(dft, g)
        return Evaluation(hypotheses: ["moves": norm(g) - 1e-9], conclusion: identityTolerance - d,
                          quantities: ["relative_distance": d, "dft_norm": norm(dft), "pg_norm": norm(g), "cosine": dot(dft, g) / Swift.max(norm(dft) * norm(g), 1e-300)])
    }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { withRoundOffAllowance(try evaluate(ci)) }

    var failureExplanation: String? {
        "per-token DFT weights each token by its own conditional π_t, not by the sequence probability p(y) = Π_t π_t: on autoregressive instances it is node-wise policy gradient (node reward: the data's mass through the node), which converges to the greedy decoding of p_D, not its mode"
    }
    var workedExample: WorkedExample? {
        WorkedExample("one prompt, vocab 1, max_length 2 (sequences ε, a, aa): p_D = (0.2, 0.3, 0.5), uniform start: the second token's node gets the data's mass through it from DFT, but p(y)-weighted credit from the policy gradient",
                      ClaimInstance(family: .autoregressive, instance: {
                          var f = Generate.file(beta: 0, weights: [1], data: [[0.2, 0.3, 0.5]], reward: [[0, 0, 0]], reference: [[1.0 / 3, 1.0 / 3, 1.0 / 3]],
                                                start: [[1.0 / 3, 1.0 / 3, 1.0 / 3]])
                          f.policy = .init(kind: "autoregressive", vocab: 1, maxLength: 2)
                          return f
                      }()))
    }
}

/// CHORD's φ-weighted SFT (per token −sg(π_t(1 − π_t))·log π_t, y ∼ p_D) converges, in the tabular
/// class, to the water-filling p = (1 − λ/p_D)₊: responses with p_D ≤ λ are dropped.
///
/// Checked in two independent parts whose conjunction, with F's strict concavity (the proof page),
/// gives the limit: (a) the expected update equals ∇_θ F(p_θ), F = Σ_x q Σ_y p_D(p − p²/2), against a
/// central finite difference of F at the start (so F rises along the flow, dF/dt = ‖v‖²); (b) the
/// water-filling meets the KKT conditions of max F over the simplex. The flow itself is compared
/// with the closed form in `Tests/FlowsTests/FixedPointTests.swift`.
struct ChordPhiSharpens: Claim {
    let id = "chord-phi-sharpens"
    let reference = "practice (CHORD's φ-weighted SFT), not a statement of the paper"
    let statement = "φ-SFT's expected update (tabular softmax) is the gradient of F = Σ_x q Σ_y p_D(p − p²/2), strictly concave in p, so its flow from any interior start converges to F's maximiser over the simplex, the water-filling p = (1 − λ/p_D)₊ with Σ p = 1: it keeps p_D's order and drops every response with p_D ≤ λ."
    let hypotheses: [Hypothesis] = []
    let families: [Family] = [.tabular]

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = g.int(1...2)
        let sizes = (0..<m).map { _ in g.int(2...5) }
        return ClaimInstance(family: family, instance: Generate.file(beta: 0, weights: Generate.weights(&g, m), data: sizes.map { Generate.positiveSimplex(&g, $0) },
                                                                     reward: sizes.map { [Double](repeating: 0, count: $0) },
                                                                     reference: sizes.map { [Double](repeating: 1 / Double($0), count: $0) },
                                                                     start: sizes.map { Generate.positiveSimplex(&g, $0) }))
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let v = try PracticalUpdate(instance: inst, settings: PracticalSettings(method: .chordPhi)).direction(inst.start)
        func F(_ th: [Double]) -> Double {
            let p = inst.policy.probabilities(th)
            var s = 0.0
            for x in p.indices { for y in p[x].indices { s += inst.weights[x] * inst.data[x][y] * (p[x][y] - p[x][y] * p[x][y] / 2) } }
            return s
        }
        let h = 1e-5
        let fd = inst.start.indices.map { k -> Double in
            var a = inst.start, b = inst.start
            a[k] += h; b[k] -= h
            return (F(a) - F(b)) / (2 * h)
        }
        let gradientGap = norm(zip(v, fd).map { $0 - $1 }) / Swift.max(norm(v), 1e-3)
        // KKT of max F on each prompt's simplex at the water-filling, checked from its definition.
        var kkt = 0.0, dropped = 0.0
        for d in inst.data {
            let (p, lambda) = FixedPointClosedForm.waterFilling(d)
            kkt = Swift.max(kkt, abs(p.reduce(0, +) - 1))
            for y in d.indices {
                if p[y] > 0 { kkt = Swift.max(kkt, abs(d[y] * (1 - p[y]) - lambda)) } else { kkt = Swift.max(kkt, d[y] - lambda); dropped += 1 }
            }
            for a in d.indices { for b in d.indices where d[a] > d[b] && p[a] < p[b] { kkt = 1 } }   // p_D's order kept
        }
        return Evaluation(conclusion: Swift.min(1e-6 - gradientGap, 1e-9 - kkt),
                          quantities: ["gradient_gap": gradientGap, "kkt_residual": kkt, "dropped_responses": dropped])
    }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { withRoundOffAllowance(try evaluate(ci)) }
}

/// RLOO's leave-one-out baseline is unbiased: with a_i = r − β(log p − log π_ref) held fixed,
/// E[(1/G) Σ_i (a_i − mean_{j≠i} a_j)∇log p(y_i)] = ∇J − β∇KL(p‖π_ref) exactly, for every G ≥ 2.
struct RLOOUnbiased: Claim {
    let id = "rloo-unbiased"
    let reference = "practice (RLOO), not a statement of the paper"
    let statement = "The RLOO estimator (G ≥ 2 samples per prompt, leave-one-out baseline, KL (k1) in the reward with β_kl) has expectation exactly ∇J − β_kl∇KL(p‖π_ref) (∇J for β_kl = 0), by exact enumeration of the groups, in every policy class."
    let hypotheses = [Hypothesis("moves", "‖∇J_β‖ ≥ 1e-9"),
                      Hypothesis("resolvable", "every response has p_θ ≥ 1e-4 (below, 1 − p rounds in Double past the identity's 1e-9 resolution)")]
    let families = SampledGenerate.families

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        ClaimInstance(family: family, instance: SampledGenerate.file(&g, family: family, beta: g.uniform() < 0.5 ? 0 : g.uniform(0.05, 1)),
                      parameters: ["group_size": Double(g.int(2...3))])
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let u = try PracticalUpdate(instance: inst, settings: PracticalSettings(method: .rloo))
        let est = u.rlooExpectedUpdate(inst.start, groupSize: Int(try ci.parameter("group_size")))
        let pt = inst.point()
        var g = inst.gradient(.reward, at: pt)
        if inst.beta > 0 {
            let k = inst.gradient(.klPolicyRef, at: pt)
            for i in g.indices { g[i] -= inst.beta * k[i] }
        }
        let d = relativeDistance(est, g)
        let smallest = u.nodes.sequenceProbabilities(u.nodes.values(inst.start)).joined().min() ?? 0
        return Evaluation(hypotheses: ["moves": norm(g) - 1e-9, "resolvable": smallest - 1e-4], conclusion: identityTolerance - d,
                          quantities: ["relative_distance": d, "gradient_norm": norm(g), "beta": inst.beta, "smallest_probability": smallest])
    }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { withRoundOffAllowance(try evaluate(ci)) }
}

/// H10 under per-sequence token-mean SFT: does the SFT model equal p_D when each sequence's loss is
/// divided by its length |y|? Its flow converges to p ∝ p_D/|y| (Flows/FixedPointClosedForm).
struct H10Seqnorm: Claim {
    let id = "h10-seqnorm"
    let reference = "H10 (Eq. 10) under per-sequence-normalised SFT"
    let statement = "On autoregressive instances, SFT with each sequence's log-loss divided by its length |y| (emitted tokens: the end token counts where emitted) converges to p_SFT = p_D (H10): the limit p ∝ p_D/|y| equals p_D."
    let hypotheses: [Hypothesis] = []
    let families: [Family] = [.autoregressive]

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        ClaimInstance(family: family, instance: SampledGenerate.file(&g, family: .autoregressive, beta: 0))
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let u = try PracticalUpdate(instance: inst, settings: PracticalSettings(method: .sftSeqnorm))
        let limit = try require2(FixedPointClosedForm.limit(u))
        // The limit is a zero of the expected update (an interior point: p_D > 0 on the generated instances).
        let tv = zip(limit, inst.data).map { Dist.tv($0, $1) }.max() ?? 0
        return Evaluation(conclusion: identityTolerance - tv, quantities: ["tv_limit_data": tv])
    }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { withRoundOffAllowance(try evaluate(ci)) }

    var failureExplanation: String? {
        "dividing a sequence's loss by |y| reweights the data by 1/|y|: the minimiser of Σ_y p_D(y)/|y|·(−log p(y)) is p ∝ p_D/|y|, which favours short sequences whenever p_D puts mass on two lengths"
    }
}

/// `value`, or an error naming what is missing.
func require2<T>(_ value: T?) throws -> T {
    guard let value else { throw ClaimError.invalid("no closed form for this instance") }
    return value
}

/// Thm 3.1 with RL = TRL's GRPO (k3 in the loss, no scaling, G samples, coefficient β) run to its
/// fixed point from the SFT optimum (H10, π_ref = p_SFT = p_D): the fixed point is
/// p_k3 = β π_ref/(β + c E r − c r), c = 1 − 1/G (``FixedPointClosedForm/grpoK3``), and the SFT loss
/// rises by C₁^{k3} = E_x KL(p_D‖p_k3) ≥ 0. Compared with the Gibbs C₁ at the same effective
/// coefficient β/c (GRPO's expected update is c·∇J − β∇KL(π_ref‖p); the paper's RL c·∇J − β∇KL(p‖π_ref)
/// has the Gibbs optimum at β/c): is C₁^{k3} ≤ C₁(β/c)?
struct Thm31GRPOK3: Claim {
    let id = "thm3.1-grpo-k3"
    let reference = "Thm 3.1 with RL = TRL's GRPO (k3 in the loss)"
    let statement = "From the SFT optimum (H10, π_ref = p_SFT = p_D), TRL's GRPO with k3 in the loss (no scaling, G samples, coefficient β) converges to p = βπ_ref/(β + cE_p r − c r), c = 1 − 1/G, where L_SFT has risen by C₁^{k3} = E_x KL(p_D‖p) ≥ 0, and by no more than the paper's Gibbs C₁ at the same effective coefficient β/c."
    let hypotheses = [Hypothesis("ref-is-data", "π_ref = p_SFT = p_D (H10 and the reference of Thm 3.1)")]
    let families: [Family] = [.tabularSingle, .tabularMulti]

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        var ci = sftThenRLInstance(&g, family: family, dropping: dropping)
        ci.parameters["group_size"] = Double(g.int(2...16))
        return ci
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let f = try ci.requireInstance()
        let inst = try Instance(file: f)
        let gsize = Int(try ci.parameter("group_size"))
        let c = 1 - 1 / Double(gsize)
        guard inst.beta > 0 else { throw ClaimError.invalid("thm3.1-grpo-k3 needs beta > 0") }
        var c1k3 = 0.0, c1gibbs = 0.0, refGap = 0.0
        for x in inst.weights.indices where inst.weights[x] > 0 {
            let p = FixedPointClosedForm.grpoK3(reference: inst.reference[x], reward: inst.reward[x], beta: inst.beta, groupSize: gsize)
            c1k3 += inst.weights[x] * Dist.kl(inst.data[x], p)
            let gibbs = Dist.gibbs(reference: inst.reference[x], reward: inst.reward[x], beta: inst.beta / c)
            c1gibbs += inst.weights[x] * Dist.kl(inst.data[x], gibbs)
            refGap = Swift.max(refGap, Dist.tv(inst.reference[x], inst.data[x]))
        }
        let scale = Swift.max(c1gibbs, c1k3, 1e-300)
        return Evaluation(hypotheses: ["ref-is-data": -refGap],
                          conclusion: Swift.min(c1k3 / scale + 1e-12, (c1gibbs - c1k3) / scale),
                          quantities: ["C1_k3": c1k3, "C1_gibbs_beta_over_c": c1gibbs, "ratio": c1k3 / scale, "c": c, "beta": inst.beta])
    }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { withRoundOffAllowance(try evaluate(ci)) }
}
