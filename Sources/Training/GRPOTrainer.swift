import Foundation
import Linalg
import Transformer

/// GRPO hyper-parameters. Defaults follow TRL's GRPOConfig where the meaning is the same
/// (ε 0.2, β 0, k3, loss `dapo`, `scale_rewards` group, μ 1, 8 generations, temperature 1,
/// top_p 1); the learning rate and batch sizes are set for the tiny model (TRL's 1e-6 is for
/// billion-parameter models).
public struct GRPOConfig: Codable, Sendable, Equatable {
    public var steps = 150
    public var promptsPerStep = 16
    public var numGenerations = 8
    public var numIterations = 1
    public var topP = 1.0
    public var scaleRewards: AdvantageScaling = .group
    public var loss = GRPOLossConfig()
    public var optimizer = AdamWConfig(learningRate: 3e-4, weightDecay: 0.0, maxGradNorm: 1.0)
    public var schedule: LRSchedule = .constant
    public init() {}

    enum CodingKeys: String, CodingKey {
        case steps, promptsPerStep, numGenerations, numIterations, topP, scaleRewards, loss, optimizer, schedule
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(Int.self, forKey: .steps)
        promptsPerStep = try c.decode(Int.self, forKey: .promptsPerStep)
        numGenerations = try c.decode(Int.self, forKey: .numGenerations)
        numIterations = try c.decode(Int.self, forKey: .numIterations)
        topP = try c.decode(Double.self, forKey: .topP)
        scaleRewards = try c.decode(AdvantageScaling.self, forKey: .scaleRewards)
        loss = try c.decode(GRPOLossConfig.self, forKey: .loss)
        optimizer = try c.decode(AdamWConfig.self, forKey: .optimizer)
        schedule = try c.decodeIfPresent(LRSchedule.self, forKey: .schedule) ?? .constant
    }
}

/// Group Relative Policy Optimisation on the acceptability task.
///
/// One step: draw `promptsPerStep` training prompts (seeded epoch order), sample G completions
/// each through the KV cache (temperature, top_p, at most `maxCompletionLength` tokens), score
/// them with the strict reward, compute group advantages, then run μ = `numIterations` updates
/// on that batch: forward, `grpoLoss` (old policy = the sampling policy, whose log-probs are those
/// of the first forward), `model.backward`, AdamW. The reference model for the KL term (and the
/// logged `kl`, also with β = 0, to show the drift) is a frozen copy of the model at the start of
/// the stage. Logs TRL's names: `reward`, `reward_std`, `frac_reward_zero_std`, `kl`, `entropy`,
/// `clip_ratio/region_mean` (with `/low_mean`, `/high_mean`), `grad_norm`, `loss`,
/// `completions/mean_length`, `learning_rate`, `epoch` (prompts seen / prompts) and
/// `num_completions` (the batch size as TRL counts it: prompts × G completions).
/// The prompts of an RL stage and how their completions are scored.
public struct RLPrompts: Sendable {
    public var prompts: [[Int32]]
    /// The training reward of completion `c` of prompt `i` (the strict parser).
    public var reward: @Sendable (_ i: Int, _ c: [Int32]) -> Double
    /// A completion ends after its first token in this set.
    public var stopTokens: Set<Int32>
    /// Ids from this one on are never sampled (a tokenizer smaller than the padded vocabulary).
    public var vocabLimit: Int?
    public init(prompts: [[Int32]], reward: @escaping @Sendable (Int, [Int32]) -> Double, stopTokens: Set<Int32>, vocabLimit: Int? = nil) {
        self.prompts = prompts; self.reward = reward; self.stopTokens = stopTokens; self.vocabLimit = vocabLimit
    }

    /// The synthetic task's prompts, strict reward and `<eos>`.
    public init(task: AcceptabilityTask, examples: [AcceptabilityTask.Example]) {
        let labels = examples.map(\.acceptable)
        self.init(prompts: examples.map { task.prompt($0.sentence) },
                  reward: { i, c in task.reward(c, acceptable: labels[i], strict: true) },
                  stopTokens: [Tokenizer.eos])
    }
}

public final class GRPOTrainer {
    public let model: Qwen3Model
    public let reference: Qwen3Model
    public let config: GRPOConfig
    public let optimizer: AdamW
    public let rl: RLPrompts
    private var rng: SeededGenerator
    private var order: [Int] = []
    private var cursor = 0
    private var stepIndex = 0
    private var promptsSeen = 0

    public convenience init(model: Qwen3Model, task: AcceptabilityTask, examples: [AcceptabilityTask.Example],
                            config: GRPOConfig, seed: UInt64) {
        self.init(model: model, rl: RLPrompts(task: task, examples: examples), config: config, seed: seed)
    }

    public init(model: Qwen3Model, rl: RLPrompts, config: GRPOConfig, seed: UInt64) {
        precondition(!rl.prompts.isEmpty, "GRPO needs at least one prompt")
        self.model = model
        self.reference = model.copy()
        self.rl = rl
        self.config = config
        self.optimizer = AdamW(parameters: model.parameters, config: config.optimizer)
        self.rng = SeededGenerator(seed: seed)
    }

    /// The indices of the next `promptsPerStep` prompts of the seeded epoch order.
    func nextPrompts() -> [Int] {
        var out: [Int] = []
        while out.count < config.promptsPerStep {
            if cursor >= order.count {
                order = Array(0..<rl.prompts.count)
                rng.shuffle(&order)
                cursor = 0
            }
            out.append(order[cursor])
            cursor += 1
            promptsSeen += 1
        }
        return out
    }

    /// One GRPO step (generation + μ updates); returns the step's metrics.
    @discardableResult
    public func step() -> [String: Double] {
        let G = config.numGenerations
        let prompts = nextPrompts()
        let promptTokens = prompts.map { rl.prompts[$0] }
        let sampling = SamplingConfig(temperature: config.loss.temperature, topP: config.topP,
                                      maxNewTokens: config.loss.maxCompletionLength)
        let completions = generate(model: model, prompts: promptTokens, samplesPerPrompt: G, sampling: sampling,
                                   stopTokens: rl.stopTokens, vocabLimit: rl.vocabLimit, rng: &rng)
        var rewards: [Double] = []
        var pairs: [(prompt: [Int32], completion: [Int32])] = []
        for (i, index) in prompts.enumerated() {
            for c in completions[i] {
                rewards.append(rl.reward(index, c))
                pairs.append((promptTokens[i], c))
            }
        }
        let batch = TokenBatch.completionOnly(pairs)
        let V = model.config.vocabSize
        let refLogits = reference.forward(tokens: batch.tokens, batch: batch.batch, length: batch.length)
        let refLogps = tokenLogProbs(logits: refLogits, batch: batch, vocab: V, temperature: config.loss.temperature)

        var old: [Double]?
        var advantageRewards = rewards
        if config.loss.klPlacement == .reward, config.loss.beta > 0 {
            // verl's use_kl_in_reward: the sampling policy's log-probs, detached, shape the rewards.
            let logits = model.forward(tokens: batch.tokens, batch: batch.batch, length: batch.length)
            let sampling = tokenLogProbs(logits: logits, batch: batch, vocab: V, temperature: config.loss.temperature)
            advantageRewards = shapedRewards(rewards, batch: batch, oldLogps: sampling, refLogps: refLogps, config: config.loss)
        }
        let adv = groupAdvantages(rewards: advantageRewards, groupSize: G, scale: config.scaleRewards)
        var lossSum = 0.0, normSum = 0.0, clipSum = 0.0, lowSum = 0.0, highSum = 0.0
        stepIndex += 1
        let lr = config.schedule.rate(peak: config.optimizer.learningRate, step: stepIndex, total: config.steps)
        var kl = 0.0, entropy = 0.0
        for it in 0..<max(config.numIterations, 1) {
            model.zeroGradients()
            let logits = model.forward(tokens: batch.tokens, batch: batch.batch, length: batch.length)
            let res = grpoLoss(logits: logits, batch: batch, vocab: V, advantages: adv.advantages,
                               oldLogps: old, refLogps: refLogps, config: config.loss)
            if it == 0 { old = res.logps; kl = res.kl ?? 0; entropy = res.entropy }
            model.backward(dLogits: res.dLogits)
            normSum += optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: lr)
            lossSum += res.loss
            clipSum += res.clipRatio
            lowSum += res.clipLow
            highSum += res.clipHigh
        }
        let mu = Double(max(config.numIterations, 1))
        let meanReward = rewards.reduce(0, +) / Double(rewards.count)
        let meanLength = Double(pairs.reduce(0) { $0 + $1.completion.count }) / Double(pairs.count)
        return ["reward": meanReward,
                "reward_std": adv.groupStd.reduce(0, +) / Double(adv.groupStd.count),
                "frac_reward_zero_std": adv.zeroStdFraction,
                "kl": kl, "entropy": entropy, "clip_ratio/region_mean": clipSum / mu,
                "clip_ratio/low_mean": lowSum / mu, "clip_ratio/high_mean": highSum / mu,
                "learning_rate": lr, "epoch": Double(promptsSeen) / Double(rl.prompts.count),
                "num_completions": Double(pairs.count),
                "grad_norm": normSum / mu, "loss": lossSum / mu,
                "completions/mean_length": meanLength]
    }
}
