import Foundation
import Testing
import Linalg
@testable import Policies
import TestSupport

/// A random autoregressive instance: V ∈ 1…3, L ∈ 1…3, 1–2 prompts, random data/reference over the
/// sequences, rewards with a tie, β ∈ {0} ∪ [0.05, 2], node logits per `mode`.
func randomAutoregressive(seed: UInt64, mode: LogitMode, vocab: Int? = nil, maxLength: Int? = nil) throws -> (Instance, [Double]) {
    var g = SeededGenerator(seed: seed)
    let v = vocab ?? g.int(1...3), l = maxLength ?? g.int(1...3)
    guard case let .success(tree) = SequenceTree.make(vocab: v, maxLength: l) else { throw SequenceTreeError("bad tree") }
    let prompts = g.int(1...2)
    func simplex(_ n: Int) -> [Double] { uniformSimplex(n, using: &g) }
    let s = tree.sequenceCount
    let data = (0..<prompts).map { _ in simplex(s) }
    var reward = (0..<prompts).map { _ in (0..<s).map { _ in g.uniform(-1, 1) } }
    if s > 1 { reward[0][0] = reward[0][1] }
    let reference = (0..<prompts).map { _ in simplex(s) }
    let weights = (0..<prompts).map { _ in g.uniform(0.1, 1) }
    let beta = g.int(0...3) == 0 ? 0 : g.uniform(0.05, 2)
    let policy = PolicyClass.autoregressive(tree: tree, prompts: prompts)
    var theta = (0..<policy.dimension).map { _ in g.normal() }
    switch mode {
    case .moderate: break
    case .extreme: theta = theta.enumerated().map { ($0.element >= 0 ? 50 : -50) * ($0.offset % 3 == 0 ? 0.3 : 1) }
    case .nearDeterministic: theta[0] += 25
    }
    let inst = try Instance(beta: beta, weights: weights, data: data, reward: reward, reference: reference, policy: policy, start: theta)
    return (inst, theta)
}

/// The sequence distribution by an independent walk: a dictionary from prefix to softmax of its
/// logits, the product over tokens and EOS (no shared code with `SequenceTree` beyond the layout).
func independentSequenceProbs(vocab v: Int, maxLength l: Int, block: [Double]) -> [[Int]: Double] {
    var prefixes: [[Int]] = [[]], layer: [[Int]] = [[]]
    for _ in 0..<(l - 1) { layer = layer.flatMap { s in (0..<v).map { s + [$0] } }; prefixes += layer }
    var pi: [[Int]: [Double]] = [:]
    for (n, u) in prefixes.enumerated() {
        let z = Array(block[(n * (v + 1))..<((n + 1) * (v + 1))])
        let m = z.max()!
        let e = z.map { Foundation.exp($0 - m) }
        let t = e.reduce(0, +)
        pi[u] = e.map { $0 / t }
    }
    var out: [[Int]: Double] = [:]
    func walk(_ u: [Int], _ p: Double) {
        if u.count == l { out[u] = p; return }
        out[u] = p * pi[u]![v]
        for c in 0..<v { walk(u + [c], p * pi[u]![c]) }
    }
    walk([], 1)
    return out
}

@Suite struct AutoregressiveTests {
    @Test(arguments: LogitMode.allCases)
    func derivativesMatchFiniteDifferences(mode: LogitMode) throws {
        for seed in UInt64(0)..<12 {
            let (inst, theta) = try randomAutoregressive(seed: seed, mode: mode)
            let pt = inst.point(theta)
            for obj in Objective.allCases {
                let g = inst.gradient(obj, at: pt)
                let fd = fdGradient({ inst.value(obj, at: inst.point($0)) }, at: theta)
                let scale = 1 + (g.map(abs).max() ?? 0)
                #expect(maxAbsDiff(g, fd) <= 2e-6 * scale, "\(obj) gradient: \(maxAbsDiff(g, fd)) (seed \(seed), \(mode))")
                let h = inst.hessian(obj, at: pt)
                #expect(h.asymmetry <= 1e-12 * (1 + (h.data.map(abs).max() ?? 0)), "\(obj) Hessian asymmetric")
                let fdh = fdJacobian({ inst.gradient(obj, at: inst.point($0)) }, at: theta)
                let hs = 1 + (h.data.map(abs).max() ?? 0)
                #expect(maxAbsDiff(h.data, fdh.data) <= 2e-6 * hs, "\(obj) Hessian: \(maxAbsDiff(h.data, fdh.data)) (seed \(seed), \(mode))")
            }
        }
    }

    @Test func sequenceProbabilitiesAgreeWithAnIndependentWalk() throws {
        for seed in UInt64(20)..<30 {
            let (inst, theta) = try randomAutoregressive(seed: seed, mode: .moderate)
            guard case let .autoregressive(tree, prompts) = inst.policy else { Issue.record("class"); return }
            let probs = inst.policy.probabilities(theta)
            let o = inst.policy.offsets
            for x in 0..<prompts {
                let ref = independentSequenceProbs(vocab: tree.vocab, maxLength: tree.maxLength, block: Array(theta[o[x]..<o[x + 1]]))
                #expect(ref.count == tree.sequenceCount)
                for y in 0..<tree.sequenceCount {
                    #expect(abs(probs[x][y] - ref[tree.tokens(of: y)]!) <= 1e-14)
                }
                #expect(abs(probs[x].reduce(0, +) - 1) <= 1e-13)
            }
        }
    }

    /// The Fisher matrix is E_p[∇log p ∇log pᵀ] with ∇log p(y) by central differences; the SFT
    /// Hessian is not the Fisher matrix in this class (the curvature term), but is Σ_n D(n) F(π_n) ⪰ 0.
    @Test func fisherAndSFTHessian() throws {
        let (inst, theta) = try randomAutoregressive(seed: 41, mode: .moderate, vocab: 2, maxLength: 2)
        let pt = inst.point(theta)
        let n = theta.count
        var f = [Double](repeating: 0, count: n * n)
        for x in inst.weights.indices {
            for y in 0..<inst.data[x].count {
                let s = fdGradient({ inst.policy.logits($0)[x][y] }, at: theta)
                for a in 0..<n { for b in 0..<n { f[a * n + b] += inst.weights[x] * pt.probs[x][y] * s[a] * s[b] } }
            }
        }
        #expect(maxAbsDiff(inst.fisher(at: pt).data, f) <= 1e-8)
        let h = inst.hessian(.sft, at: pt)
        #expect(maxAbsDiff(h.data, inst.fisher(at: pt).data) > 1e-3, "the SFT Hessian should differ from the Fisher matrix off the optimum")
        #expect(try symmetricEigen(h).values.first! >= -1e-12)
    }

    @Test func optimaAndStartRoundTrip() throws {
        let (inst0, _) = try randomAutoregressive(seed: 5, mode: .moderate, vocab: 2, maxLength: 3)
        var inst = inst0
        inst.beta = 0.7
        let sft = try inst.sftOptimum()
        #expect(sft.gradientNorm <= 1e-12)
        for (p, d) in zip(inst.policy.probabilities(sft.theta), inst.data) { #expect(maxAbsDiff(p, d) <= 1e-14) }
        let rl = try inst.rlOptimum()
        #expect(rl.gradientNorm <= 1e-12)
        let back = try Instance(file: inst.file(start: rl.theta))
        #expect(back.start == rl.theta)
        // A sequence-level start becomes node logits with the same distribution.
        var file = inst.file()
        file.policy.theta = nil
        file.prompts[0].start = inst.reference[0]
        let fromStart = try Instance(file: file)
        #expect(maxAbsDiff(fromStart.policy.probabilities(fromStart.start)[0], inst.reference[0]) <= 1e-14)
        // Zero data: the SFT optimum is not attained.
        var zero = inst
        zero.data[0] = zero.data[0].enumerated().map { $0.offset == 0 ? 0 : $0.element }
        let t = zero.data[0].reduce(0, +)
        zero.data[0] = zero.data[0].map { $0 / t }
        #expect(throws: OptimumError.self) { try zero.sftOptimum() }
    }

    @Test func sizeLimitAndSchemaErrors() throws {
        let big = InstanceFile(beta: 0, policy: .init(kind: "autoregressive", vocab: 10, maxLength: 4),
                               prompts: [.init(weight: 1, data: [1], reward: [0])])
        #expect(throws: InstanceError.self) { try Instance(file: big) }
        do { _ = try Instance(file: big) } catch { #expect("\(error)".contains("policy.max_length") && "\(error)".contains("10000")) }
        let wrong = InstanceFile(beta: 0, policy: .init(kind: "autoregressive", vocab: 2, maxLength: 2),
                                 prompts: [.init(weight: 1, data: [0.5, 0.5], reward: [0, 0])])
        do { _ = try Instance(file: wrong); Issue.record("accepted a wrong sequence count") } catch {
            #expect("\(error)".contains("7 sequences"))
        }
        let json = #"{"beta": 0, "policy": {"kind": "autoregressive", "vocab": 1, "max_length": 2}, "prompts": [{"weight": 1, "data": [0.2, 0.3, 0.5], "reward": [0, 1, 0]}]}"#
        let f = try JSONDecoder().decode(InstanceFile.self, from: Data(json.utf8))
        let i = try Instance(file: f)
        #expect(i.policy.dimension == 4)
        #expect(maxAbsDiff(i.policy.probabilities(i.start)[0], [0.2, 0.3, 0.5]) <= 1e-15)
        #expect(String(decoding: f.canonicalJSON(), as: UTF8.self).contains("\"max_length\":2"))
    }

    /// Gradients live in the moving subspace: each node's logit gradient sums to zero.
    @Test func nodeNullDirections() throws {
        let (inst, theta) = try randomAutoregressive(seed: 8, mode: .moderate, vocab: 3, maxLength: 2)
        guard case let .autoregressive(tree, _) = inst.policy else { return }
        let w = tree.vocab + 1
        for obj in Objective.allCases {
            let g = inst.gradient(obj, at: inst.point(theta))
            for n in 0..<(g.count / w) { #expect(abs(g[(n * w)..<((n + 1) * w)].reduce(0, +)) <= 1e-13) }
        }
        let sub = try MovingSubspace(instance: inst)
        #expect(sub.rank == inst.promptCount * tree.nodeCount * tree.vocab)
    }
}
