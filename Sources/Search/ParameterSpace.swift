import Foundation
import Policies
import Claims

/// The coordinates a search moves: a claim instance as a point x ∈ ℝⁿ and back.
///
/// - Every distribution (prompt weights q, and per prompt p_D, start, reference) is written in
///   logits over its support, relative to the first supported entry (so it stays on the simplex;
///   zero entries stay zero: supports are structural). Distributions of one prompt that are
///   exactly equal in the seed instance share their logits (ties such as π_ref = p_SFT or
///   p_SFT = p_D are hypotheses that a penalty could never keep exactly); an absent `start` or
///   `reference` stays absent.
/// - Rewards are linear; entries of a prompt with exactly equal rewards share one coordinate
///   (reward ties, argmax sets).
/// - β (when ≠ 0), the positive named parameters (B, a, A, λ, η, T) and the diagonals of a
///   landscape are on a log scale (their sign is kept); features, θ, θ_R, θ₀ are linear.
/// - Integer or seed parameters (k, vocab, max_length, n, *_seed, local_smoothness) are fixed.
public struct ParameterSpace: Sendable {
    public let base: ClaimInstance
    private var slots: [Slot] = []
    /// The dimension n.
    public var dimension: Int { slots.count }

    enum Target: Sendable {
        case weights(support: [Int])                                 // logits over prompts
        case distribution(prompt: Int, fields: [Field], support: [Int])
        case reward(prompt: Int, entries: [Int])
        case beta(sign: Double)
        case feature(prompt: Int, response: Int, k: Int)
        case theta(Int)
        case parameter(String, log: Bool, sign: Double)
        case landscape(LandscapeField, Int, log: Bool)
    }
    enum Field: Sendable { case data, start, reference }
    enum LandscapeField: Sendable, CaseIterable {
        case a, b, thetaR, theta0
        var path: WritableKeyPath<Landscape, [Double]> {
            switch self { case .a: return \.a; case .b: return \.b; case .thetaR: return \.thetaR; case .theta0: return \.theta0 }
        }
        var log: Bool { self == .a || self == .b }
    }

    /// One coordinate: its target and, for a distribution or the weights, which supported entry
    /// (index ≥ 1 of `support`; entry 0 is the pinned logit 0).
    struct Slot: Sendable {
        let target: Target; let entry: Int; let step: Double; let initial: Double
        /// The search box of this coordinate: logits within ±40 (probability ratios up to e⁸⁰);
        /// log-scale coordinates within 3 decades of the drawn value; linear ones within 100
        /// initial steps of it. It keeps the search in the generator's domain, away from ranges
        /// where a claim's Double formulas (not the mathematics) break down.
        var low: Double { isLogit ? -40 : (isLogScale ? initial - logRadius : initial - 100 * step) }
        var high: Double { isLogit ? 40 : (isLogScale ? initial + logRadius : initial + 100 * step) }
        var isLogit: Bool { switch target { case .weights, .distribution: return true; default: return false } }
        var isLogScale: Bool {
            switch target {
            case .beta: return true
            case let .parameter(_, log, _): return log
            case let .landscape(_, _, log): return log
            default: return false
            }
        }
    }
    /// ln(10³): log-scale coordinates move at most three decades.
    static let logRadius = 3 * Foundation.log(10.0)

    /// Named parameters that are integers, seeds or switches, never moved.
    public static let fixedParameters: Set<String> = ["k", "vocab", "max_length", "n", "dataset_seed", "random_subspace_seed", "local_smoothness"]

    public init(_ ci: ClaimInstance, frozen: Set<String> = []) {
        base = ci
        if let f = ci.instance {
            let w = f.prompts.map(\.weight)
            addLogits(.weights(support: w.indices.filter { w[$0] > 0 }), w)
            for (x, p) in f.prompts.enumerated() {
                var groups: [([Field], [Double])] = []
                var fields: [(Field, [Double])] = []
                if !frozen.contains("data") { fields.append((.data, p.data)) }
                if let s = p.start, !frozen.contains("start") { fields.append((.start, s)) }
                if let r = p.reference, !frozen.contains("reference") { fields.append((.reference, r)) }
                for (name, v) in fields {
                    if let i = groups.firstIndex(where: { $0.1 == v }) { groups[i].0.append(name) } else { groups.append(([name], v)) }
                }
                for (names, v) in groups { addLogits(.distribution(prompt: x, fields: names, support: v.indices.filter { v[$0] > 0 }), v) }
                if !frozen.contains("reward") {
                    var seen: [Double] = []
                    let scale = Swift.max(p.reward.map(abs).max() ?? 0, 1e-3)
                    for v in p.reward where !seen.contains(v) {
                        seen.append(v)
                        slots.append(Slot(target: .reward(prompt: x, entries: p.reward.indices.filter { p.reward[$0] == v }), entry: 0,
                                          step: 0.2 * scale, initial: v))
                    }
                }
            }
            if f.beta != 0 && !frozen.contains("beta") {
                slots.append(Slot(target: .beta(sign: f.beta < 0 ? -1 : 1), entry: 0, step: 0.5, initial: Foundation.log(abs(f.beta))))
            }
            if let feats = f.policy.features, !frozen.contains("features") {
                for (x, fx) in feats.enumerated() { for (y, v) in fx.enumerated() { for (k, e) in v.enumerated() {
                    slots.append(Slot(target: .feature(prompt: x, response: y, k: k), entry: 0, step: 0.3 * Swift.max(1, abs(e)), initial: e))
                } } }
            }
            if let th = f.policy.theta, !frozen.contains("theta") {
                for (k, v) in th.enumerated() { slots.append(Slot(target: .theta(k), entry: 0, step: 0.5 * Swift.max(1, abs(v)), initial: v)) }
            }
        }
        for (k, v) in ci.parameters.sorted(by: { $0.key < $1.key })
        where !ParameterSpace.fixedParameters.contains(k) && !k.hasSuffix("_seed") && !frozen.contains(k) && v.isFinite {
            if v != 0 {
                slots.append(Slot(target: .parameter(k, log: true, sign: v < 0 ? -1 : 1), entry: 0, step: 0.3, initial: Foundation.log(abs(v))))
            }
        }
        if let l = ci.landscape, !frozen.contains("landscape") {
            for field in LandscapeField.allCases {
                let path = field.path, log = field.log
                for (k, v) in l[keyPath: path].enumerated() {
                    if log && v > 0 {
                        slots.append(Slot(target: .landscape(field, k, log: true), entry: 0, step: 0.3, initial: Foundation.log(v)))
                    } else if !log {
                        slots.append(Slot(target: .landscape(field, k, log: false), entry: 0, step: 0.3 * Swift.max(1, abs(v)), initial: v))
                    }
                }
            }
        }
    }

    /// Logit coordinates of a distribution over its support: log v_y − log v_first, first pinned.
    private mutating func addLogits(_ t: Target, _ v: [Double]) {
        let support: [Int]
        switch t {
        case let .weights(s): support = s
        case let .distribution(_, _, s): support = s
        default: return
        }
        guard support.count > 1 else { return }
        let l0 = Foundation.log(v[support[0]])
        for e in 1..<support.count {
            slots.append(Slot(target: t, entry: e, step: 0.5, initial: Foundation.log(v[support[e]]) - l0))
        }
    }

    /// x of the base instance.
    public var initial: [Double] { slots.map(\.initial) }
    /// Nelder–Mead's initial steps.
    public var steps: [Double] { slots.map(\.step) }

    /// The instance at x, each coordinate first clamped into its box (see `Slot`).
    public func decode(_ x: [Double]) -> ClaimInstance {
        var ci = base
        // Collect logits per distribution target.
        var logits: [String: (Target, [Double])] = [:]
        func key(_ t: Target) -> String {
            switch t {
            case .weights: return "w"
            case let .distribution(p, f, _): return "d\(p)-\(f)"
            default: return ""
            }
        }
        for (i, s) in slots.enumerated() {
            let v = Swift.min(s.high, Swift.max(s.low, x[i]))
            switch s.target {
            case let .weights(support), let .distribution(_, _, support):
                let k = key(s.target)
                var entry = logits[k] ?? (s.target, [Double](repeating: 0, count: support.count))
                entry.1[s.entry] = v
                logits[k] = entry
            case let .reward(p, entries):
                for y in entries { ci.instance!.prompts[p].reward[y] = v }
            case let .beta(sign):
                ci.instance!.beta = sign * Foundation.exp(Swift.min(40, Swift.max(-40, v)))
            case let .feature(p, y, k):
                ci.instance!.policy.features![p][y][k] = v
            case let .theta(k):
                ci.instance!.policy.theta![k] = v
            case let .parameter(name, log, sign):
                ci.parameters[name] = log ? sign * Foundation.exp(Swift.min(40, Swift.max(-40, v))) : v
            case let .landscape(field, k, log):
                ci.landscape![keyPath: field.path][k] = log ? Foundation.exp(Swift.min(40, Swift.max(-40, v))) : v
            }
        }
        for (_, (t, z)) in logits.sorted(by: { $0.key < $1.key }) {
            let m = z.max() ?? 0
            let e = z.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            switch t {
            case let .weights(support):
                for (j, x) in support.enumerated() { ci.instance!.prompts[x].weight = e[j] / s }
            case let .distribution(p, fields, support):
                let n = ci.instance!.prompts[p].data.count
                var v = [Double](repeating: 0, count: n)
                for (j, y) in support.enumerated() { v[y] = e[j] / s }
                for f in fields {
                    switch f {
                    case .data: ci.instance!.prompts[p].data = v
                    case .start: ci.instance!.prompts[p].start = v
                    case .reference: ci.instance!.prompts[p].reference = v
                    }
                }
            default: break
            }
        }
        return ci
    }
}
