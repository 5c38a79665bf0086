import ArgumentParser
import Flows
import Foundation
import Linalg
import Policies
import Reports

/// `sftrl update`: the distribution of one sampled update at the instance's start point.
struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "The exact distribution of one sampled update (sft-sgd, reinforce, grpo, chord, dft, chord-phi, luffy, rloo) at the instance's start.",
        discussion: """
            Enumerates every batch of samples (multisets of G policy samples and B data samples per prompt, \
            multinomial probabilities, prompts independent) and reports expected_update = E[Δθ] (a flat vector \
            in the policy's parameter order), gradient (the ascent direction of the targeted objective: \
            ∇J − β_kl·∇KL(p‖π_ref) for reinforce and grpo, −∇L_SFT for sft-sgd, their (1−μ, μ) mixture for \
            chord), bias = E[Δθ]/η − gradient, its norm, the cosine between E[Δθ] and gradient, tr Cov[Δθ], \
            and the expectation of the KL estimate beside the exact KL. The enumeration is refused (exit 2) \
            beyond \(UpdateDistribution.maxOutcomes) joint batches: use --monte-carlo N then.
            """)

    @Option(help: ArgumentHelp("Instance JSON file (required).", valueName: "file"))
    var instance: String

    @Option(help: ArgumentHelp("sft-sgd, reinforce, grpo, chord, dft, chord-phi (μ = --mix), luffy or rloo (required).", valueName: "name"))
    var method: SampledMethod

    @Option(help: ArgumentHelp("Step size η.", valueName: "η"))
    var eta: Double = 1

    @OptionGroup var sampled: SampledOptions

    @Option(name: .customLong("monte-carlo"), help: ArgumentHelp("Estimate from N drawn batches instead of enumerating (default: exact).", valueName: "N"))
    var monteCarlo: Int?

    @Option(help: "Seed of --monte-carlo.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Write the result as JSON to this file (atomically).", valueName: "file"))
    var json: String?

    func validate() throws {
        try Bounds.check("--monte-carlo", monteCarlo, 2...UpdateDistribution.maxDraws)
        if let json { try validating { try OutputPaths.checkFile(json, option: "--json") } }
    }

    mutating func run() throws {
        let config: SampledConfig
        do { config = try sampled.config(method: method, eta: eta) } catch { throw ValidationError("\(error)") }
        let inst: Instance
        do { inst = try FlowCLI.loadInstance(instance).instance } catch { throw ValidationError("instance \(instance): \(error)") }
        let algo: SampledAlgorithm
        do { algo = try SampledAlgorithm(instance: inst, config: config) } catch { throw ValidationError("\(error)") }
        var result: UpdateDistribution
        do {
            if let n = monteCarlo {
                result = try UpdateDistribution.monteCarlo(algo, theta: inst.start, draws: n, seed: seed)
            } else {
                result = try UpdateDistribution.exact(algo, theta: inst.start)
                result.klGradient = try KLGradientReport.make(algo, theta: inst.start)
            }
        } catch { throw ValidationError("\(error)") }
        // Never a silently wrong answer: a non-finite update is a failed computation (exit 1).
        let summary = [result.gradientNorm, result.biasNorm, result.traceCovariance] + result.expectedUpdate
        if summary.contains(where: { !$0.isFinite }) {
            throw RunFailure("the update distribution is not finite (‖E[Δθ]‖ \(norm(result.expectedUpdate)), ‖gradient‖ \(result.gradientNorm)): the instance's numbers are too extreme for double precision (rewards up to \(inst.rewardBound), smallest data probability \(inst.data.joined().filter { $0 > 0 }.min() ?? 0)); nothing was written")
        }
        if let json {
            do { try writeAtomically(try encodeJSON(result), to: URL(fileURLWithPath: json)) } catch {
                throw RunFailure("cannot write --json \(json): \(plainMessage(error))")
            }
        }
        func f(_ x: Double) -> String { formatSignificant(x, digits: 6) }
        let toStderr = json == "-"
        func say(_ line: String) { printSummary(line, stdoutTaken: toStderr) }
        say("\(result.method) (\(result.mode), \(result.outcomes) batches, η = \(f(eta)), \(inst.policy.name), \(inst.policy.dimension) parameters)")
        say("‖E[Δθ]‖ = \(f(norm(result.expectedUpdate)))  ‖gradient‖ = \(f(result.gradientNorm))  ‖bias‖ = \(f(result.biasNorm))  cosine = \(f(result.cosine))  tr Cov[Δθ] = \(f(result.traceCovariance))")
        if result.mode == "monte-carlo" { say("standard error of E[Δθ] (norm) = \(f(result.standardErrorNorm))") }
        if let k = result.klEstimateExpected, let e = result.klExact {
            say("KL estimate (\(config.klEstimator.rawValue)): expected \(f(k)), exact KL(p‖π_ref) \(f(e))")
        }
        if let k = result.klGradient {
            print("kl_gradient: ‖·‖ = \(f(norm(k.gradient))), descends \(k.descends) (cosine with ∇KL(π_ref‖p) \(f(k.forwardCosine)), with ∇KL(p‖π_ref) \(f(k.reverseCosine)))")
        }
    }
}
