import Foundation
import Linalg
import Policies
import Flows

/// The integration tolerance of a flow claim's Double evaluation (GSL rk8pd, atol = rtol/100).
public let flowRtol = 1e-10
/// The integration tolerance of a flow claim's extended evaluation (the certifying re-check).
public let flowRtolExtended = 1e-13

/// A claim whose margins are read off an integrated flow (or any computation whose accuracy is set
/// by one integration tolerance). The one certification rule of flow claims lives here:
///
/// - `evaluate` computes the margins at rtol = `flowRtol` (1e-10);
/// - `evaluateExtended` computes them again at rtol = `flowRtolExtended` (1e-13), and moves the
///   extended conclusion toward "holds" by the integration error estimate |m₁₃ − m₁₀| (the
///   difference between the two runs bounds the coarse run's error, and the fine run's error is
///   about 10⁻³ of it): a violation is certified (`Judgement`) only when
///   m₁₃ + |m₁₃ − m₁₀| < −`certificationTolerance`, so its sign does not depend on the integrator.
///   The estimate is reported as the quantity `integration_error_estimate`.
protocol FlowClaim: Claim {
    /// Every margin, with the flow(s) integrated at relative tolerance `rtol`.
    func margins(_ ci: ClaimInstance, rtol: Double) throws -> Evaluation
}

extension FlowClaim {
    func evaluate(_ ci: ClaimInstance) throws -> Evaluation { try margins(ci, rtol: flowRtol) }

    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation {
        var fine = try margins(ci, rtol: flowRtolExtended)
        let coarse = try margins(ci, rtol: flowRtol)
        let error = abs(fine.conclusion - coarse.conclusion)
        if error.isFinite { fine.conclusion += error }
        fine.quantities["integration_error_estimate"] = error
        return fine
    }
}
