import ArgumentParser
import Flows
import Foundation
import Policies
import Reports

/// `sftrl fixedpoint`: where a practical post-training method converges (Flows/FixedPoint).
struct FixedPointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixedpoint",
        abstract: "Where a practical SFT or RL method converges: the limit of its exact expected-update flow.",
        discussion: """
            Methods: gibbs (∇J_β), sft (token-sum log-loss), sft-seqnorm (each sequence's loss divided by its \
            token count |y|), dft (TRL's loss_type dft), chord-phi (CHORD's φ-weighted SFT alone), grpo (TRL's \
            GRPO at ratio 1, exact over every group), chord (GRPO mixed with SFT), rloo (leave-one-out baseline), \
            luffy (LUFFY: on- and off-policy samples normalised together, off-policy tokens shaped by π/(π + γ)). \
            The limit is the closed form where one exists (checked against the flow) or the flow's limit, \
            integrated by decades to t = 10^6. Responses whose probability tends to 0 are reported as exact \
            zeros with their power-law rate. See docs/fixedpoint.md.
            """)

    @Option(help: ArgumentHelp("Instance JSON file (required).", valueName: "file"))
    var instance: String

    @Option(help: ArgumentHelp("gibbs, sft, sft-seqnorm, dft, chord-phi, grpo, chord, rloo or luffy (required).", valueName: "name"))
    var method: String

    @Option(name: .customLong("group-size"), help: ArgumentHelp("G, responses per prompt (grpo, chord, rloo, luffy; default 8).", valueName: "G"))
    var groupSize: Int?

    @Option(help: ArgumentHelp("Advantage scaling group, batch or none (grpo, chord, luffy; default group, TRL's).", valueName: "name"))
    var scaling: AdvantageScaling?

    @Option(name: .customLong("kl-estimator"), help: ArgumentHelp("k1, k2 or k3 (grpo, chord; default k3, TRL's).", valueName: "name"))
    var klEstimator: KLEstimator?

    @Option(name: .customLong("kl-coef"), help: ArgumentHelp("β_kl (gibbs, grpo, chord, rloo; default the instance's beta).", valueName: "β"))
    var klCoef: Double?

    @Option(name: .customLong("kl-placement"), help: ArgumentHelp("loss (TRL's GRPO; default) or reward (verl's use_kl_in_reward) (grpo, chord).", valueName: "name"))
    var klPlacement: KLPlacement?

    @Flag(name: .customLong("kl-bias-correction"), help: "TRL's use_bias_correction_kl: the loss's KL term is ρ·k (grpo, chord; default off).")
    var klBiasCorrection = false

    @Option(help: ArgumentHelp("Loss aggregation grpo, dapo or dr_grpo (grpo, chord; default grpo).", valueName: "name"))
    var aggregation: LossAggregation?

    @Option(help: ArgumentHelp("CHORD's SFT weight μ in [0, 1] (chord; default 0.5).", valueName: "μ"))
    var mix: Double?

    @Option(name: .customLong("off-policy"), help: ArgumentHelp("N, off-policy (p_D) samples of the G in a group (luffy; default 1).", valueName: "N"))
    var offPolicy: Int?

    @Option(name: .customLong("shaping-gamma"), help: ArgumentHelp("γ of LUFFY's shaping f(π) = π/(π + γ) (luffy; default 0.1).", valueName: "γ"))
    var shapingGamma: Double?

    @Option(help: ArgumentHelp("Write the result as JSON to this file (atomically).", valueName: "file"))
    var json: String?

    func settings() throws -> PracticalSettings {
        guard let m = PracticalMethod(rawValue: method) else { throw ValidationError("unknown --method '\(method)': use \(PracticalMethod.idList)") }
        var s = PracticalSettings(method: m)
        (s.groupSize, s.klCoef, s.mix, s.offPolicy, s.shapingGamma) = (groupSize, klCoef, mix, offPolicy, shapingGamma)
        (s.scaling, s.klEstimator, s.klPlacement, s.aggregation) = (scaling, klEstimator, klPlacement, aggregation)
        if klBiasCorrection { s.klBiasCorrection = true }
        do { try s.validate() } catch { throw ValidationError("\(error)") }
        return s
    }

    func validate() throws {
        if let json { try validating { try OutputPaths.checkFile(json, option: "--json") } }
        _ = try settings()
    }

    mutating func run() throws {
        let s = try settings()
        let inst: Instance
        do { inst = try FlowCLI.loadInstance(instance).instance } catch { throw ValidationError("instance \(instance): \(error)") }
        let result: FixedPoint
        do { result = try FixedPoint.compute(instance: inst, settings: s) } catch let e as FlowError {
            if case .invalid = e { throw ValidationError("\(e)") }
            throw e
        } catch let e as InstanceError { throw ValidationError("instance \(instance): \(e)") }
        if let json {
            do { try writeAtomically(try encodeJSON(result), to: URL(fileURLWithPath: json)) } catch {
                throw RunFailure("cannot write --json \(json): \(plainMessage(error))")
            }
        }
        func f(_ x: Double) -> String { formatSignificant(x, digits: 8) }
        print("\(result.method) on \(inst.policy.name) (\(result.source); flow to t = \(f(result.flowTime)), converged: \(result.converged))")
        for (x, p) in result.policy.enumerated() { print("prompt \(x): " + p.map(f).joined(separator: "  ")) }
        print("residual ‖v‖ = \(f(result.residual))  flow agreement = \(f(result.flowAgreement))")
        print("sft_loss = \(f(result.sftLoss))  reward = \(f(result.reward))  reward_reg = \(f(result.rewardReg))  kl_data_policy = \(f(result.klDataPolicy))")
        for b in result.boundary {
            print("boundary: prompt \(b.prompt) response \(b.response) → 0, p(T) = \(f(b.valueAtEnd)) ~ t^-\(f(b.exponent))")
        }
    }
}
