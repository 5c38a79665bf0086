import Foundation
import Policies
import Reports

/// The curvature of an instance at a point, as `sftrl spectrum` prints it: the JSON document
/// (snake_case keys, eigenvalues ascending) and its table.
public struct SpectrumReport: Codable {
    public struct Eigenvalues: Codable {
        public var sftHessian: [Double]
        public var negRLHessian: [Double]
        public var fisher: [Double]
        enum CodingKeys: String, CodingKey {
            case sftHessian = "sft_hessian", negRLHessian = "neg_rl_hessian", fisher
        }
    }
    public struct Constants: Codable {
        public var muSFT: Double, smoothSFT: Double, muRL: Double, smoothRL: Double
        enum CodingKeys: String, CodingKey {
            case muSFT = "mu_sft", smoothSFT = "smooth_sft", muRL = "mu_rl", smoothRL = "smooth_rl"
        }
    }
    public var instance: String
    public var sha256CanonicalJSON: String
    public var at: String
    public var beta: Double
    public var theta: [Double]
    public var subspaceDimension: Int
    public var eigenvalues: Eigenvalues
    public var constants: Constants
    public var gradSFTNorm: Double
    public var gradRLNorm: Double
    public var cosSFTRL: Double
    public var sftLoss: Double
    public var reward: Double
    public var rewardRegularized: Double

    public init(instance: String, hash: String, at: String, beta: Double, theta: [Double], report c: CurvatureReport,
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

    /// The readable form: a table of eigenvalues (ascending) and the constants.
    public func table() -> String {
        let o = self
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
}
