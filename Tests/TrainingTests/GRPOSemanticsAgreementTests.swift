import Foundation
import Testing
import Flows
import Linalg
import Policies
import PostTraining
import Training
import Transformer

/// GRPO is defined once (PostTraining); the transformer's loss (Training) and the exact instances'
/// estimator (Flows) must lay it out the same way. A one-token task on a small transformer and the
/// tabular instance whose policy is the model's next-token distribution at each prompt give the
/// same advantages, per-token losses, KL estimates and logit gradients, for every estimator,
/// placement and bias correction.
@Suite struct GRPOSemanticsAgreementTests {
    static let vocab = 6
    static let prompts: [[Int32]] = [[1, 2], [3]]
    static let samples = [[0, 4, 2], [5, 1, 1]]
    static let rewards = [[1.0, 0, -0.5, 0.3, 0.8, 0], [0.2, -1, 0.4, 0, 0.6, 0.9]]
    static let reference = [[0.1, 0.2, 0.15, 0.25, 0.2, 0.1], [0.3, 0.1, 0.1, 0.2, 0.2, 0.1]]
    /// Offsets of the sampling policy's log-probabilities: ratios ≠ 1, some clipped.
    static let offsets = [[0.05, -0.3, 0.25, 0, 0.1, -0.15], [-0.25, 0.3, 0.1, 0.05, -0.1, 0.2]]

    @Test(arguments: KLEstimator.allCases)
    func transformerAndTabularAgree(estimator: KLEstimator) throws {
        let V = Self.vocab, G = 3
        let model = Qwen3Model(config: Qwen3Config(vocabSize: V, hiddenSize: 8, intermediateSize: 16, numHiddenLayers: 1,
                                                   numAttentionHeads: 2, numKeyValueHeads: 1, headDim: 4, maxPositionEmbeddings: 16), seed: 5)
        let pairs = Self.prompts.indices.flatMap { x in Self.samples[x].map { (prompt: Self.prompts[x], completion: [Int32($0)]) } }
        let batch = TokenBatch.completionOnly(pairs)
        let logits = model.forward(tokens: batch.tokens, batch: batch.batch, length: batch.length)
        // The row that predicts the completion token of each sequence, and the tabular policy there.
        func row(_ b: Int) -> Int { (b * batch.length + (0..<batch.length).first { batch.targetMask[b * batch.length + $0] }!) * V }
        let z = Self.prompts.indices.map { x in (0..<V).map { Double(logits[row(x * G) + $0]) } }
        let start = z.map { r -> [Double] in let m = r.max()!; let e = r.map { exp($0 - m) }; let s = e.reduce(0, +); return e.map { $0 / s } }
        let inst = try Instance(file: InstanceFile(beta: 0.3, policy: .init(kind: "tabular"), prompts: Self.prompts.indices.map { x in
            .init(weight: 0.5, data: [Double](repeating: 1.0 / 6, count: V), reward: Self.rewards[x], reference: Self.reference[x], start: start[x])
        }))
        let flat = Self.prompts.indices.flatMap { x in Self.samples[x].map { Self.rewards[x][$0] } }

        for (placement, bias) in [(KLPlacement.loss, false), (.loss, true), (.reward, false)] {
            var c = GRPOLossConfig()
            c.beta = 0.4; c.epsilon = 0.2; c.lossType = .grpo; c.klEstimator = estimator; c.klPlacement = placement; c.klBiasCorrection = bias
            var sc = SampledConfig(method: .grpo)
            sc.groupSize = G; sc.epsilon = 0.2; sc.klCoefficient = 0.4; sc.klEstimator = estimator; sc.klPlacement = placement
            sc.klBiasCorrection = bias; sc.aggregation = .grpo; sc.scaling = .group
            let algo = try SampledAlgorithm(instance: inst, config: sc)
            let cur = algo.nodes.values(inst.start)
            let oldF = cur.log.indices.map { x in cur.log[x].indices.map { cur.log[x][$0] + Self.offsets[x][$0] } }
            let sbatch = SampledBatch(rl: Self.samples, sft: [])

            let current = tokenLogProbs(logits: logits, batch: batch, vocab: V, temperature: 1)
            let tokens = Self.prompts.indices.flatMap { x in Self.samples[x].map { (x, $0) } }
            let oldT = tokens.enumerated().map { b, t in current[b] + Self.offsets[t.0][t.1] }
            let refT = tokens.map { log(Self.reference[$0.0][$0.1]) }

            // Advantages (under placement reward: of the shaped rewards).
            let r = placement == .reward ? shapedRewards(flat, batch: batch, oldLogps: oldT, refLogps: refT, config: c) : flat
            let advT = groupAdvantages(rewards: r, groupSize: G, scale: .group).advantages
            let advF = algo.advantages(sbatch, old: oldF)
            #expect(zip(advT, Array(advF.joined())).map { abs($0 - $1) }.max()! <= 1e-6, "\(estimator) \(placement) \(bias): advantages")
            #expect(Set(advT.map { ($0 * 1e3).rounded() }).count > 2, "degenerate advantages")

            let res = grpoLoss(logits: logits, batch: batch, vocab: V, advantages: advT, oldLogps: oldT, refLogps: refT, config: c)
            let terms = Array(algo.tokenTerms(current: cur, old: oldF, batch: sbatch, advantages: advF).joined().joined())
            #expect(zip(res.tokenLosses, terms.map(\.loss)).map { abs($0 - $1) }.max()! <= 1e-5, "\(estimator) \(placement) \(bias): token losses")
            #expect(zip(res.tokenKL!, terms.map { $0.kl! }).map { abs($0 - $1) }.max()! <= 1e-5, "\(estimator) \(placement) \(bias): KL estimates")
            #expect(terms.contains { $0.clipped } && terms.contains { !$0.clipped })

            // The logit gradient summed over a prompt's rows equals the tabular θ-gradient (θ = logits).
            let gF = algo.lossGradient(theta: inst.start, old: oldF, batch: sbatch, advantages: advF)
            for x in Self.prompts.indices {
                let gT = (0..<V).map { v in (0..<G).reduce(0.0) { $0 + Double(res.dLogits[row(x * G + $1) + v]) } }
                let off = x * V
                #expect(zip(gT, gF[off..<(off + V)]).map { abs($0 - $1) }.max()! <= 1e-5, "\(estimator) \(placement) \(bias): gradient of prompt \(x)")
            }
        }
    }
}
