import Foundation
import Linalg
import Policies
import Flows

// The three failure mechanisms of std-scaled GRPO (issue 19, item 6), each as a reading of its own:
// 1. `grpo-std-prompts`: dividing each prompt's gradient by its reward's standard deviation
//    reweights prompts (Dr. GRPO, arXiv 2503.20783), which turns a sum of per-prompt ascent
//    directions away from ∇J when prompts share parameters;
// 2. `grpo-fisher-batch`: the batch standard deviation is a random factor correlated with a prompt's
//    rare sample; judged in the Fisher metric on full classes, where mechanisms 1 and 3 are absent;
// 3. `grpo-fisher-group`: for group scaling the expected update is F·ĉ with ĉ(y) = E[A₁ | y₁ = y]
//    increasing in r(y), so it ascends J in the Fisher metric; the Euclidean failures on one prompt
//    (grpo-ascent-group) are a metric effect.

/// ⟨a, F⁺b⟩ and the F⁺-norms of a and b, F⁺ the Moore–Penrose pseudo-inverse of a symmetric
/// positive semidefinite F (eigenvalues below 10⁻¹²·λ_max treated as 0), with F's eigenvalues in
/// descending order.
func fisherInnerProducts(_ f: Matrix, _ a: [Double], _ b: [Double]) throws -> (ab: Double, aa: Double, bb: Double, eigenvalues: [Double]) {
    let e = try symmetricEigen(f)
    let lmax = e.values.last ?? 0
    var ab = 0.0, aa = 0.0, bb = 0.0
    for k in e.values.indices where e.values[k] > 1e-12 * lmax {
        let u = e.vector(k)
        let ua = dot(u, a), ub = dot(u, b)
        ab += ua * ub / e.values[k]; aa += ua * ua / e.values[k]; bb += ub * ub / e.values[k]
    }
    return (ab, aa, bb, e.values.reversed())
}

/// Whether the expected GRPO update ascends J in the Fisher metric: ⟨E Δθ, F⁺∇J⟩ > 0, with F the
/// q-weighted Fisher information of the class at θ and F⁺ its pseudo-inverse (F⁺∇J is the natural
/// gradient). `dr_grpo` aggregation (a constant token weight), no KL, one inner iteration, SGD.
///
/// On a full class (hypothesis `full-class`: rank F = Σ_x (n_x − 1), as for tabular and
/// autoregressive classes), ⟨E Δθ, F⁺∇J⟩ = (1/L_max)·Σ_x q(x)·Cov_{p_x}(ĉ_x, r_x), ĉ_x(y) the
/// expected advantage of a sample given that it is y; for `group` scaling ĉ_x is strictly
/// increasing in r_x(y), so the sum is > 0 whenever ∇J ≠ 0 (proofs/grpo-fisher-group.md).
struct GRPOFisherAscent: Claim {
    let scaling: AdvantageScaling
    var id: String { "grpo-fisher-\(scaling.rawValue)" }
    let reference = "practice (TRL's GRPO), not a statement of the paper"
    var statement: String {
        "In a full class (rank F = Σ_x (n_x − 1)), the expected GRPO update with advantage scaling '\(scaling.rawValue)' and aggregation 'dr_grpo' (G samples per prompt, no KL, one inner step) ascends J in the Fisher metric: ⟨E Δθ, F⁺∇J⟩ > 0 whenever ∇J ≠ 0 (F⁺∇J the natural gradient)."
    }
    let hypotheses = [Hypothesis("gradient-nonzero", "‖∇J‖ ≥ 1e-6"),
                      Hypothesis("full-class", "rank F = Σ_x (n_x − 1): the (Σ_x (n_x − 1))-th largest eigenvalue of the Fisher information is at least 1e-10 of the largest (tabular and autoregressive classes; log-linear only with enough features)")]
    let families = SampledGenerate.families
    let strict = true
    let shrinkable = false

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let f = SampledGenerate.file(&g, family: family, beta: 0)
        let k = SampledGenerate.withinBudget(size: g.int(2...4), responses: f.prompts[0].data.count).size
        return ClaimInstance(family: family, instance: f, parameters: ["group_size": Double(k)])
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        var c = SampledConfig(method: .grpo)
        c.scaling = scaling; c.aggregation = .drGRPO
        c.groupSize = Int(try ci.parameter("group_size")); c.eta = 1; c.klCoefficient = 0
        let d = try UpdateDistribution.exactByPrompt(try SampledAlgorithm(instance: inst, config: c), theta: inst.start)
        let f = inst.fisher(at: inst.point())
        let ip = try fisherInnerProducts(f, d.expectedUpdate, d.gradient)
        let rank = inst.weights.indices.filter { inst.weights[$0] > 0 }.reduce(0) { $0 + inst.responseCounts[$1] - 1 }
        let lmax = ip.eigenvalues.first ?? 0
        let full = rank == 0 ? 1 : (rank <= ip.eigenvalues.count && lmax > 0 ? ip.eigenvalues[rank - 1] / lmax - 1e-10 : -1)
        let denominator = (ip.aa * ip.bb).squareRoot()
        let cosine = denominator > 1e-300 ? ip.ab / denominator : 0
        return Evaluation(hypotheses: ["gradient-nonzero": d.gradientNorm - 1e-6, "full-class": full],
                          conclusion: cosine,
                          quantities: ["fisher_cosine": cosine, "natural_inner_product": ip.ab,
                                       // ⟨E Δθ, F⁺∇J⟩/⟨∇J, F⁺∇J⟩: the update's natural-gradient component in units of the natural gradient.
                                       "natural_ascent_ratio": ip.bb > 0 ? ip.ab / ip.bb : 0,
                                       "euclidean_cosine": d.cosine, "grad_norm": d.gradientNorm,
                                       "ascent_ratio": d.gradientNorm > 0 ? dot(d.expectedUpdate, d.gradient) / (d.gradientNorm * d.gradientNorm) : 0])
    }
    /// Double only (as the grpo-ascent claims): the re-check adds a round-off allowance of 10⁻⁹ to the cosine.
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation {
        var e = try evaluate(ci)
        e.conclusion += 1e-9
        return e
    }
}

/// Mechanism 1 alone: the expected update of GRPO with each prompt's advantages divided by the
/// standard deviation of its reward under p_θ (a fixed number per prompt, not a sample's), that is
/// d = (1 − 1/G)·Σ_x q(x)∇J_x/(σ_x + 10⁻⁴) with ∇J_x = ∇_θ E_{p_θ(·|x)}[r] and σ_x = sd_{p_θ(·|x)}(r):
/// is it an ascent direction of J = Σ_x q(x)J_x? Margin: cos∠(d, ∇J).
struct GRPOStdPrompts: Claim {
    let id = "grpo-std-prompts"
    let reference = "practice (TRL's GRPO), not a statement of the paper"
    let statement = "Dividing each prompt's policy gradient by its reward's standard deviation under p_θ (GRPO's std scaling with the sample std replaced by the population one: Dr. GRPO's question-level difficulty bias) keeps an ascent direction of J: ⟨Σ_x q(x)∇J_x/(σ_x + 1e-4), ∇J⟩ > 0 whenever ∇J ≠ 0."
    let hypotheses = [Hypothesis("gradient-nonzero", "‖∇J‖ ≥ 1e-6")]
    let families = SampledGenerate.families
    let strict = true
    let shrinkable = false

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        ClaimInstance(family: family, instance: SampledGenerate.file(&g, family: family, beta: 0), parameters: [:])
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let pt = inst.point()
        let grad = inst.gradient(.reward, at: pt)
        var d = [Double](repeating: 0, count: grad.count)
        var sigmas: [Double] = []
        for x in inst.weights.indices where inst.weights[x] > 0 {
            var one = inst
            one.weights = inst.weights.indices.map { $0 == x ? inst.weights[x] : 0 }
            let gx = one.gradient(.reward, at: pt)
            let p = pt.probs[x], r = inst.reward[x]
            let mean = zip(p, r).reduce(0) { $0 + $1.0 * $1.1 }
            let sigma = zip(p, r).reduce(0) { $0 + $1.0 * ($1.1 - mean) * ($1.1 - mean) }.squareRoot()
            sigmas.append(sigma)
            for i in d.indices { d[i] += gx[i] / (sigma + 1e-4) }
        }
        let nd = norm(d), ng = norm(grad)
        let cosine = nd > 1e-300 && ng > 1e-300 ? dot(d, grad) / (nd * ng) : 0
        return Evaluation(hypotheses: ["gradient-nonzero": ng - 1e-6], conclusion: cosine,
                          quantities: ["cosine": cosine, "grad_norm": ng, "ascent_ratio": ng > 0 ? dot(d, grad) / (ng * ng) : 0,
                                       "sigma_min": sigmas.min() ?? 0, "sigma_max": sigmas.max() ?? 0])
    }
    /// Double only: the re-check adds a round-off allowance of 10⁻⁹ to the cosine.
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation {
        var e = try evaluate(ci)
        e.conclusion += 1e-9
        return e
    }
}
