import Foundation
import Linalg

/// A validated instance: prompts with weights q(x), data p_D, rewards r, reference π_ref, β,
/// a policy class and its start parameters θ₀. Built from an `InstanceFile` by `init(file:)`,
/// which checks every field; all consumers (flows, claims, search) work on this type.
public struct Instance: Sendable {
    /// KL coefficient β ≥ 0; β = 0 means the unregularised reward J.
    public var beta: Double
    /// q(x), normalised to sum 1.
    public var weights: [Double]
    /// p_D(·|x) per prompt.
    public var data: [[Double]]
    /// r(x, ·) per prompt.
    public var reward: [[Double]]
    /// π_ref(·|x) per prompt.
    public var reference: [[Double]]
    /// The policy class (tabular, log-linear or autoregressive) and its parameter layout.
    public var policy: PolicyClass
    /// θ₀, the start parameters.
    public var start: [Double]
    /// Log-linear with a base measure: log h(·|x) per prompt, added to the logits,
    /// z_x = log h_x + Φ_x θ (nil: h = 1). The Jacobian ∂z/∂θ = Φ is unchanged, so every θ-derivative
    /// is still the pull-back of the logit-space one.
    public var logBase: [[Double]]?

    public var promptCount: Int { weights.count }
    public var responseCounts: [Int] { data.map(\.count) }
    /// R_max = max |r(x, y)|.
    public var rewardBound: Double { reward.joined().map(abs).max() ?? 0 }

    /// A programmatic instance (generators, tests), validated like a file. `start` is θ₀ in
    /// parameter space (default: as for a file).
    public init(beta: Double, weights: [Double], data: [[Double]], reward: [[Double]],
                reference: [[Double]]? = nil, policy: PolicyClass? = nil, start: [Double]? = nil) throws {
        var file = InstanceFile(beta: beta, policy: .init(kind: "tabular"), prompts: data.indices.map { i in
            InstanceFile.Prompt(weight: weights[i], data: data[i], reward: reward[i], reference: reference?[i])
        })
        if case let .loglinear(features)? = policy {
            file.policy = .init(kind: "loglinear", features: features.map { f in (0..<f.rows).map { f.row($0) } }, theta: start)
        }
        if case let .autoregressive(tree, _)? = policy {
            file.policy = .init(kind: "autoregressive", theta: start, vocab: tree.vocab, maxLength: tree.maxLength)
        }
        try self.init(file: file)
        if let start {
            guard start.count == self.policy.dimension else {
                throw InstanceError.invalid(field: "start", prompt: nil, problem: "has \(start.count) parameters, expected \(self.policy.dimension)")
            }
            self.start = start
        }
    }

    /// Validates a file. Errors name the field, the prompt index and what is wrong.
    public init(file: InstanceFile) throws {
        func bad(_ f: String, _ i: Int?, _ p: String) -> InstanceError { .invalid(field: f, prompt: i, problem: p) }
        guard file.beta.isFinite else { throw bad("beta", nil, "must be a finite number, got \(file.beta)") }
        guard file.beta >= 0 else { throw bad("beta", nil, "must be ≥ 0 (0 means the unregularised reward J), got \(file.beta)") }
        guard !file.prompts.isEmpty else { throw bad("prompts", nil, "needs at least one prompt") }
        for (i, p) in file.prompts.enumerated() {
            guard p.weight.isFinite, p.weight >= 0 else { throw bad("weight", i, "must be a finite number ≥ 0, got \(p.weight)") }
            try Instance.checkDistribution(p.data, "data", i)
            guard p.reward.count == p.data.count else {
                throw bad("reward", i, "has \(p.reward.count) entries but data has \(p.data.count): lengths must match")
            }
            if let j = p.reward.firstIndex(where: { !$0.isFinite }) { throw bad("reward", i, "entry \(j) is not finite (\(p.reward[j]))") }
            // Differences of rewards enter every advantage and gradient: they must be finite too.
            if let hi = p.reward.max(), let lo = p.reward.min(), !(hi - lo).isFinite {
                throw bad("reward", i, "spans \(lo) to \(hi), a difference beyond double precision; rescale the rewards")
            }
            if let r = p.reference {
                guard r.count == p.data.count else { throw bad("reference", i, "has \(r.count) entries but data has \(p.data.count): lengths must match") }
                try Instance.checkDistribution(r, "reference", i)
            }
            if let s = p.start {
                guard s.count == p.data.count else { throw bad("start", i, "has \(s.count) entries but data has \(p.data.count): lengths must match") }
                try Instance.checkDistribution(s, "start", i)
            }
        }
        // q(x) = w_x / Σ w. When the sum overflows (two weights of 1e308), every weight is first
        // divided by the largest, m: q(x) = (w_x / m) / Σ (w / m), with the same value and no overflow.
        let largest = file.prompts.map(\.weight).max() ?? 0
        guard largest > 0 else { throw bad("weight", nil, "prompt weights sum to 0: at least one must be positive") }
        let plain = file.prompts.reduce(0) { $0 + $1.weight }
        let scale = plain.isFinite ? 1 : largest
        let total = plain.isFinite ? plain : file.prompts.reduce(0) { $0 + $1.weight / scale }

        beta = file.beta
        weights = file.prompts.map { ($0.weight / scale) / total }
        data = file.prompts.map(\.data)
        reward = file.prompts.map(\.reward)
        reference = file.prompts.map { $0.reference ?? Array(repeating: 1.0 / Double($0.data.count), count: $0.data.count) }

        switch file.policy.kind {
        case "autoregressive":
            if file.policy.features != nil { throw bad("policy.features", nil, "only a loglinear policy has features; remove them") }
            guard let v = file.policy.vocab else { throw bad("policy.vocab", nil, "an autoregressive policy needs vocab (V ≥ 1 content tokens)") }
            guard let l = file.policy.maxLength else { throw bad("policy.max_length", nil, "an autoregressive policy needs max_length (L ≥ 1 content tokens)") }
            let tree: SequenceTree
            switch SequenceTree.make(vocab: v, maxLength: l) {
            case let .success(t): tree = t
            case let .failure(e): throw bad(v < 1 ? "policy.vocab" : "policy.max_length", nil, e.description)
            }
            for (i, d) in data.enumerated() where d.count != tree.sequenceCount {
                throw bad("data", i, "has \(d.count) entries but vocab \(v) and max_length \(l) give \(tree.sequenceCount) sequences (Σ_{k≤L} V^k, length-then-lexicographic)")
            }
            policy = .autoregressive(tree: tree, prompts: data.count)
            if let theta = file.policy.theta {
                if file.prompts.contains(where: { $0.start != nil }) { throw bad("start", nil, "give either policy.theta or prompts[].start, not both") }
                guard theta.count == policy.dimension else { throw bad("policy.theta", nil, "has \(theta.count) entries, expected \(policy.dimension) (prompts × nodes × (V + 1))") }
                guard theta.allSatisfy(\.isFinite) else { throw bad("policy.theta", nil, "has a non-finite entry") }
                start = theta
            } else {
                start = file.prompts.flatMap { tree.logits(ofSequenceDistribution: $0.start ?? $0.data) }
            }
        case "tabular":
            if file.policy.features != nil { throw bad("policy.features", nil, "only a loglinear policy has features; remove them or set kind to \"loglinear\"") }
            if file.policy.theta != nil { throw bad("policy.theta", nil, "a tabular policy starts from prompts[].start, not theta") }
            if let i = file.prompts.firstIndex(where: { $0.base != nil }) {
                throw bad("base", i, "only a loglinear policy has a base measure; remove it or set policy.kind to \"loglinear\"")
            }
            policy = .tabular(sizes: data.map(\.count))
            var theta: [Double] = []
            for p in file.prompts {
                // Logits centred per prompt over the support (Σ_y θ_{x,y} = 0 when the start has no
                // zeros). A zero probability becomes the logit −∞: fine for probability-level
                // claims, refused by `validateForFlows()`.
                let l = (p.start ?? p.data).map { Foundation.log($0) }
                let finite = l.filter(\.isFinite)
                let mean = finite.reduce(0, +) / Double(finite.count)
                theta += l.map { $0 - mean }
            }
            start = theta
        case "loglinear":
            guard let feats = file.policy.features else { throw bad("policy.features", nil, "a loglinear policy needs features: per prompt, per response, a vector of d numbers") }
            guard feats.count == data.count else { throw bad("policy.features", nil, "has \(feats.count) prompts but there are \(data.count)") }
            let d = feats.first?.first?.count ?? 0
            guard d > 0 else { throw bad("policy.features", 0, "feature vectors must have d ≥ 1 entries") }
            for (i, f) in feats.enumerated() {
                guard f.count == data[i].count else { throw bad("policy.features", i, "has \(f.count) responses but data has \(data[i].count)") }
                for (y, v) in f.enumerated() {
                    guard v.count == d else { throw bad("policy.features", i, "response \(y) has \(v.count) features, expected d = \(d)") }
                    if v.contains(where: { !$0.isFinite }) { throw bad("policy.features", i, "response \(y) has a non-finite feature") }
                }
            }
            for (i, p) in file.prompts.enumerated() {
                guard let h = p.base else { continue }
                guard h.count == data[i].count else { throw bad("base", i, "has \(h.count) entries but data has \(data[i].count): lengths must match") }
                if let j = h.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
                    throw bad("base", i, "entry \(j) is \(h[j]): a base measure must be finite and > 0")
                }
            }
            if file.prompts.contains(where: { $0.base != nil }) {
                logBase = file.prompts.map { p in p.base.map { $0.map { Foundation.log($0) } } ?? [Double](repeating: 0, count: p.data.count) }
            }
            if file.prompts.contains(where: { $0.start != nil }) {
                throw bad("start", nil, "a loglinear policy starts from policy.theta (default: the SFT optimum of the class), not prompts[].start")
            }
            policy = .loglinear(features: feats.map { f in Matrix(f) })
            if let theta = file.policy.theta {
                guard theta.count == d else { throw bad("policy.theta", nil, "has \(theta.count) entries, expected d = \(d)") }
                guard theta.allSatisfy(\.isFinite) else { throw bad("policy.theta", nil, "has a non-finite entry") }
                start = theta
            } else {
                start = [Double](repeating: 0, count: d)
                start = try sftOptimum().theta
            }
        default:
            throw bad("policy.kind", nil, "unknown kind \"\(file.policy.kind)\": use \"tabular\", \"loglinear\" or \"autoregressive\"")
        }
    }

    /// Checks what a gradient flow from θ₀ needs: finite start logits (a tabular start with no
    /// zero probability) and, when β > 0, a reference with no zero (else KL(p_θ‖π_ref) = ∞).
    public func validateForFlows() throws {
        if let k = start.firstIndex(where: { !$0.isFinite }) {
            let (i, j) = policy.location(ofParameter: k)
            throw InstanceError.invalid(field: "start", prompt: i,
                problem: "is 0 at response \(j) (the default start is data): a softmax policy cannot start there, its logit would be −∞; give a positive \"start\" for this prompt")
        }
        if beta > 0 {
            for (i, r) in reference.enumerated() {
                if let j = r.firstIndex(of: 0) {
                    throw InstanceError.invalid(field: "reference", prompt: i,
                        problem: "is 0 at response \(j): with beta > 0 the KL to the reference is infinite for every softmax policy; make it positive or set beta to 0")
                }
            }
        }
    }

    static func checkDistribution(_ p: [Double], _ field: String, _ i: Int) throws {
        guard !p.isEmpty else { throw InstanceError.invalid(field: field, prompt: i, problem: "is empty: needs at least one response") }
        if let j = p.firstIndex(where: { !$0.isFinite }) { throw InstanceError.invalid(field: field, prompt: i, problem: "entry \(j) is not finite (\(p[j]))") }
        if let j = p.firstIndex(where: { $0 < 0 }) { throw InstanceError.invalid(field: field, prompt: i, problem: "entry \(j) is negative (\(p[j])): probabilities must be ≥ 0") }
        let s = p.reduce(0, +)
        guard abs(s - 1) <= 1e-9 else {
            throw InstanceError.invalid(field: field, prompt: i, problem: "is not a probability vector: it sums to \(s), expected 1")
        }
    }

    /// The instance as a file (the JSON contract), with θ as the start (tabular: as probabilities).
    public func file(start theta: [Double]? = nil) -> InstanceFile {
        let th = theta ?? start
        switch policy {
        case .tabular:
            let probs = policy.probabilities(th)
            return InstanceFile(beta: beta, policy: .init(kind: "tabular"), prompts: weights.indices.map { i in
                .init(weight: weights[i], data: data[i], reward: reward[i], reference: reference[i], start: probs[i])
            })
        case let .autoregressive(tree, _):
            return InstanceFile(beta: beta, policy: .init(kind: "autoregressive", theta: th, vocab: tree.vocab, maxLength: tree.maxLength),
                                prompts: weights.indices.map { i in .init(weight: weights[i], data: data[i], reward: reward[i], reference: reference[i]) })
        case let .loglinear(features):
            return InstanceFile(beta: beta, policy: .init(kind: "loglinear", features: features.map { f in (0..<f.rows).map { f.row($0) } }, theta: th),
                                prompts: weights.indices.map { i in .init(weight: weights[i], data: data[i], reward: reward[i], reference: reference[i],
                                                                         base: logBase.map { $0[i].map { Foundation.exp($0) } }) })
        }
    }
}
