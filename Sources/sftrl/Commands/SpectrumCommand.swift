import ArgumentParser
import Foundation
import Figures
import Flows
import Linalg
import Policies
import Reports

/// `sftrl spectrum`: curvature at a point of an instance (``CurvatureReport``): eigenvalues of
/// ∇²L_SFT, −∇²J_β and the Fisher matrix on the moving subspace, the local constants and the
/// gradient norms, as a table or JSON on stdout. Exit code 2 on invalid input.
struct SpectrumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectrum",
        abstract: "Eigenvalues of ∇²L_SFT, −∇²J_β and the Fisher matrix on the moving subspace, with μ and L constants.",
        discussion: """
            The moving subspace is the span the gradients live in (tabular logits: each prompt's \
            block with its all-ones direction removed). μ_S = λ_min(∇²L_SFT), L_S = max|λ(∇²L_SFT)|, \
            μ_R = λ_min(−∇²J_β), L_R = max|λ(−∇²J_β)| (J when β = 0). At a minimiser these are the \
            local PL and smoothness constants; elsewhere they are local curvature bounds, and a \
            negative μ says the function is not locally convex there.
            --at sft-optimum / rl-optimum fail (exit 2) when the optimum is not attained by a finite θ \
            (data with a zero; β = 0 tabular RL).
            """)

    @Option(help: ArgumentHelp("Instance JSON file (required).", valueName: "file"))
    var instance: String

    @Option(help: ArgumentHelp("The point: start (θ₀), sft-optimum (argmin L_SFT) or rl-optimum (argmax J_β).", valueName: "start|sft-optimum|rl-optimum"))
    var at: SpectrumPoint = .start

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    /// Loads the instance, finds the point and computes the report; a bad input throws ``UserInputError``, a failed eigensolve ``RunFailure``.
    func compute() throws -> SpectrumReport {
        let loaded: (file: InstanceFile, instance: Instance)
        do { loaded = try FlowCLI.loadInstance(instance) } catch { throw UserInputError("instance \(instance): \(error)") }
        let inst = loaded.instance
        let need = CurvatureReport.estimatedBytes(dimension: inst.policy.dimension)
        let limit = SizeLimits.budget
        if need > limit {
            throw UserInputError("instance \(instance) has \(inst.policy.dimension) parameters: its spectrum needs about "
                + "\(formatSignificant(need / 1_073_741_824, digits: 3)) GiB of dense matrices, more than half of this machine's "
                + "memory (\(formatSignificant(limit / 1_073_741_824, digits: 3)) GiB); use fewer prompts or responses, or a log-linear class")
        }
        let theta: [Double]
        do {
            switch at {
            case .sftOptimum: theta = try inst.sftOptimum().theta
            case .rlOptimum: theta = try inst.rlOptimum().theta
            case .start:
                try inst.validateForFlows()
                theta = inst.start
            }
        } catch { throw UserInputError("instance \(instance), --at \(at.rawValue): \(error)") }
        let report: CurvatureReport
        do { report = try CurvatureReport(instance: inst, at: theta) } catch {
            throw RunFailure("eigenvalue computation failed: \(error)")
        }
        let pt = inst.point(theta)
        return SpectrumReport(instance: instance, hash: canonicalJSONHash(loaded.file), at: at.rawValue, beta: inst.beta, theta: theta,
                      report: report, cos: TraceQuantity.cosSFTRL.value(inst, at: theta), sftLoss: inst.value(.sft, at: pt),
                      reward: inst.value(.reward, at: pt), rewardRegularized: inst.value(.rewardRegularized, at: pt))
    }

    mutating func run() throws {
        let o = try compute()
        if json {
            FileHandle.standardOutput.write(try encodeJSON(o))
        } else {
            print(o.table(), terminator: "")
        }
    }
}
