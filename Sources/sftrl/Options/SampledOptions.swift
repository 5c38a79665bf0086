import ArgumentParser
import Flows
import Foundation

/// The options of the sampled algorithms, shared by `sftrl flow` (sampled phases) and `sftrl update`.
struct SampledOptions: ParsableArguments {
    @Option(name: .customLong("group-size"), help: "G, responses sampled from the policy per prompt (reinforce, grpo, chord, chord-phi, luffy, rloo).")
    var groupSize: Int = 8
    @Option(name: .customLong("batch-size"), help: "B, samples from p_D per prompt (sft-sgd, chord, dft, chord-phi; luffy's off-policy samples).")
    var batchSize: Int = 8
    @Option(help: ArgumentHelp("sgd or adam (β₁ 0.9, β₂ 0.999, ε 1e-8).", valueName: "name"))
    var optimizer: SampledOptimizer = .sgd
    @Option(help: ArgumentHelp("GRPO advantage scaling: group, batch or none (TRL's scale_rewards; std is unbiased, plus 1e-4).", valueName: "name"))
    var scaling: AdvantageScaling = .group
    @Option(help: "Clip range ε of the GRPO ratio.")
    var epsilon: Double = 0.2
    @Option(name: .customLong("epsilon-high"), help: ArgumentHelp("Upper clip range ε_high (TRL's epsilon_high; default: --epsilon).", valueName: "ε"))
    var epsilonHigh: Double?
    @Option(name: .customLong("inner-iterations"), help: "μ, optimiser steps on the same samples per batch (TRL's num_iterations).")
    var innerIterations: Int = 1
    @Option(name: .customLong("kl-coef"), help: ArgumentHelp("β_kl, the KL coefficient of grpo/chord/reinforce (default: the instance's beta).", valueName: "β"))
    var klCoef: Double?
    @Option(name: .customLong("kl-estimator"), help: ArgumentHelp("k1, k2 or k3 (TRL's is k3).", valueName: "name"))
    var klEstimator: KLEstimator = .k3
    @Option(help: ArgumentHelp("TRL's loss_type: grpo, dapo, dr_grpo, bnpo (aggregations, distinct on autoregressive instances), cispo, sapo (their own token losses; docs/sampled.md).", valueName: "name"))
    var aggregation: LossAggregation = .grpo
    @Option(name: .customLong("kl-placement"), help: ArgumentHelp("Where β_kl·k enters grpo/chord: loss (TRL's GRPO: the estimator's gradient flows through p) or reward (verl's use_kl_in_reward: Σ_t k at the sampling policy, detached, subtracted from the reward before the advantages).", valueName: "loss|reward"))
    var klPlacement: KLPlacement = .loss
    @Flag(name: .customLong("kl-bias-correction"), help: "TRL's use_bias_correction_kl: the loss's KL term is ρ·k (ρ the importance ratio, differentiated too).")
    var klBiasCorrection = false
    @Flag(help: "REINFORCE: subtract the group mean of the rewards (a biased baseline: the expectation is (1 − 1/G)·∇J).")
    var baseline = false
    @Option(help: ArgumentHelp("chord's SFT weight μ for --method chord (a chord:MU:STEPS phase carries its own).", valueName: "μ"))
    var mix: Double = 0.5
    @Option(help: ArgumentHelp("Sampling temperature T: policy samples from p^{1/T} per decision node, the loss on p.", valueName: "T"))
    var temperature: Double = 1
    @Option(name: .customLong("importance-sampling"), help: ArgumentHelp("The ratio per token, or GSPO's per sequence (TRL's importance_sampling_level).", valueName: "token|sequence"))
    var importanceSampling: ImportanceSamplingLevel = .token
    @Option(name: .customLong("sapo-temperatures"), help: ArgumentHelp("SAPO's gate temperatures τ_pos,τ_neg (TRL's defaults).", valueName: "τ+,τ-"))
    var sapoTemperatures: String = "1.0,1.05"
    @Option(name: .customLong("luffy-gamma"), help: ArgumentHelp("LUFFY's shaping γ of f(π) = π/(π + γ) on off-policy tokens.", valueName: "γ"))
    var luffyGamma: Double = 0.1
    @Option(name: .customLong("mu-schedule"), help: ArgumentHelp("chord-phi phases: CHORD's μ schedule PEAK,VALLEY,WARMUP,DECAY (linear warm-up to PEAK over WARMUP steps, cosine decay to VALLEY over DECAY steps; DECAY 0: the rest of the phase).", valueName: "spec"))
    var muSchedule: String = "0.5,0.02,0,0"

    /// The counts bounded before any work (issue 24): `--group-size 2^63-1` is refused at once.
    func validate() throws {
        try Bounds.check([("--group-size", groupSize, Bounds.items), ("--batch-size", batchSize, Bounds.items),
                          ("--inner-iterations", innerIterations, 1...10_000)])
    }

    /// The configuration, every name checked (the message names the option).
    func config(method: SampledMethod, eta: Double) throws -> SampledConfig {
        var c = SampledConfig(method: method)
        c.groupSize = groupSize
        c.batchSize = batchSize
        c.eta = eta
        c.optimizer = optimizer
        c.scaling = scaling
        c.epsilon = epsilon
        c.epsilonHigh = epsilonHigh
        c.innerIterations = innerIterations
        c.klCoefficient = klCoef
        c.klEstimator = klEstimator
        c.aggregation = aggregation
        c.klPlacement = klPlacement
        c.klBiasCorrection = klBiasCorrection
        c.baseline = baseline
        c.mix = mix
        c.temperature = temperature
        c.importanceSampling = importanceSampling
        c.luffyGamma = luffyGamma
        c.sapo = try SAPOTemperatures(parsing: sapoTemperatures)
        c.muSchedule = try CHORDMuSchedule(parsing: muSchedule)
        try c.validate()
        return c
    }
}
