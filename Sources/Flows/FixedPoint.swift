import Foundation
import Linalg
import Policies

/// A response whose probability tends to 0 along the flow: the limit is 0, approached at a
/// power-law rate p(t) ≈ C·t^(−exponent), the exponent measured between T/2 and T.
public struct BoundaryLimit: Codable, Equatable, Sendable {
    public var prompt: Int
    /// The response (autoregressive: the sequence) index in the instance's order.
    public var response: Int
    /// p at the flow's end time T.
    public var valueAtEnd: Double
    /// log₂(p(T/2)/p(T)): 1 for the 1/t decay of softmax flows towards a face of the simplex.
    public var exponent: Double

    enum CodingKeys: String, CodingKey {
        case prompt, response, exponent
        case valueAtEnd = "value_at_end"
    }
}

/// Where a practical method converges (`sftrl fixedpoint`): the limit of its expected-update flow
/// θ̇ = v(θ) (``PracticalUpdate``) from the instance's start, in closed form where one exists
/// (``FixedPointClosedForm``), checked against the flow.
public struct FixedPoint: Codable, Sendable {
    public var method: String
    /// The options in effect (defaults filled in), by option name without dashes.
    public var settings: [String: String]
    /// "closed-form" (checked against the flow) or "flow" (the flow's limit, extrapolated).
    public var source: String
    /// Per prompt, the limit's response probabilities (autoregressive: sequence probabilities),
    /// in the instance's order; boundary limits are exact zeros.
    public var policy: [[Double]]
    /// ‖v(θ)‖ at the limit (an interior closed form: at its logits; otherwise at the flow's end).
    public var residual: Double
    /// Whether the flow reached the limit (closed form: the flow, extrapolated, agrees with it to
    /// 1e-6 and every boundary response is below 1e-3 and falling; flow: residual ≤ 1e-9, or
    /// ≤ 1e-5 of the start's with a falling boundary).
    public var converged: Bool
    public var sftLoss: Double
    public var reward: Double
    /// J_β with the instance's β (gibbs, rloo, grpo, chord: with β_kl in effect).
    public var rewardReg: Double
    public var klDataPolicy: Double
    public var boundary: [BoundaryLimit]
    /// T, the flow's end time, and the largest |p_flow − p_limit| with p_flow the flow's state at T,
    /// extrapolated to t = ∞ when there is a boundary (Richardson on T/2 and T at the boundary's rate).
    public var flowTime: Double
    public var flowAgreement: Double
    /// Chord-φ: λ of each prompt's water-filling (tabular instances), else absent.
    public var lambda: [Double]?

    enum CodingKeys: String, CodingKey {
        case method, settings, source, policy, residual, converged, reward, boundary, lambda
        case sftLoss = "sft_loss", rewardReg = "reward_reg", klDataPolicy = "kl_data_policy"
        case flowTime = "flow_time", flowAgreement = "flow_agreement"
    }

    /// The last flow time tried.
    public static let horizon = 1e6

    /// Computes the fixed point. Throws ``FlowError`` for bad settings (naming the option), an
    /// instance a flow cannot start from, or an enumeration beyond ``UpdateDistribution/maxOutcomes``.
    public static func compute(instance: Instance, settings: PracticalSettings, horizon: Double = FixedPoint.horizon) throws -> FixedPoint {
        let u = try PracticalUpdate(instance: instance, settings: settings)
        let nodes = u.nodes
        func seqProbs(_ th: [Double]) -> [[Double]] { nodes.sequenceProbabilities(nodes.values(th)) }
        func norm2(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

        // The flow, by decades, until the residual vanishes or the horizon.
        let r0 = norm2(try u.direction(instance.start))
        var theta = instance.start, t = 0.0
        var half = seqProbs(theta), end = half
        var residual = r0
        var opts = IntegratorOptions()
        opts.rtol = 1e-11; opts.atol = 1e-13
        var T = 10.0
        while true {
            let traj = try integrate(u.system, from: t, y0: theta, to: T, outputTimes: [T / 2, T], options: opts)
            theta = traj.finalState; t = T
            half = seqProbs(traj.states[0]); end = seqProbs(theta)
            let previous = residual
            residual = norm2(try u.direction(theta))
            // Stop at the horizon, at a vanishing residual, or where it has stalled at round-off.
            if residual <= 1e-12 * Swift.max(1, r0) || T >= horizon || (residual <= 1e-10 * Swift.max(1, r0) && residual > 0.5 * previous) { break }
            T = Swift.min(T * 10, horizon)
        }

        // The boundary: the closed form's zeros, else responses below 1e-4 and still falling.
        let closed = FixedPointClosedForm.limit(u)
        var boundary: [BoundaryLimit] = []
        for x in end.indices {
            for y in end[x].indices {
                let atBoundary = closed.map { $0[x][y] == 0 } ?? (end[x][y] < 1e-4 && (end[x][y] == 0 || end[x][y] < 0.95 * half[x][y]))
                guard atBoundary, end[x][y] > 0 || closed == nil else { continue }
                boundary.append(BoundaryLimit(prompt: x, response: y, valueAtEnd: end[x][y],
                                              exponent: end[x][y] == 0 ? .infinity : Foundation.log2(half[x][y] / end[x][y])))
            }
        }
        // The flow's limit: p(T), or with a boundary p(t) ≈ p∞ + a·t^(−α), α the boundary's median
        // exponent, extrapolated from (T/2, T) (Richardson), the boundary set to 0.
        var extrapolated = end
        if !boundary.isEmpty {
            let alpha = boundary.map(\.exponent).sorted()[boundary.count / 2]
            let f = alpha.isFinite && alpha > 0 ? Foundation.pow(2, alpha) - 1 : .infinity
            for x in end.indices { for y in end[x].indices { extrapolated[x][y] = end[x][y] - (half[x][y] - end[x][y]) / f } }
            for b in boundary { extrapolated[b.prompt][b.response] = 0 }
            extrapolated = extrapolated.map { p in
                let q = p.map { Swift.max($0, 0) }
                let s = q.reduce(0, +)
                return q.map { $0 / s }
            }
        }
        let policy = closed ?? extrapolated
        var agreement = 0.0
        for x in policy.indices { for y in policy[x].indices { agreement = Swift.max(agreement, abs(extrapolated[x][y] - policy[x][y])) } }
        let falling = boundary.allSatisfy { $0.valueAtEnd < 1e-3 && ($0.valueAtEnd == 0 || $0.exponent > 0) }
        let converged: Bool
        if closed != nil {
            converged = falling && agreement <= 1e-6
            if boundary.isEmpty, policy.allSatisfy({ $0.allSatisfy { $0 > 0 } }) {
                residual = norm2(try u.direction(logits(of: policy, instance: instance)))
            }
        } else {
            converged = residual <= 1e-9 || (!boundary.isEmpty && falling && residual <= 1e-5 * r0)
        }
        let source = closed == nil ? "flow" : "closed-form"

        let betaRL: Double = {
            switch settings.method {
            case .gibbs, .rloo: return u.beta
            case .grpo, .chord: return u.sampled!.klCoefficient
            default: return instance.beta
            }
        }()
        let v = values(instance, policy: policy, beta: betaRL)
        var lambda: [Double]? = nil
        if settings.method == .chordPhi, case .tabular = instance.policy {
            lambda = instance.data.map { FixedPointClosedForm.waterFilling($0).lambda }
        }
        return FixedPoint(method: settings.method.rawValue, settings: describe(settings, instance: instance, beta: betaRL), source: source,
                          policy: policy, residual: residual, converged: converged, sftLoss: v.sft, reward: v.reward,
                          rewardReg: v.rewardReg, klDataPolicy: v.klData, boundary: boundary, flowTime: t,
                          flowAgreement: agreement, lambda: lambda)
    }

    /// θ with the given per-prompt response (sequence) probabilities, all positive: log p
    /// (tabular) or the node logits of the sequence distribution (autoregressive).
    public static func logits(of p: [[Double]], instance: Instance) throws -> [Double] {
        switch instance.policy {
        case .tabular: return p.flatMap { $0.map { Foundation.log($0) } }
        case let .autoregressive(tree, _): return p.flatMap { tree.logits(ofSequenceDistribution: $0) }
        case .loglinear: throw FlowError.invalid("no closed form in the log-linear class")
        }
    }

    /// L_SFT, J, J_β and E_x KL(p_D‖p) at a policy given as probabilities (zeros allowed:
    /// 0·log 0 = 0; L_SFT and the KL are +∞ where p_D > 0 = p).
    public static func values(_ inst: Instance, policy p: [[Double]], beta: Double)
        -> (sft: Double, reward: Double, rewardReg: Double, klData: Double) {
        var sft = 0.0, reward = 0.0, reg = 0.0, kld = 0.0
        for x in inst.weights.indices where inst.weights[x] > 0 {
            let q = inst.weights[x]
            sft += q * Dist.crossEntropy(inst.data[x], p[x])
            let j = Dist.expectation(p[x], inst.reward[x])
            reward += q * j
            reg += q * (j - (beta > 0 ? beta * Dist.kl(p[x], inst.reference[x]) : 0))
            kld += q * Dist.kl(inst.data[x], p[x])
        }
        return (sft, reward, reg, kld)
    }

    static func describe(_ s: PracticalSettings, instance: Instance, beta: Double) -> [String: String] {
        var d: [String: String] = [:]
        let c = s.sampledConfig()
        for o in s.method.options {
            let key = String(o.rawValue.dropFirst(2))
            switch o {
            case .groupSize: d[key] = String(c.groupSize)
            case .scaling: d[key] = c.scaling.rawValue
            case .klEstimator: d[key] = c.klEstimator.rawValue
            case .klCoef: d[key] = String(beta)
            case .klPlacement: d[key] = (s.klPlacement ?? .loss).rawValue
            case .aggregation: d[key] = c.aggregation.rawValue
            case .mix: d[key] = String(c.mix)
            case .klBiasCorrection: d[key] = String(c.klBiasCorrection)
            case .offPolicy: d[key] = String(s.offPolicy ?? PracticalSettings.defaultOffPolicy)
            case .shapingGamma: d[key] = String(s.shapingGamma ?? PracticalSettings.defaultShapingGamma)
            }
        }
        return d
    }
}
