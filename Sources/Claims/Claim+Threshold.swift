import Foundation
import RealModule
import Linalg
import Policies

/// R4, exact-optimum form: with p_SFT ≠ p_D, π_ref = p_SFT and p_RL the Gibbs optimum, RL lowers
/// L_SFT iff E_x E_{p_D}[r] > β·E_x log E_{p_SFT}[e^{r/β}], and the right side φ(β) decreases in β.
struct R4Threshold: PrecisionGenericClaim {
    let id = "r4-threshold"
    let reference = "reconstruction of v2 (R4, exact-optimum form)"
    let statement = "With π_ref = p_SFT and p_RL the Gibbs optimum: L_SFT(p_RL) − L_SFT(p_SFT) = −[E_x E_{p_D} r − φ(β)]/β with φ(β) = β·E_x log E_{p_SFT} e^{r/β}, so RL lowers the SFT loss iff E_x E_{p_D} r > φ(β); φ is non-increasing in β, so there is at most one threshold β*."
    let hypotheses = [Hypothesis("ref-is-sft", "the RL reference is the SFT model: π_ref = p_SFT"), Hypothesis("β > 0", "the KL coefficient is positive")]
    let families: [Family] = [.tabularSingle, .tabularMulti]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        sftThenRLInstance(&g, family: family, dropping: dropping.union(["H10"]))
    }
    /// φ(β) = β·E_x log E_{p_SFT} e^{r/β}.
    static func phi<T: Real & BinaryFloatingPoint>(_ a: Arrays<T>, _ beta: T) -> T {
        a.average { beta * DistOf<T>.logPartition(reference: a.start[$0], reward: a.reward[$0], beta: beta) }
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let f = try ci.requireInstance()
        let s = try SFTThenRL<T>(f)
        let a = Arrays<T>(f)
        let eData = a.average { DistOf<T>.expectation(a.data[$0], a.reward[$0]) }
        let condition = eData - R4Threshold.phi(a, a.beta)
        let identity = identityMargin(s.deltaL, -condition / a.beta)
        // Monotonicity of φ on a log grid of 49 values of β in [1e-3, 1e3].
        let grid = (0...48).map { T(Foundation.pow(10, -3 + 6 * Double($0) / 48)) }
        let values = grid.map { R4Threshold.phi(a, $0) }
        var worst = -T.infinity   // the largest rise of φ between grid points (negative: strictly decreasing)
        for i in 1..<values.count {
            let rise = a.rewardBound > 0 ? (values[i] - values[i - 1]) / a.rewardBound : 0
            worst = Swift.max(worst, rise)
        }
        // β*: the crossing of φ(β) = E E_{p_D} r, by bisection in log β when it is bracketed by the grid.
        var betaStar: T = -1
        if let i = values.indices.dropFirst().first(where: { (values[$0 - 1] - eData) * (values[$0] - eData) <= 0 }) {
            var lo = T.log(grid[i - 1]), hi = T.log(grid[i])
            for _ in 0..<80 {
                let mid = (lo + hi) / 2
                if (R4Threshold.phi(a, T.exp(mid)) - eData) * (values[i - 1] - eData) > 0 { lo = mid } else { hi = mid }
            }
            betaStar = T.exp((lo + hi) / 2)
        }
        return evaluation(hypotheses: ["ref-is-sft": s.refIsSFT, "β > 0": s.beta],
                          conclusion: Swift.min(identity, -worst),
                          quantities: ["delta_sft_loss": s.deltaL, "E_data_reward": eData, "phi_beta": R4Threshold.phi(a, a.beta),
                                       "rl_lowers_sft": condition > 0 ? 1 : 0, "beta_star": betaStar, "max_rise_of_phi_over_R_max": worst])
    }
}

/// R4, step form: one step θ' = θ + η g along g = ∇J_β lowers L_SFT whenever
/// cos∠(−∇L_SFT, g) > η·L_S‖g‖/(2‖∇L_SFT‖), with L_S a smoothness constant of L_SFT (the descent lemma).
struct R4Step: Claim {
    let id = "r4-step"
    let reference = "reconstruction of v2 (R4, step form)"
    let statement = "A step θ + ηg with g = ∇J_β decreases L_SFT when cos∠(−∇L_SFT, g) > η·L_S‖g‖/(2‖∇L_SFT‖), L_S a global smoothness constant of L_SFT (here ½λ_max(Σ_x q Φ_xᵀΦ_x))."
    let hypotheses = [Hypothesis("step-condition", "cos∠(−∇L_SFT, g) > η·L_S‖g‖/(2‖∇L_SFT‖)"),
                      Hypothesis("smoothness", "L_S bounds the SFT Hessian everywhere (dropping it uses the local λ_max at θ)"),
                      Hypothesis("resolvable", "the step is numerically visible: the first-order change η|⟨∇L_SFT, g⟩| is at least 1e-12·max(1, L_SFT) (a hypothesis of the numerical check, not of the paper)")]
    let families: [Family] = [.tabularMulti, .loglinear]
    let strict = true

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = Generate.promptCount(&g, max: 4)
        let sizes = (0..<m).map { _ in g.int(2...8) }
        var f = Generate.file(beta: g.uniform() < 0.3 ? 0 : Generate.beta(&g), weights: Generate.weights(&g, m),
                              data: sizes.map { Generate.positiveSimplex(&g, $0) }, reward: sizes.map { Generate.reward(&g, $0) },
                              reference: sizes.map { Generate.positiveSimplex(&g, $0) }, start: sizes.map { Generate.positiveSimplex(&g, $0) })
        if family == .loglinear {
            let d = g.int(1...4)
            f.policy = .init(kind: "loglinear", features: sizes.map { n in let x = Generate.features(&g, n: n, d: d, illConditioned: g.uniform() < 0.3); return (0..<n).map { x.row($0) } },
                             theta: (0..<d).map { _ in 2 * g.normal() })
            for x in f.prompts.indices { f.prompts[x].start = nil }
        }
        var ci = ClaimInstance(family: family, instance: f, parameters: ["eta": 1])
        if dropping.contains("smoothness") { ci.parameters["local_smoothness"] = 1 }
        // η as a random fraction of the largest step the condition allows (or beyond it, sometimes).
        if let e = try? evaluate(ci), let limit = e.quantities["eta_limit"], limit > 0 {
            ci.parameters["eta"] = limit * (g.uniform() < 0.8 ? g.uniform(0.01, 1) : g.uniform(1, 3))
        }
        return ci
    }

    struct Step { let inst: Instance; let theta: [Double]; let g: [Double]; let gradL: [Double]; let ls: Double }

    func setUp(_ ci: ClaimInstance, local: Bool) throws -> Step {
        let inst = try Instance(file: try ci.requireInstance())
        try inst.validateForFlows()
        let pt = inst.point()
        let g = inst.gradient(.rewardRegularized, at: pt)
        let gl = inst.gradient(.sft, at: pt)
        let ls = local ? (try symmetricEigen(inst.hessian(.sft, at: pt)).values.last ?? 0) : try inst.policy.sftSmoothnessBound(weights: inst.weights)
        return Step(inst: inst, theta: inst.start, g: g, gradL: gl, ls: ls)
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type, dropSmoothness: Bool) throws -> Evaluation {
        let s = try setUp(ci, local: dropSmoothness)
        let eta = try ci.parameter("eta")
        let gn = norm(s.g), ln = norm(s.gradL)
        let cos = cosine(scaled(s.gradL, -1), s.g)
        let threshold = ln > 0 ? eta * s.ls * gn / (2 * ln) : .infinity
        // The condition is strict and undefined for a zero gradient: such instances do not meet it.
        let condition = gn > 0 && ln > 0 ? cos - threshold : -1
        func loss(_ theta: [T]) -> T { s.inst.sftLoss(at: theta) }
        let th = s.theta.map { T($0) }
        let l0 = loss(th)
        let l1 = loss(zip(th, s.g).map { $0 + T(eta) * T($1) })
        return Evaluation(hypotheses: ["step-condition": condition, "smoothness": dropSmoothness ? -1 : 1,
                                       "resolvable": eta * abs(dot(s.gradL, s.g)) / Swift.max(1, Double(abs(l0))) - 1e-12],
                          conclusion: Double((l0 - l1) / Swift.max(abs(l0), T.leastNormalMagnitude)),
                          quantities: ["cos": cos, "threshold": threshold, "L_S": s.ls, "eta": eta, "grad_sft_norm": ln, "g_norm": gn,
                                       "eta_limit": cos > 0 && s.ls > 0 && gn > 0 ? 2 * cos * ln / (s.ls * gn) : 0,
                                       "sft_loss_before": Double(l0), "sft_loss_after": Double(l1)])
    }
    func evaluate(_ ci: ClaimInstance) throws -> Evaluation { try margins(ci, Double.self, dropSmoothness: ci.parameters["local_smoothness"] == 1) }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation {
        #if arch(x86_64)
        return try margins(ci, Float80.self, dropSmoothness: ci.parameters["local_smoothness"] == 1)
        #else
        return try evaluate(ci)
        #endif
    }
}

extension R4Threshold {
    var workedExample: WorkedExample? {
        WorkedExample("p_D = (0.6, 0.3, 0.1), an under-trained p_SFT = π_ref = (0.3, 0.4, 0.3), r = (1, 0, −1), β = 1: E_{p_D} r = 0.5 lies between E_{p_SFT} r = 0 and max r = 1, so a threshold β* exists",
                      ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 1, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[1, 0, -1]],
                                                                                     reference: [[0.3, 0.4, 0.3]], start: [[0.3, 0.4, 0.3]])))
    }
}
