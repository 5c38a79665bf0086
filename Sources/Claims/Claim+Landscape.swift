import Foundation
import Linalg
import Policies
import Flows

/// Policy instances for the flow claims: tabular with positive data (realisable: the SFT optimum
/// is p_D) or log-linear with d < n features (not realisable); positive references; the start is
/// the class's SFT optimum unless "stationary" is dropped.
func flowInstance(_ g: inout SeededGenerator, family: Family, positiveBeta: Bool, randomStart: Bool) -> ClaimInstance {
    let m = g.int(1...3)
    let sizes = (0..<m).map { _ in g.int(2...6) }
    let beta = positiveBeta || g.uniform() < 0.7 ? Foundation.pow(10, g.uniform(-1, 1)) : 0
    var f = Generate.file(beta: beta, weights: Generate.weights(&g, m),
                          data: sizes.map { mixed(&g, $0) }, reward: sizes.map { Generate.reward(&g, $0).map { $0 / Swift.max(1, $0.magnitude) } },
                          reference: sizes.map { mixed(&g, $0) },
                          start: randomStart ? sizes.map { mixed(&g, $0) } : nil)
    if family == .loglinear {
        let d = g.int(1...Swift.max(1, sizes.min()! - 1))
        f.policy = .init(kind: "loglinear", features: sizes.map { n in let x = Generate.features(&g, n: n, d: d, illConditioned: false); return (0..<n).map { x.row($0) } },
                         theta: randomStart ? (0..<d).map { _ in g.normal() } : nil)
        for x in f.prompts.indices { f.prompts[x].start = nil }
    }
    return ClaimInstance(family: family, instance: f, parameters: ["T": Foundation.pow(10, g.uniform(-0.5, 0.7))])
}

/// A spread simplex point mixed with 20% of the uniform one (minimum mass 0.2/n): flows stay
/// moderately stiff, so that thousands of integrated instances take seconds.
private func mixed(_ g: inout SeededGenerator, _ n: Int) -> [Double] {
    Generate.simplex(&g, n, style: .spread).map { 0.8 * $0 + 0.2 / Double(n) }
}

/// Integrates the flow `kind` from θ and returns the states at `times`.
func flowStates(_ inst: Instance, from theta: [Double], kind: PhaseKind, times: [Double], rtol: Double) throws -> [[Double]] {
    var i = inst
    i.start = theta
    let flow = try PolicyFlow(instance: i, kind: kind)
    var o = IntegratorOptions()
    o.rtol = rtol
    o.atol = rtol * 1e-2
    return try integrate(flow.system, from: 0, y0: theta, to: times.last!, outputTimes: times, options: o).states
}

/// The quadratic sandwich of a function f ≥ f* around its minimiser set S = θ* + (null directions):
/// (μ/2)·d² ≤ f(θ) − f* ≤ (L/2)·d², d = dist(θ, S). μ is the smallest PL ratio ½‖∇f‖²/(f − f*) met
/// along the gradient flow of f from θ back to S (PL on that path is what the proof of PL ⇒
/// quadratic growth uses); L is a smoothness constant of f between θ* and θ.
struct Sandwich {
    let gap: Double, distance: Double, mu: Double, smooth: Double
    /// Whether the return flow reached f − f* ≤ 1e-8·gap before its horizon (10⁶): if not, μ is
    /// only an upper estimate of the path's PL constant and the PL hypothesis is not established.
    let converged: Bool
    var lower: Double { 0.5 * mu * distance * distance }
    var upper: Double { 0.5 * smooth * distance * distance }
    /// Margins of lower ≤ gap and gap ≤ upper, on the scale of the gap.
    var lowerMargin: Double { inequalityMargin(lower, gap, scale: gap) }
    var upperMargin: Double { inequalityMargin(gap, upper, scale: gap) }

    /// The claim's evaluation at one point. The PL hypothesis is established only when the flow
    /// left S (f − f* > 1e-12: otherwise there is nothing to check) and the return flow converged;
    /// the conclusion is the smaller of the two sandwich margins.
    func evaluation(names: (gap: String, mu: String, smooth: String), hypotheses extra: [String: Double],
                    quantities extraQuantities: [String: Double]) -> Evaluation {
        let established = gap > 1e-12 && converged && mu.isFinite
        return Evaluation(hypotheses: extra.merging(["PL": established ? mu : -1]) { a, _ in a },
                          conclusion: gap > 1e-12 ? Swift.min(lowerMargin, upperMargin) : 0,
                          quantities: extraQuantities.merging([names.gap: gap, "distance": distance, names.mu: mu, names.smooth: smooth,
                                                               "lower_margin": lowerMargin, "upper_margin": upperMargin]) { a, _ in a })
    }

    /// - objective/sign: f = sign·value(objective); the return flow `descent` is f's gradient flow.
    init(_ inst: Instance, objective: Objective, sign: Double, optimum: [Double], at theta: [Double],
         descent: PhaseKind, smooth: Double, subspace: MovingSubspace, rtol: Double) throws {
        func f(_ th: [Double]) -> Double { sign * inst.value(objective, at: inst.point(th)) }
        let fStar = f(optimum)
        gap = f(theta) - fStar
        distance = norm(subspace.project(axpy(theta, -1, optimum)))
        // The return flow, sampled on a geometric time grid, until f − f* falls below 1e-8 of the
        // gap (a terminal event): below that the PL ratio is roundoff.
        var i = inst
        i.start = theta
        let flow = try PolicyFlow(instance: i, kind: descent)
        // The PL ratio needs no high accuracy: the return flow runs at 1e4 × the claim's rtol.
        var o = IntegratorOptions()
        o.rtol = rtol * 1e4
        o.atol = o.rtol * 1e-2
        o.eventSamplesPerStep = 2
        let times = (0...45).map { 1e-3 * Foundation.pow(1e9, Double($0) / 45) }
        let floor = 1e-8 * gap
        let done = Event(name: "converged", level: floor, direction: .down, isTerminal: true) { _, y in f(y) - fStar }
        let run = try integrate(flow.system, from: 0, y0: theta, to: times.last!, outputTimes: times, events: [done], options: o)
        converged = run.stoppedByEvent
        let path = run.states
        var m = Double.infinity
        for th in [theta] + path {
            let d = f(th) - fStar
            guard d > floor else { break }
            let gn = norm(inst.gradient(objective, at: inst.point(th)))
            m = Swift.min(m, 0.5 * gn * gn / d)
        }
        mu = m
        self.smooth = smooth
    }
}

/// R1, local: at an SFT stationary point θ₀, along the RL flow θ̇ = ∇J_β (∇J when β = 0),
/// d/dt L_SFT = ⟨∇L_SFT, ∇J_β⟩ = 0 at t = 0 and d²/dt² L_SFT = ∇J_βᵀ H_SFT ∇J_β ≥ 0, and L_SFT does not
/// fall along the integrated flow.
struct R1Local: FlowClaim {
    let id = "r1-local"
    let reference = "reconstruction of v2 (R1, local)"
    let statement = "At an SFT stationary point θ₀, along θ̇ = ∇J_β: d/dt L_SFT = ⟨∇L_SFT, ∇J_β⟩ = 0 at t = 0, d²/dt² L_SFT = ∇J_βᵀ H_SFT ∇J_β ≥ 0 (tabular: H_SFT = blockdiag q(diag p_D − p_D p_Dᵀ)), and L_SFT(θ_t) ≥ L_SFT(θ₀) along the integrated flow (up to the first-order allowance ‖∇L_SFT(θ₀)‖·‖θ_t − θ₀‖ of a numerically stationary θ₀)."
    let hypotheses = [Hypothesis("stationary", "θ₀ is an SFT stationary point: ‖∇L_SFT(θ₀)‖ ≤ 1e-8·(1 + ‖∇J_β‖)")]
    let families: [Family] = [.tabular, .loglinear]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        flowInstance(&g, family: family, positiveBeta: false, randomStart: dropping.contains("stationary"))
    }
    func margins(_ ci: ClaimInstance, rtol: Double) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let pt = inst.point()
        let gl = inst.gradient(.sft, at: pt), gj = inst.gradient(.rewardRegularized, at: pt)
        let h = inst.hessian(.sft, at: pt)
        let nl = norm(gl), nj = norm(gj)
        let lmax = try inst.policy.sftSmoothnessBound(weights: inst.weights)
        let first = dot(gl, gj), second = dot(gj, matvec(h, gj))
        let firstMargin = nj > 0 ? 1e-6 - abs(first) / (nj * (1 + nj)) : 1e-6
        let secondMargin = nj > 0 ? second / (nj * nj * lmax) : 0
        // Along the integrated RL flow.
        let T = try ci.parameter("T")
        let times = (1...10).map { T * Double($0) / 10 }
        let l0 = inst.value(.sft, at: pt)
        let states = try flowStates(inst, from: inst.start, kind: .rl, times: times, rtol: rtol)
        // L_SFT is convex in θ (softmax-linear class), so L(θ_t) ≥ L(θ₀) − ‖∇L(θ₀)‖·‖θ_t − θ₀‖: the
        // residual gradient of an only numerically stationary θ₀ allows that much first-order fall.
        let rises = states.map { inst.value(.sft, at: inst.point($0)) - l0 }
        let allowed = states.map { nl * norm(axpy($0, -1, inst.start)) }
        let flowMargin = zip(rises, allowed).map { $0 + $1 }.min().map { $0 / Swift.max(1, abs(l0)) } ?? 0
        let t1 = times[0] / 100
        let early = try flowStates(inst, from: inst.start, kind: .rl, times: [t1], rtol: rtol)[0]
        let fdSecond = 2 * (inst.value(.sft, at: inst.point(early)) - l0) / (t1 * t1)
        return Evaluation(hypotheses: ["stationary": 1e-8 - nl / (1 + nj)],
                          conclusion: Swift.min(firstMargin, secondMargin, flowMargin),
                          quantities: ["first_derivative": first, "second_derivative": second, "second_derivative_fd_along_flow": fdSecond,
                                       "min_rise_along_flow": rises.min() ?? 0, "grad_sft_norm": nl, "grad_rl_norm": nj, "T": T])
    }
}

/// R1, global: the PL sandwich of L_SFT around its minimiser set along an RL flow started there.
struct R1Global: FlowClaim {
    let id = "r1-global"
    let reference = "reconstruction of v2 (R1, global)"
    let statement = "With L_SFT μ_S-PL and L_S-smooth: (μ_S/2)·dist(θ, S)² ≤ L_SFT(θ) − L* ≤ (L_S/2)·dist(θ, S)², checked at points of an RL flow started on S, with μ_S the least PL ratio on the SFT flow back to S and L_S = ½λ_max(Σ q Φᵀ Φ) the global smoothness bound."
    let hypotheses = [Hypothesis("PL", "L_SFT is PL on the way back (μ_S > 0, the return flow converged, the RL flow left S)"),
                      Hypothesis("stationary", "the RL flow starts on the SFT minimiser set S")]
    let families: [Family] = [.tabular, .loglinear]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        flowInstance(&g, family: family, positiveBeta: false, randomStart: dropping.contains("stationary"))
    }
    func margins(_ ci: ClaimInstance, rtol: Double) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let opt = try inst.sftOptimum().theta
        let sub = try MovingSubspace(instance: inst)
        let ls = try inst.policy.sftSmoothnessBound(weights: inst.weights)
        let T = try ci.parameter("T")
        let theta = try flowStates(inst, from: inst.start, kind: .rl, times: [T], rtol: rtol)[0]
        let s = try Sandwich(inst, objective: .sft, sign: 1, optimum: opt, at: theta, descent: .sft, smooth: ls, subspace: sub, rtol: rtol)
        let startGradient = norm(inst.gradient(.sft, at: inst.point()))
        return s.evaluation(names: ("sft_excess", "mu_S", "L_S"), hypotheses: ["stationary": 1e-8 - startGradient], quantities: ["T": T])
    }
}

/// R1, realisable identity: in the tabular class L_SFT − L* = E_x KL(p_D‖p_θ) along any path.
struct R1GlobalKL: FlowClaim {
    let id = "r1-global-kl"
    let reference = "reconstruction of v2 (R1, realisable identity)"
    let statement = "When the class contains p_D (realisable), L_SFT(θ) − L* = E_x KL(p_D‖p_θ) at every θ, here along an RL flow from the SFT optimum."
    let hypotheses = [Hypothesis("realisable", "the class contains p_D: L* = E_x H(p_D)")]
    let families: [Family] = [.tabular, .loglinear]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        flowInstance(&g, family: family, positiveBeta: false, randomStart: false)
    }
    func margins(_ ci: ClaimInstance, rtol: Double) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let opt = try inst.sftOptimum().theta
        let lStar = inst.value(.sft, at: inst.point(opt))
        let entropy = inst.weights.indices.reduce(0.0) { $0 + inst.weights[$1] * Dist.entropy(inst.data[$1]) }
        let T = try ci.parameter("T")
        var worst = identityTolerance
        for th in try flowStates(inst, from: inst.start, kind: .rl, times: [T / 3, 2 * T / 3, T], rtol: rtol) {
            let pt = inst.point(th)
            worst = Swift.min(worst, identityMargin(inst.value(.sft, at: pt) - lStar, inst.value(.klDataPolicy, at: pt)))
        }
        return Evaluation(hypotheses: ["realisable": 1e-9 - (lStar - entropy) / Swift.max(1, abs(lStar))], conclusion: worst,
                          quantities: ["L_star": lStar, "data_entropy": entropy, "T": T])
    }
}

/// R2: the symmetric sandwich for the reward: an SFT flow from the RL optimum θ_R that ends at
/// distance d from the maximiser set costs between (μ_R/2)d² and (L_R/2)d² of J_β.
struct R2: FlowClaim {
    let id = "r2"
    let reference = "reconstruction of v2 (R2)"
    let statement = "If −J_β is μ_R-PL around its maximiser set S_R, an SFT flow from θ_R that moves θ to distance d costs at least (μ_R/2)d² of J_β, and at most (L_R/2)d²; μ_R is the least PL ratio on the RL flow back, L_R the largest eigenvalue of −∇²J_β on 17 points of the segment from θ_R."
    let hypotheses = [Hypothesis("PL", "−J_β is PL on the way back (μ_R > 0, the return flow converged, the SFT flow left S_R)"), Hypothesis("β > 0", "the KL coefficient is positive (the maximiser is attained)")]
    let families: [Family] = [.tabular]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        var ci = flowInstance(&g, family: family, positiveBeta: true, randomStart: false)
        // β ∈ [0.5, 5] against rewards in [−1, 1]: the Gibbs optimum keeps probability ratios
        // ≤ e⁴, so the RL return flow converges in bounded time (a cost choice, stated).
        ci.instance!.beta = Foundation.pow(10, g.uniform(Foundation.log10(0.5), Foundation.log10(5)))
        // Start at the Gibbs optimum p_R ∝ π_ref e^{r/β}.
        let f = ci.instance!
        ci.instance!.prompts = f.prompts.map { p in var p = p; p.start = Dist.gibbs(reference: p.reference!, reward: p.reward, beta: f.beta); return p }
        return ci
    }
    func margins(_ ci: ClaimInstance, rtol: Double) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        guard inst.beta > 0 else { throw ClaimError.invalid("r2 needs beta > 0") }
        let opt = try inst.rlOptimum().theta
        let sub = try MovingSubspace(instance: inst)
        let T = try ci.parameter("T")
        let theta = try flowStates(inst, from: inst.start, kind: .sft, times: [T], rtol: rtol)[0]
        var lr = 0.0
        for k in 0...16 {
            let p = axpy(opt, Double(k) / 16, axpy(theta, -1, opt))
            lr = Swift.max(lr, try symmetricEigen(sub.restrict(-1 * inst.hessian(.rewardRegularized, at: inst.point(p)))).values.last ?? 0)
        }
        let s = try Sandwich(inst, objective: .rewardRegularized, sign: -1, optimum: opt, at: theta, descent: .rl, smooth: lr, subspace: sub, rtol: rtol)
        return s.evaluation(names: ("reward_cost", "mu_R", "L_R"), hypotheses: ["β > 0": inst.beta], quantities: ["T": T])
    }
}

// MARK: What each claim knows (worked example, search constraints)

/// The hand instance of the R1 claims: start = p_D = (0.6, 0.3, 0.1), r = (0, 1, 0), π_ref = (0.4, 0.3, 0.3), β = 0.5, T = 2.
let r1Example = WorkedExample(
    "tabular, one prompt: start = p_D = (0.6, 0.3, 0.1) (the SFT optimum), r = (0, 1, 0), π_ref = (0.4, 0.3, 0.3), β = 0.5, RL flow for T = 2",
    ClaimInstance(family: .tabular, instance: Generate.file(beta: 0.5, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[0, 1, 0]], reference: [[0.4, 0.3, 0.3]]),
                  parameters: ["T": 2]))

extension R1Local { var workedExample: WorkedExample? { r1Example } }
extension R1Global { var workedExample: WorkedExample? { r1Example } }
extension R1GlobalKL { var workedExample: WorkedExample? { r1Example } }
extension R2 {
    var workedExample: WorkedExample? {
        let g = Dist.gibbs(reference: [0.4, 0.3, 0.3], reward: [0, 1, 0], beta: 0.5)
        return WorkedExample("tabular, one prompt: start = the Gibbs optimum of π_ref = (0.4, 0.3, 0.3), r = (0, 1, 0), β = 0.5; SFT flow toward p_D = (0.6, 0.3, 0.1) for T = 1",
                             ClaimInstance(family: .tabular, instance: Generate.file(beta: 0.5, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[0, 1, 0]],
                                                                                     reference: [[0.4, 0.3, 0.3]], start: [g]), parameters: ["T": 1]))
    }
    /// r2 starts at the Gibbs optimum of (reference, reward, β): the search keeps those fixed.
    var searchFrozen: Set<String> { ["start", "reference", "reward", "beta"] }
}
