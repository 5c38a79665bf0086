import Foundation
import Linalg
import Policies
import Flows

/// Instances with a binary reward r ∈ {0, 1} on every prompt, both values present (S_x and its
/// complement non-empty): `SampledGenerate`'s instance with its reward replaced.
enum BinaryRewardGenerate {
    static func file(_ g: inout SeededGenerator, family: Family, maxPrompts: Int = 2) -> InstanceFile {
        var f = SampledGenerate.file(&g, family: family, beta: 0, maxPrompts: maxPrompts)
        for x in f.prompts.indices {
            let n = f.prompts[x].reward.count
            var r = (0..<n).map { _ in g.uniform() < 0.5 ? 1.0 : 0.0 }
            let a = g.int(0...(n - 1))
            r[a] = 1; r[(a + 1 + g.int(0...(n - 2))) % n] = 0
            f.prompts[x].reward = r
        }
        return f
    }

    /// +1 when every reward is 0 or 1 and every prompt has both, else −1.
    static func binaryMargin(_ inst: Instance) -> Double {
        inst.reward.allSatisfy { r in r.allSatisfy { $0 == 0 || $0 == 1 } && r.contains(0) && r.contains(1) } ? 1 : -1
    }

    /// Per prompt, the success probability p_x = p_θ(r = 1|x) at the start.
    static func successProbabilities(_ u: PracticalUpdate) -> [Double] {
        let probs = u.nodes.sequenceProbabilities(u.nodes.values(u.instance.start))
        return probs.indices.map { x in probs[x].indices.reduce(0.0) { $0 + (u.instance.reward[x][$1] > 0 ? probs[x][$1] : 0) } }
    }

    /// Σ_x c_x ∇p_x at the start: the reward gradient of the instance with prompt weights c.
    static func weightedSuccessGradient(_ inst: Instance, weights c: [Double]) -> [Double] {
        var w = inst
        w.weights = c
        return w.gradient(.reward, at: w.point())
    }

    static let binaryHypothesis = Hypothesis("binary-reward", "r(x, y) ∈ {0, 1}, both values on every prompt")
    static let resolvableHypothesis = Hypothesis("resolvable", "every response has p_θ ≥ 1e-4 (below, 1 − p rounds in Double past the identity's 1e-9 resolution)")

    /// The smallest response (sequence) probability at the start, minus 1e-4.
    static func resolvableMargin(_ u: PracticalUpdate) -> Double {
        (u.nodes.sequenceProbabilities(u.nodes.values(u.instance.start)).joined().min() ?? 0) - 1e-4
    }

    /// The settings whose ``PracticalUpdate`` carries the REINFORCE / population directions (gibbs at β = 0 reads nothing else).
    static var plain: PracticalSettings {
        var s = PracticalSettings(method: .gibbs)
        s.klCoef = 0
        return s
    }
}

/// PSR and NSR (positive- and negative-sample reinforcement) with a binary reward: without length
/// normalisation both expected updates equal ∇_θ Σ_x q p_x (p_x = p(S_x|x)), since
/// Σ_{y∉S} p∇log p = ∇(1 − p_x) = −∇p_x; with each sample's log-probability divided by |y| they
/// are Σ_{y∈S} p/|y|·∇log p(y) and −Σ_{y∉S} p/|y|·∇log p(y), whose difference Σ_y p/|y|·∇log p(y)
/// vanishes only when |y| is constant.
struct PSRNSREqual: Claim {
    let lengthNormalised: Bool
    var id: String { lengthNormalised ? "psr-nsr-equal-lennorm" : "psr-nsr-equal" }
    let reference = "practice (positive- and negative-sample REINFORCE), not a statement of the paper"
    var statement: String {
        lengthNormalised
            ? "On autoregressive instances with a binary reward, positive-only REINFORCE (loss −log p(y)/|y| on rewarded samples) and negative-only REINFORCE (loss +log p(y)/|y| on unrewarded samples), each sample's log-probability divided by its length |y|, have the same expected update."
            : "With a binary reward, positive-only REINFORCE (loss −log p(y) on rewarded samples) and negative-only REINFORCE (loss +log p(y) on unrewarded samples) have the same expected update, ∇_θ E_x p_θ(r = 1|x), in every policy class (tabular, log-linear, autoregressive with sequence log-probabilities)."
    }
    let hypotheses = [BinaryRewardGenerate.binaryHypothesis, Hypothesis("moves", "the PSR update has norm ≥ 1e-9"), BinaryRewardGenerate.resolvableHypothesis]
    var families: [Family] { lengthNormalised ? [.autoregressive] : SampledGenerate.families }

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        ClaimInstance(family: family, instance: BinaryRewardGenerate.file(&g, family: family))
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let u = try PracticalUpdate(instance: inst, settings: BinaryRewardGenerate.plain)
        let psr = u.psrDirection(inst.start, lengthNormalised: lengthNormalised)
        let nsr = u.nsrDirection(inst.start, lengthNormalised: lengthNormalised)
        let d = relativeDistance(psr, nsr)
        return Evaluation(hypotheses: ["binary-reward": BinaryRewardGenerate.binaryMargin(inst), "moves": norm(psr) - 1e-9,
                                       "resolvable": BinaryRewardGenerate.resolvableMargin(u)],
                          conclusion: identityTolerance - d,
                          quantities: ["relative_distance": d, "psr_norm": norm(psr), "nsr_norm": norm(nsr),
                                       "cosine": dot(psr, nsr) / Swift.max(norm(psr) * norm(nsr), 1e-300)])
    }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { withRoundOffAllowance(try evaluate(ci)) }

    var failureExplanation: String? {
        lengthNormalised ? "dividing by |y| reweights the samples: PSR − NSR = Σ_y p(y)/|y|·∇log p(y), which vanishes only when every sequence has the same length (Σ_y p∇log p = 0 needs a constant weight); short sequences get more credit, so the two disagree" : nil
    }
    var workedExample: WorkedExample? {
        guard lengthNormalised else { return nil }
        return WorkedExample("one prompt, vocab 1, max_length 2 (sequences ε, a, aa of lengths 1, 2, 2), r = (1, 0, 0), uniform start: PSR raises ε by its whole score, NSR lowers a and aa by half of theirs",
                             ClaimInstance(family: .autoregressive, instance: {
                                 var f = Generate.file(beta: 0, weights: [1], data: [[1.0 / 3, 1.0 / 3, 1.0 / 3]], reward: [[1, 0, 0]], reference: [[1.0 / 3, 1.0 / 3, 1.0 / 3]],
                                                       start: [[1.0 / 3, 1.0 / 3, 1.0 / 3]])
                                 f.policy = .init(kind: "autoregressive", vocab: 1, maxLength: 2)
                                 return f
                             }()))
    }
}

/// GRPO with a binary reward and group std scaling ascends Σ_x q·2·arcsin√p_x rather than J: the
/// expected update is parallel to ∇F, F = Σ_x q(x)·2·arcsin√p_x (∂F/∂p_x = q/√(p_x(1 − p_x))).
/// `grpo-binary-arcsin` asks it of TRL's exact update at finite G; `grpo-binary-arcsin-limit` of
/// the population update (G → ∞, the std's 10⁻⁴ dropped).
struct GRPOBinaryArcsin: Claim {
    let population: Bool
    var id: String { population ? "grpo-binary-arcsin-limit" : "grpo-binary-arcsin" }
    let reference = "practice (TRL's GRPO with a binary reward), not a statement of the paper"
    var statement: String {
        population
            ? "With a binary reward, GRPO's population update (G → ∞: advantage (r − p_x)/√(p_x(1 − p_x)), the std's 10⁻⁴ dropped) equals ∇_θ Σ_x q(x)·2·arcsin√p_x exactly, p_x = p_θ(r = 1|x), in every policy class."
            : "With a binary reward and group std scaling, TRL's GRPO expected update at a finite group size G (ratio 1, β = 0, exact over every group; tabular) is parallel to ∇_θ Σ_x q(x)·2·arcsin√p_x: GRPO ascends the arcsine objective, not J."
    }
    let hypotheses = [BinaryRewardGenerate.binaryHypothesis, Hypothesis("moves", "‖∇ Σ q 2 arcsin√p_x‖ ≥ 1e-9"), BinaryRewardGenerate.resolvableHypothesis]
    var families: [Family] { population ? SampledGenerate.families : [.tabularSingle, .tabularMulti] }

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        if population { return ClaimInstance(family: family, instance: BinaryRewardGenerate.file(&g, family: family)) }
        let f = BinaryRewardGenerate.file(&g, family: .tabular, maxPrompts: family == .tabularSingle ? 1 : 3)
        return ClaimInstance(family: family, instance: f, parameters: ["group_size": Double(g.int(2...6))])
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let plain = try PracticalUpdate(instance: inst, settings: BinaryRewardGenerate.plain)
        let p = BinaryRewardGenerate.successProbabilities(plain)
        let sigma = p.map { ($0 * (1 - $0)).squareRoot() }
        let target = BinaryRewardGenerate.weightedSuccessGradient(inst, weights: inst.weights.indices.map { sigma[$0] > 0 ? inst.weights[$0] / sigma[$0] : 0 })
        var q: [String: Double] = ["arcsin_gradient_norm": norm(target)]
        let v: [Double]
        if population {
            v = plain.populationGRPODirection(inst.start)
        } else {
            let g = Int(try ci.parameter("group_size"))
            var s = PracticalSettings(method: .grpo)
            s.groupSize = g; s.scaling = .group; s.klCoef = 0
            v = try PracticalUpdate(instance: inst, settings: s).direction(inst.start)
            // The exchangeability form Σ_x q w_G(p_x)∇p_x, and how far w_G is from the arcsine weight 1/σ.
            let w = p.map { PracticalUpdate.binaryGroupWeight(successProbability: $0, groupSize: g, scaling: .group) }
            q["exchangeability_gap"] = relativeDistance(v, BinaryRewardGenerate.weightedSuccessGradient(inst, weights: inst.weights.indices.map { inst.weights[$0] * w[$0] }))
            let ratios = p.indices.map { w[$0] * sigma[$0] }
            q["weight_ratio_min"] = ratios.min() ?? 0
            q["weight_ratio_max"] = ratios.max() ?? 0
            q["group_size"] = Double(g)
        }
        // Directions: the unit vectors' distance (0 iff parallel with the same orientation).
        let nv = norm(v), nt = norm(target)
        let d = nv > 0 && nt > 0 ? norm(zip(v, target).map { $0 / nv - $1 / nt }) : (nv == nt ? 0 : 1)
        q["direction_distance"] = d
        q["update_norm"] = nv
        return Evaluation(hypotheses: ["binary-reward": BinaryRewardGenerate.binaryMargin(inst), "moves": nt - 1e-9,
                                       "resolvable": BinaryRewardGenerate.resolvableMargin(plain)],
                          conclusion: identityTolerance - d, quantities: q)
    }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { withRoundOffAllowance(try evaluate(ci)) }

    var failureExplanation: String? {
        population ? nil : "at finite G the update is Σ_x q w_G(p_x)∇p_x with w_G(p) = E[A | correct] − E[A | wrong], which is not proportional to 1/√(p(1 − p)): at G = 2 it is the constant 0.5/(√½ + 10⁻⁴) ≈ 0.707, so GRPO ascends J itself; only as G → ∞ does w_G·√(p(1 − p)) → 1 (one prompt: every weight gives a direction parallel to ∇p_x, so the failure needs prompts with different p_x)"
    }
    var workedExample: WorkedExample? {
        guard !population else { return nil }
        return WorkedExample("two prompts with success probabilities 0.5 and 0.1 (r = (1, 0) each), G = 2: the update is 0.5/(√½ + 10⁻⁴)·∇J ≈ 0.707·∇J, but the arcsine objective weighs the second prompt by 1/0.3 against 1/0.5",
                             ClaimInstance(family: .tabularMulti, instance: Generate.file(beta: 0, weights: [0.5, 0.5], data: [[0.5, 0.5], [0.5, 0.5]], reward: [[1, 0], [1, 0]],
                                                                                          start: [[0.5, 0.5], [0.1, 0.9]]), parameters: ["group_size": 2]))
    }
}
