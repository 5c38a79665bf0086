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

    func generate(_ g: inout SeededGenerator, family: String, dropping: Set<String>) -> ClaimInstance {
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
                      ClaimInstance(family: "autoregressive", instance: {
                          var f = Generate.file(beta: 0, weights: [1], data: [[0.2, 0.3, 0.5]], reward: [[0, 0, 0]], reference: [[1.0 / 3, 1.0 / 3, 1.0 / 3]],
                                                start: [[1.0 / 3, 1.0 / 3, 1.0 / 3]])
                          f.policy = .init(kind: "autoregressive", vocab: 1, maxLength: 2)
                          return f
                      }()))
    }
}

/// CHORD's φ-weighted SFT (per token −sg(π_t(1 − π_t))·log π_t, y ∼ p_D) converges, in the tabular
/// class, to the water-filling p = (1 − λ/p_D)₊: responses with p_D ≤ λ are dropped.
struct ChordPhiSharpens: Claim {
    let id = "chord-phi-sharpens"
    let reference = "practice (CHORD's φ-weighted SFT), not a statement of the paper"
    let statement = "The flow of φ-SFT's expected update (tabular softmax, from any interior start) converges to the water-filling p = (1 − λ/p_D)₊ with Σ p = 1, the maximiser of Σ p_D(p − p²/2): it keeps p_D's order and drops every response with p_D ≤ λ (checked on the flow to t = 10⁴, extrapolated at its 1/t rate, to 1e-5)."
    let hypotheses: [Hypothesis] = []
    let families = ["tabular"]
    let shrinkable = false

    func generate(_ g: inout SeededGenerator, family: String, dropping: Set<String>) -> ClaimInstance {
        let m = g.int(1...2)
        let sizes = (0..<m).map { _ in g.int(2...4) }
        return ClaimInstance(family: family, instance: Generate.file(beta: 0, weights: Generate.weights(&g, m), data: sizes.map { Generate.positiveSimplex(&g, $0) },
                                                                     reward: sizes.map { [Double](repeating: 0, count: $0) },
                                                                     reference: sizes.map { [Double](repeating: 1 / Double($0), count: $0) },
                                                                     start: sizes.map { Generate.positiveSimplex(&g, $0) }))
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let fp = try FixedPoint.compute(instance: inst, settings: PracticalSettings(method: .chordPhi), horizon: 1e4)
        // The water-filling checked independently of its construction: KKT of max Σ p_D(p − p²/2).
        var kkt = 0.0, dropped = 0.0
        for (x, d) in inst.data.enumerated() {
            let p = fp.policy[x]
            let lambda = fp.lambda![x]
            kkt = Swift.max(kkt, abs(p.reduce(0, +) - 1))
            for y in d.indices {
                if p[y] > 0 { kkt = Swift.max(kkt, abs(d[y] * (1 - p[y]) - lambda)) } else { kkt = Swift.max(kkt, Swift.max(0, d[y] - lambda)); dropped += 1 }
            }
        }
        let agreement = fp.flowAgreement
        return Evaluation(conclusion: Swift.min(1e-9 - kkt, 1e-5 - agreement),
                          quantities: ["kkt_residual": kkt, "flow_agreement": agreement, "dropped_responses": dropped, "flow_time": fp.flowTime])
    }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { withRoundOffAllowance(try evaluate(ci)) }
}

/// RLOO's leave-one-out baseline is unbiased: with a_i = r − β(log p − log π_ref) held fixed,
/// E[(1/G) Σ_i (a_i − mean_{j≠i} a_j)∇log p(y_i)] = ∇J − β∇KL(p‖π_ref) exactly, for every G ≥ 2.
struct RLOOUnbiased: Claim {
    let id = "rloo-unbiased"
    let reference = "practice (RLOO), not a statement of the paper"
    let statement = "The RLOO estimator (G ≥ 2 samples per prompt, leave-one-out baseline, KL (k1) in the reward with β_kl) has expectation exactly ∇J − β_kl∇KL(p‖π_ref) (∇J for β_kl = 0), by exact enumeration of the groups, in every policy class."
    let hypotheses = [Hypothesis("moves", "‖∇J_β‖ ≥ 1e-9")]
    let families = SampledGenerate.families

    func generate(_ g: inout SeededGenerator, family: String, dropping: Set<String>) -> ClaimInstance {
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
        return Evaluation(hypotheses: ["moves": norm(g) - 1e-9], conclusion: identityTolerance - d,
                          quantities: ["relative_distance": d, "gradient_norm": norm(g), "beta": inst.beta])
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
    let families = ["autoregressive"]

    func generate(_ g: inout SeededGenerator, family: String, dropping: Set<String>) -> ClaimInstance {
        ClaimInstance(family: family, instance: SampledGenerate.file(&g, family: "autoregressive", beta: 0))
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
