import Foundation
import Linalg
import RealModule

/// The scalar functionals of a policy the toolkit studies. Every value, gradient and Hessian is
/// q-weighted over prompts: F(θ) = Σ_x q(x) f(p_θ(·|x)).
///
/// Sign conventions: gradients are of the function as named (∇L_SFT is the ascent direction of
/// the loss; the SFT flow is θ̇ = −∇L_SFT, the RL flow θ̇ = +∇J_β).
public enum Objective: String, CaseIterable, Sendable, Codable {
    /// L_SFT = E_x E_{y∼p_D}[−log p_θ(y|x)] (paper Eq. 7). ∇_z = p − p_D; ∇²_z = F(p).
    case sft
    /// J = E_x E_{y∼p_θ}[r] (Eq. 18). ∇_z = p∘(r − r̄); ∇²_z = H(p, r).
    case reward
    /// J_β = J − β E_x KL(p_θ‖π_ref). With a = r − β(log p − log π_ref): ∇_z = p∘(a − ā); ∇²_z = H(p, a) − βF(p).
    case rewardRegularized
    /// E_x KL(p_D‖p_θ) = L_SFT − E_x H(p_D): same derivatives as `sft`.
    case klDataPolicy
    /// E_x KL(p_θ‖π_ref). With c = log p − log π_ref: ∇_z = p∘(c − c̄); ∇²_z = H(p, c) + F(p).
    case klPolicyRef
    /// E_x H(p_θ) = −E_x Σ p log p. ∇_z = p∘(−log p + E_p log p); ∇²_z = −H(p, log p) − F(p).
    case entropy
    /// E_x TV(p_θ, p_D) = ½ E_x Σ|p − p_D|. Differentiable where no p_y = p_D,y: with s = sign(p − p_D),
    /// ∇_z = ½ p∘(s − s̄); ∇²_z = ½ H(p, s).
    case tvDataPolicy
}

/// A policy evaluated at θ: logits, log-probabilities and probabilities per prompt, computed once
/// and shared by every objective.
public struct PolicyPoint: Sendable {
    public let theta: [Double]
    public let logProbs: [[Double]]
    public let probs: [[Double]]

    /// The point at θ; `offset` (a log base measure, log h_x) is added to the logits z_x = Φ_x θ.
    public init(policy: PolicyClass, theta: [Double], offset: [[Double]]? = nil) {
        self.theta = theta
        var z = policy.logits(theta)
        if let offset { for x in z.indices { for y in z[x].indices { z[x][y] += offset[x][y] } } }
        logProbs = z.map(Dist.logSoftmax)
        probs = logProbs.map { $0.map { Foundation.exp($0) } }
    }
}

extension Instance {
    /// Evaluates the policy at θ (default: the start), with the base measure when there is one.
    public func point(_ theta: [Double]? = nil) -> PolicyPoint { PolicyPoint(policy: policy, theta: theta ?? start, offset: logBase) }

    /// The value of `objective` at a point.
    public func value(_ objective: Objective, at pt: PolicyPoint) -> Double {
        var s = 0.0
        for x in weights.indices where weights[x] > 0 {
            let p = pt.probs[x], lp = pt.logProbs[x]
            let v: Double
            switch objective {
            case .sft: v = Dist.crossEntropy(data[x], p, logQ: lp)
            case .reward: v = Dist.expectation(p, reward[x])
            case .rewardRegularized:
                v = Dist.regularizedReward(p, reward: reward[x], reference: reference[x], beta: beta, logP: lp)
            case .klDataPolicy: v = Dist.kl(data[x], p, logQ: lp)
            case .klPolicyRef: v = Dist.kl(p, reference[x], logP: lp)
            case .entropy: v = Dist.entropy(p, logP: lp)
            case .tvDataPolicy: v = Dist.tv(p, data[x])
            }
            s += weights[x] * v
        }
        return s
    }

    /// The θ-gradient of `objective` at a point.
    public func gradient(_ objective: Objective, at pt: PolicyPoint) -> [Double] {
        policy.pullback(weights.indices.map { x in
            let g = logitGradient(objective, prompt: x, at: pt)
            return g.map { weights[x] * $0 }
        }, theta: pt.theta)
    }

    /// The θ-Hessian of `objective` at a point.
    public func hessian(_ objective: Objective, at pt: PolicyPoint) -> Matrix {
        policy.pullback(weights.indices.map { x in weights[x] * logitHessian(objective, prompt: x, at: pt) }, theta: pt.theta,
                        curvature: weights.indices.map { x in logitGradient(objective, prompt: x, at: pt).map { weights[x] * $0 } })
    }

    /// The q-weighted Fisher information Σ_x q(x) J_xᵀ (diag p − ppᵀ) J_x = E_x E_{p_θ}[∇log p ∇log pᵀ].
    /// Equal to ∇²L_SFT at every θ for a softmax-linear class (the SFT Hessian does not depend on
    /// p_D); not for the autoregressive class.
    public func fisher(at pt: PolicyPoint) -> Matrix {
        policy.pullback(weights.indices.map { x in weights[x] * SoftmaxCalculus.fisher(pt.probs[x]) }, theta: pt.theta)
    }

    /// ∇_{z_x} f for one prompt, unweighted.
    public func logitGradient(_ objective: Objective, prompt x: Int, at pt: PolicyPoint) -> [Double] {
        let p = pt.probs[x]
        switch objective {
        case .sft, .klDataPolicy: return zip(p, data[x]).map { $0 - $1 }
        default: return SoftmaxCalculus.gradient(p, scoreVector(objective, prompt: x, at: pt))
        }
    }

    /// ∇²_{z_x} f for one prompt, unweighted.
    public func logitHessian(_ objective: Objective, prompt x: Int, at pt: PolicyPoint) -> Matrix {
        let p = pt.probs[x]
        let fisherCoefficient: Double
        switch objective {
        case .sft, .klDataPolicy: return SoftmaxCalculus.fisher(p)
        case .reward, .tvDataPolicy: fisherCoefficient = 0
        case .rewardRegularized: fisherCoefficient = -beta
        case .klPolicyRef: fisherCoefficient = 1
        case .entropy: fisherCoefficient = -1
        }
        let h = SoftmaxCalculus.hessian(p, scoreVector(objective, prompt: x, at: pt))
        return fisherCoefficient == 0 ? h : SoftmaxCalculus.combine(1, h, fisherCoefficient, SoftmaxCalculus.fisher(p))
    }

    /// The vector v of f = E_p[v] (held fixed when differentiating) for the expectation-type objectives.
    func scoreVector(_ objective: Objective, prompt x: Int, at pt: PolicyPoint) -> [Double] {
        let p = pt.probs[x], lp = pt.logProbs[x]
        switch objective {
        case .reward: return reward[x]
        case .rewardRegularized:
            if beta == 0 { return reward[x] }
            return p.indices.map { y in reward[x][y] - beta * (lp[y] - Foundation.log(reference[x][y])) }
        case .klPolicyRef: return p.indices.map { y in lp[y] - Foundation.log(reference[x][y]) }
        case .entropy: return lp.map { -$0 }
        case .tvDataPolicy: return p.indices.map { y in 0.5 * (p[y] > data[x][y] ? 1 : (p[y] < data[x][y] ? -1 : 0)) }
        case .sft, .klDataPolicy: fatalError("sft derivatives are not of expectation form")
        }
    }
}

extension Instance {
    /// L_SFT(θ) = Σ_x q(x)·E_{p_D}[−log p_θ(·|x)] in precision T (Float80 for certification), through
    /// the class's own logits plus the log base measure; the Double path is `value(.sft, at:)`.
    public func sftLoss<T: Real & BinaryFloatingPoint>(at theta: [T]) -> T {
        var z: [[T]] = policy.logits(theta)
        if let h = logBase { for x in z.indices { for y in z[x].indices { z[x][y] += T(h[x][y]) } } }
        var l: T = 0
        for x in z.indices where weights[x] > 0 {
            let lq = DistOf<T>.logSoftmax(z[x])
            l += T(weights[x]) * DistOf<T>.crossEntropy(data[x].map { T($0) }, lq.map { T.exp($0) }, logQ: lq)
        }
        return l
    }
}
