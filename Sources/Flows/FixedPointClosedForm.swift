import Foundation
import Policies

/// Closed-form limits of the practical methods' flows (``PracticalUpdate``), where one exists.
/// Each is checked against the flow by ``FixedPoint`` (and in the tests).
public enum FixedPointClosedForm {
    /// The maximiser over the simplex of F(p) = Σ_c w_c (p_c − p_c²/2) (w ≥ 0, not all 0), the
    /// function CHORD-φ's expected update ascends (∇(p − p²/2) = p(1 − p)∇log p):
    /// KKT w_c(1 − p_c) = λ where p_c > 0, w_c ≤ λ where p_c = 0, so
    ///
    ///     p_c = (1 − λ/w_c)₊,   λ = (n − 1) / Σ_{top n} 1/w_c,
    ///
    /// n the largest count (responses sorted by w, descending) with w_(n) > λ_n ("water-filling").
    /// F is strictly concave on the support of w, so the maximiser is unique; responses with
    /// w_c ≤ λ get 0 (the low-mass responses are dropped). Scale-free in w.
    public static func waterFilling(_ w: [Double]) -> (p: [Double], lambda: Double) {
        let order = w.indices.filter { w[$0] > 0 }.sorted { w[$0] > w[$1] || (w[$0] == w[$1] && $0 < $1) }
        precondition(!order.isEmpty, "water-filling needs a positive weight")
        var inv = 0.0, best = 1, bestLambda = 0.0
        for (k, c) in order.enumerated() {
            inv += 1 / w[c]
            let lambda = Double(k) / inv
            if w[c] > lambda { best = k + 1; bestLambda = lambda }
        }
        var p = [Double](repeating: 0, count: w.count)
        for c in order.prefix(best) { p[c] = 1 - bestLambda / w[c] }
        return (p, bestLambda)
    }

    /// The fixed point of TRL's GRPO on one prompt of a tabular instance with k3 in the loss,
    /// coefficient β > 0, no advantage scaling and group size G, at ratio 1: the expected update
    /// is c·∇J − β∇KL(π_ref‖p) with c = 1 − 1/G (the group mean includes the sample itself),
    /// whose zero in logits, c·p(r − E_p r) = β(p − π_ref), is
    ///
    ///     p_y = β π_ref(y) / (β + c·E_p r − c·r_y).
    ///
    /// Solved for u = β + c·(E_p r − max r) ∈ (0, β]: Σ_y β π_ref(y)/(u + c(max r − r_y)) = 1 is
    /// decreasing in u, at least 1 at u = β and unbounded as u → 0 (π_ref > 0 on the argmax), so
    /// bisection in log u finds the unique root; E_p r then follows from Σ p = 1.
    public static func grpoK3(reference: [Double], reward: [Double], beta: Double, groupSize: Int) -> [Double] {
        precondition(beta > 0 && groupSize >= 1)
        let c = 1 - 1 / Double(groupSize)
        let rmax = reward.max()!
        func total(_ u: Double) -> Double {
            var s = 0.0
            for y in reference.indices where reference[y] > 0 { s += beta * reference[y] / (u + c * (rmax - reward[y])) }
            return s
        }
        if c == 0 { return reference }
        var lo = Foundation.log(beta) - 745, hi = Foundation.log(beta)
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if total(Foundation.exp(mid)) > 1 { lo = mid } else { hi = mid }
        }
        let u = Foundation.exp(0.5 * (lo + hi))
        let p = reference.indices.map { y in reference[y] > 0 ? beta * reference[y] / (u + c * (rmax - reward[y])) : 0 }
        let s = p.reduce(0, +)
        return p.map { $0 / s }
    }

    /// The data's mass on each decision: w_x[n·W + c] = Σ_y p_D(y|x)·[token (n, c) on y's path]
    /// (one node per prompt for single-node classes: w = p_D).
    public static func nodeDataMass(_ instance: Instance, nodes: DecisionNodes) -> [[Double]] {
        instance.data.indices.map { x in
            var w = [Double](repeating: 0, count: nodes.nodes[x] * nodes.width[x])
            for (y, d) in instance.data[x].enumerated() where d > 0 {
                for tok in nodes.path(response: y) { w[tok.node * nodes.width[x] + tok.choice] += d }
            }
            return w
        }
    }

    /// The closed-form limit of `method` on the instance (per prompt, the response or sequence
    /// probabilities), or nil where none is known: the log-linear class, gibbs/rloo with β = 0,
    /// grpo other than k3 in the loss without scaling on a tabular instance, chord, and dft with a
    /// tied mode. The node-wise forms on autoregressive instances: per-token dft and chord-phi act
    /// on each node separately (node n's expected update is PG with node reward w_n, or φ-ascent
    /// weighted by w_n), so dft's limit is the greedy decoding of p_D and chord-phi's the node-wise
    /// water-filling; nodes the data never reaches keep the start (only zero-probability
    /// sequences pass through them).
    public static func limit(_ u: PracticalUpdate) -> [[Double]]? {
        let inst = u.instance, s = u.settings
        switch inst.policy {
        case .loglinear: return nil
        case .tabular, .autoregressive: break
        }
        let isTabular: Bool = { if case .tabular = inst.policy { return true } else { return false } }()
        switch s.method {
        case .gibbs, .rloo:
            guard u.beta > 0 else { return nil }
            return inst.weights.indices.map { Dist.gibbs(reference: inst.reference[$0], reward: inst.reward[$0], beta: u.beta) }
        case .sft:
            return inst.data
        case .sftSeqnorm:
            return inst.data.map { d in
                let w = d.indices.map { d[$0] / Double(u.nodes.tokenCount(response: $0)) }
                let t = w.reduce(0, +)
                return w.map { $0 / t }
            }
        case .dft, .chordPhi:
            let mass = nodeDataMass(inst, nodes: u.nodes)
            let start = u.nodes.values(inst.start).probs
            var nodeProbs: [[Double]] = []
            for x in mass.indices {
                let w = u.nodes.width[x]
                var pi = start[x]
                for n in 0..<u.nodes.nodes[x] {
                    let m = Array(mass[x][(n * w)..<((n + 1) * w)])
                    guard m.contains(where: { $0 > 0 }) else { continue }
                    let limit: [Double]
                    if s.method == .dft {
                        let top = m.max()!
                        guard m.filter({ $0 == top }).count == 1 else { return nil }
                        limit = m.map { $0 == top ? 1 : 0 }
                    } else {
                        limit = waterFilling(m).p
                    }
                    for c in 0..<w { pi[n * w + c] = limit[c] }
                }
                nodeProbs.append(pi)
            }
            if isTabular { return nodeProbs }
            return nodeProbs.map { $0.map { Foundation.log($0) } }.map { u.nodes.sequenceProbabilities(nodeLogProbs: [$0])[0] }
        case .grpo:
            let c = s.sampledConfig()
            guard isTabular, c.klEstimator == .k3, c.scaling == .none, c.klPlacement == .loss, !c.klBiasCorrection, u.sampled!.klCoefficient > 0 else { return nil }
            return inst.weights.indices.map {
                grpoK3(reference: inst.reference[$0], reward: inst.reward[$0], beta: u.sampled!.klCoefficient, groupSize: c.groupSize)
            }
        case .chord, .luffy:
            return nil
        }
    }
}
