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
    var at: String = "start"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    /// The JSON document (snake_case keys, eigenvalues ascending).
    struct Output: Codable {
        struct Eigenvalues: Codable {
            var sftHessian: [Double]
            var negRLHessian: [Double]
            var fisher: [Double]
            enum CodingKeys: String, CodingKey {
                case sftHessian = "sft_hessian", negRLHessian = "neg_rl_hessian", fisher
            }
        }
        struct Constants: Codable {
            var muSFT: Double, smoothSFT: Double, muRL: Double, smoothRL: Double
            enum CodingKeys: String, CodingKey {
                case muSFT = "mu_sft", smoothSFT = "smooth_sft", muRL = "mu_rl", smoothRL = "smooth_rl"
            }
        }
        var instance: String
        var sha256CanonicalJSON: String
        var at: String
        var beta: Double
        var theta: [Double]
        var subspaceDimension: Int
        var eigenvalues: Eigenvalues
        var constants: Constants
        var gradSFTNorm: Double
        var gradRLNorm: Double
        var cosSFTRL: Double
        var sftLoss: Double
        var reward: Double
        var rewardRegularized: Double

        init(instance: String, hash: String, at: String, beta: Double, theta: [Double], report c: CurvatureReport,
             cos: Double, sftLoss: Double, reward: Double, rewardRegularized: Double) {
            self.instance = instance
            sha256CanonicalJSON = hash
            self.at = at
            self.beta = beta
            self.theta = theta
            subspaceDimension = c.subspaceDimension
            eigenvalues = Eigenvalues(sftHessian: c.sftHessian, negRLHessian: c.negRLHessian, fisher: c.fisher)
            constants = Constants(muSFT: c.muSFT, smoothSFT: c.smoothSFT, muRL: c.muRL, smoothRL: c.smoothRL)
            gradSFTNorm = c.gradSFTNorm
            gradRLNorm = c.gradRLNorm
            cosSFTRL = cos
            self.sftLoss = sftLoss
            self.reward = reward
            self.rewardRegularized = rewardRegularized
        }

        enum CodingKeys: String, CodingKey {
            case instance, at, beta, theta, eigenvalues, constants, reward
            case sha256CanonicalJSON = "sha256_canonical_json"
            case subspaceDimension = "subspace_dimension"
            case gradSFTNorm = "grad_sft_norm"
            case gradRLNorm = "grad_rl_norm"
            case cosSFTRL = "cos_sft_rl"
            case sftLoss = "sft_loss"
            case rewardRegularized = "reward_reg"
        }
    }

    /// Loads the instance, finds the point and computes the report; errors carry exit code 2.
    func compute() throws -> Output {
        func bad(_ s: String) -> FlowCommand.Failure { .init(description: s, code: 2) }
        let points = ["start", "sft-optimum", "rl-optimum"]
        guard points.contains(at) else { throw bad("unknown --at '\(at)': use start, sft-optimum or rl-optimum") }
        let loaded: (file: InstanceFile, instance: Instance)
        do { loaded = try FlowCLI.loadInstance(instance) } catch { throw bad("instance \(instance): \(error)") }
        let inst = loaded.instance
        let need = CurvatureReport.estimatedBytes(dimension: inst.policy.dimension)
        let limit = SizeLimits.budget
        if need > limit {
            throw bad("instance \(instance) has \(inst.policy.dimension) parameters: its spectrum needs about "
                + "\(formatSignificant(need / 1_073_741_824, digits: 3)) GiB of dense matrices, more than half of this machine's "
                + "memory (\(formatSignificant(limit / 1_073_741_824, digits: 3)) GiB); use fewer prompts or responses, or a log-linear class")
        }
        let theta: [Double]
        do {
            switch at {
            case "sft-optimum": theta = try inst.sftOptimum().theta
            case "rl-optimum": theta = try inst.rlOptimum().theta
            default:
                try inst.validateForFlows()
                theta = inst.start
            }
        } catch { throw bad("instance \(instance), --at \(at): \(error)") }
        let report: CurvatureReport
        do { report = try CurvatureReport(instance: inst, at: theta) } catch {
            throw FlowCommand.Failure(description: "eigenvalue computation failed: \(error)", code: 1)
        }
        let pt = inst.point(theta)
        return Output(instance: instance, hash: canonicalJSONHash(loaded.file), at: at, beta: inst.beta, theta: theta,
                      report: report, cos: TraceQuantity.cosSFTRL.value(inst, at: theta), sftLoss: inst.value(.sft, at: pt),
                      reward: inst.value(.reward, at: pt), rewardRegularized: inst.value(.rewardRegularized, at: pt))
    }

    /// The readable form: a table of eigenvalues (ascending) and the constants.
    static func table(_ o: Output) -> String {
        func f(_ x: Double) -> String { formatSignificant(x, digits: 6) }
        let e = o.eigenvalues, c = o.constants
        var t = ConsoleTable(columns: ["k", "λ(∇²L_SFT)", "λ(−∇²J_β)", "λ(Fisher)"], alignments: [.right, .right, .right, .right])
        for k in 0..<o.subspaceDimension {
            t.append(["\(k + 1)", f(e.sftHessian[k]), f(e.negRLHessian[k]), f(e.fisher[k])])
        }
        var s = "instance \(o.instance) at \(o.at) (β = \(o.beta); moving subspace of dimension \(o.subspaceDimension))\n"
        s += t.render()
        var k = ConsoleTable(columns: ["constant", "value"], alignments: [.left, .right])
        k.append(["μ_S = λ_min(∇²L_SFT)", f(c.muSFT)])
        k.append(["L_S = max|λ(∇²L_SFT)|", f(c.smoothSFT)])
        k.append(["μ_R = λ_min(−∇²J_β)", f(c.muRL)])
        k.append(["L_R = max|λ(−∇²J_β)|", f(c.smoothRL)])
        k.append(["‖∇L_SFT‖", f(o.gradSFTNorm)])
        k.append(["‖∇J_β‖", f(o.gradRLNorm)])
        k.append(["cos∠(−∇L_SFT, ∇J_β)", f(o.cosSFTRL)])
        k.append(["L_SFT", f(o.sftLoss)])
        k.append(["J", f(o.reward)])
        k.append(["J_β", f(o.rewardRegularized)])
        s += "\n" + k.render()
        return s
    }

    mutating func run() throws {
        do {
            let o = try compute()
            if json {
                FileHandle.standardOutput.write(try encodeJSON(o))
            } else {
                print(SpectrumCommand.table(o), terminator: "")
            }
        } catch let f as FlowCommand.Failure {
            FlowCLI.printError(f.description)
            throw ExitCode(f.code)
        }
    }
}
