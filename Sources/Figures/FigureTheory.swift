import Foundation
import Policies
import Claims
import Reports

/// A log-spaced grid of `count` points from 10^lo to 10^hi (both included).
func logGrid(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
    (0..<count).map { Foundation.pow(10, lo + (hi - lo) * Double($0) / Double(count - 1)) }
}

/// Evaluates a registered claim on an instance; every number of these figures comes from the
/// claims' own margins and quantities (the one numeric core), none from a second formula.
func claimQuantities(_ id: String, _ ci: ClaimInstance) throws -> Evaluation { try Registry.claim(id).evaluate(ci) }

/// Figure b: C₁(β) of Thm 3.1 against β for a family of instances under H10 (π_ref = p_SFT = p_D).
enum FigureC1 {
    static let family: [(name: String, file: InstanceFile)] = [
        ("binary r=(1,-1)", Generate.file(beta: 1, weights: [1], data: [[0.5, 0.5]], reward: [[1, -1]], reference: [[0.5, 0.5]])),
        ("three-response r=(0,1,0)", Generate.file(beta: 1, weights: [1], data: [[0.7, 0.2, 0.1]], reward: [[0, 1, 0]], reference: [[0.7, 0.2, 0.1]])),
        ("figure-a data, r=(0.5,1,-1)", Generate.file(beta: 1, weights: [1], data: [[0.5, 0.05, 0.45]], reward: [[0.5, 1, -1]], reference: [[0.5, 0.05, 0.45]])),
        ("reward on the data's mode", Generate.file(beta: 1, weights: [1], data: [[0.8, 0.15, 0.05]], reward: [[1, 0, 0]], reference: [[0.8, 0.15, 0.05]])),
        ("two prompts", Generate.file(beta: 1, weights: [0.5, 0.5], data: [[0.9, 0.1], [0.2, 0.3, 0.5]], reward: [[0, 1], [1, 0, 0.5]],
                                      reference: [[0.9, 0.1], [0.2, 0.3, 0.5]])),
    ]

    static func build(quick: Bool) throws -> FigureFolder {
        let betas = logGrid(-2, 2, count: quick ? 21 : 81)
        var table = CSVTable(columns: ["instance", "beta", "C1", "delta_sft_loss", "reward_gain"])
        var plot = LinePlot(title: "Thm 3.1: C₁(β) = L_SFT(p_RL) − L_SFT(p_SFT) ≥ 0 under H10", xLabel: "β (KL coefficient, log scale)", yLabel: "C₁(β) = E_x[log Z_β − E_{p_D} r / β]")
        plot.xScale = .log
        var minC1 = Double.infinity
        for (i, member) in family.enumerated() {
            var c1s: [Double] = [], dls: [Double] = []
            for beta in betas {
                var f = member.file
                f.beta = beta
                let e = try claimQuantities("thm3.1-identity", ClaimInstance(family: .tabularSingle, instance: f))
                let c1 = e.quantities["C1"]!, dl = e.quantities["delta_sft_loss"]!
                table.append([.string(member.name), .double(beta), .double(c1), .double(dl), .double(e.quantities["reward_gain"]!)])
                c1s.append(c1); dls.append(dl)
                minC1 = Swift.min(minC1, c1)
            }
            let color = Palette.color(i)
            plot.series.append(PlotSeries(name: member.name, xs: betas, ys: c1s, color: color))
            let every = quick ? 4 : 8
            let idx = Array(stride(from: 0, to: betas.count, by: every))
            plot.series.append(.scatter(name: "", xs: idx.map { betas[$0] }, ys: idx.map { dls[$0] }, color: color))
        }
        plot.series.append(.scatter(name: "● ΔL_SFT measured directly", xs: [], ys: [], color: "#444444"))
        plot.yRange = 0...1.6
        plot.referenceLines.append(ReferenceLine(y: 0, label: "0 (Jensen: C₁ ≥ 0)"))
        plot.legend = .topRight
        let extra: [String: ReportJSON] = [
            "description": "C₁(β) of Thm 3.1 (line) and L_SFT(p_RL) − L_SFT(p_SFT) computed directly from the Gibbs optimum (dots), π_ref = p_SFT = p_D; both from the claim thm3.1-identity.",
            "instances": .array(family.map { .string($0.name) }),
            "beta_grid": .string("\(betas.count) log-spaced points in [1e-2, 1e2]"),
            "min_C1": .number(minC1),
            "y_range_note": "C₁ grows like (max r − E_{p_D} r)/β as β → 0; the plot clips at 1.6",
        ]
        var folder = FigureFolder(key: "b", name: FigureCatalog.folderName("b"), files: [], seed: nil, extra: extra, quick: quick)
        folder.add("c1.csv", table.render())
        folder.add("c1-beta.svg", plot.render())
        return folder
    }
}

/// Figure c: the non-decoupling threshold of R4 (exact-optimum form). With p_SFT ≠ p_D and
/// π_ref = p_SFT, the Gibbs RL optimum lowers L_SFT iff E_{p_D} r > φ(β) = β·log E_{p_SFT} e^{r/β}.
enum FigureThreshold {
    static let family: [(name: String, file: InstanceFile)] = [
        ("threshold: p_SFT=(0.3,0.4,0.3)", Generate.file(beta: 1, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[1, 0, -1]],
                                                         reference: [[0.3, 0.4, 0.3]], start: [[0.3, 0.4, 0.3]])),
        ("never helps: p_SFT=(0.8,0.15,0.05)", Generate.file(beta: 1, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[1, 0, -1]],
                                                             reference: [[0.8, 0.15, 0.05]], start: [[0.8, 0.15, 0.05]])),
        ("always helps: p_D=(1,0,0)", Generate.file(beta: 1, weights: [1], data: [[1, 0, 0]], reward: [[1, 0, -1]],
                                                    reference: [[0.3, 0.4, 0.3]], start: [[0.3, 0.4, 0.3]])),
    ]

    static func build(quick: Bool) throws -> FigureFolder {
        let betas = logGrid(-2, 2, count: quick ? 21 : 81)
        var table = CSVTable(columns: ["instance", "beta", "delta_sft_loss", "E_data_reward", "phi_beta", "rl_lowers_sft"])
        var thresholds = CSVTable(columns: ["instance", "beta_star", "E_data_reward", "E_sft_reward", "max_reward"])
        var plot = LinePlot(title: "R4: does the RL optimum lower the SFT loss? (π_ref = p_SFT ≠ p_D)", xLabel: "β (KL coefficient, log scale)",
                            yLabel: "ΔL = L_SFT(p_RL) − L_SFT(p_SFT)")
        plot.xScale = .log
        var extra: [String: ReportJSON] = [:]
        var starts: [Double] = []
        for (i, member) in family.enumerated() {
            var ys: [Double] = []
            var betaStar = -1.0
            for beta in betas {
                var f = member.file
                f.beta = beta
                let e = try claimQuantities("r4-threshold", ClaimInstance(family: .tabularSingle, instance: f))
                let q = e.quantities
                table.append([.string(member.name), .double(beta), .double(q["delta_sft_loss"]!), .double(q["E_data_reward"]!),
                              .double(q["phi_beta"]!), .int(q["rl_lowers_sft"]! > 0 ? 1 : 0)])
                ys.append(q["delta_sft_loss"]!)
                betaStar = q["beta_star"]!   // β* does not depend on β
            }
            let p = member.file.prompts[0]
            let eSFT = zip(p.start!, p.reward).reduce(0) { $0 + $1.0 * $1.1 }
            let eData = zip(p.data, p.reward).reduce(0) { $0 + $1.0 * $1.1 }
            thresholds.append([.string(member.name), betaStar > 0 ? .double(betaStar) : .missing, .double(eData), .double(eSFT), .double(p.reward.max()!)])
            extra["beta_star_\(i + 1)"] = betaStar > 0 ? .number(betaStar) : .string("none in [1e-3, 1e3]")
            plot.series.append(PlotSeries(name: member.name, xs: betas, ys: ys, color: Palette.color(i), lineWidth: i == 0 ? 2.4 : 1.6))
            if betaStar > 0 { starts.append(betaStar) }
            if i == 0 && betaStar > 0 {
                plot.verticalMarkers.append(VerticalMarker(x: betaStar, label: "β* = \(formatSignificant(betaStar, digits: 4))", color: Palette.color(0)))
                plot.shadedIntervals.append(ShadedInterval(from: betaStar, to: betas.last!, label: "RL lowers L_SFT (β > β*)", color: "#009E73", opacity: 0.12))
            }
        }
        plot.referenceLines.append(ReferenceLine(y: 0, label: "ΔL = 0", color: "#000000"))
        plot.yRange = -1.5...1.5
        plot.legend = .topRight
        extra["description"] = "ΔL(β) for three instances with p_SFT ≠ p_D: one with a threshold β* (RL lowers L_SFT exactly for β > β*, shaded), one where RL never lowers it (E_{p_SFT} r ≥ E_{p_D} r), one where it always does (p_D on the argmax of r). From the claim r4-threshold."
        extra["beta_grid"] = .string("\(betas.count) log-spaced points in [1e-2, 1e2]")
        var folder = FigureFolder(key: "c", name: FigureCatalog.folderName("c"), files: [], seed: nil, extra: extra, quick: quick)
        folder.add("threshold.csv", table.render())
        folder.add("beta-star.csv", thresholds.render())
        folder.add("threshold.svg", plot.render())
        return folder
    }
}

/// Figure d: the optimal RL duration T*(λ) of R3 and the argmax of the utility measured on the
/// integrated RL flow, for an isotropic pair (exact) and an anisotropic pair with the same μ_R and
/// L_S (where the measured optimum comes after T*).
enum FigureDuration {
    static let isotropic = Landscape(a: [1, 1], b: [2, 2], thetaR: [2, 1], theta0: [0, 0])
    static let anisotropic = Landscape(a: [1, 1], b: [2, 0.02], thetaR: [1, 3], theta0: [0, 0])

    static func build(quick: Bool) throws -> FigureFolder {
        let lambdas = logGrid(-2, 2, count: quick ? 9 : 41)
        var table = CSVTable(columns: ["landscape", "lambda", "T_star", "t_argmax_measured", "relative_difference"])
        var tStar: [Double] = [], iso: [Double] = [], aniso: [Double] = []
        var worstIso = 0.0, laterCount = 0
        for lambda in lambdas {
            let e1 = try claimQuantities("r3-duration", ClaimInstance(family: .quadraticIsotropic, parameters: ["lambda": lambda], landscape: isotropic))
            let e2 = try claimQuantities("r3-duration-actual", ClaimInstance(family: .quadraticAnisotropic, parameters: ["lambda": lambda], landscape: anisotropic))
            for (name, e) in [("isotropic", e1), ("anisotropic", e2)] {
                let ts = e.quantities["T_star"]!, tm = e.quantities["t_argmax_measured"]!
                table.append([.string(name), .double(lambda), .double(ts), .double(tm), .double((tm - ts) / ts)])
            }
            tStar.append(e1.quantities["T_star"]!)
            iso.append(e1.quantities["t_argmax_measured"]!)
            aniso.append(e2.quantities["t_argmax_measured"]!)
            worstIso = Swift.max(worstIso, abs(iso.last! - tStar.last!) / tStar.last!)
            if aniso.last! > e2.quantities["T_star"]! * (1 + 1e-6) { laterCount += 1 }
        }
        var plot = LinePlot(title: "R3: optimal RL duration T*(λ) and the measured argmax of U(t)", xLabel: "λ (weight of the SFT loss in U, log scale)",
                            yLabel: "RL duration t")
        plot.xScale = .log
        plot.series.append(PlotSeries(name: "T* = (1/μ_R)·ln(1 + μ_R/(λ L_S)), μ_R = 1, L_S = 2", xs: lambdas, ys: tStar, color: "#000000", lineWidth: 2))
        plot.series.append(.scatter(name: "measured argmax, isotropic A = I, B = 2I", xs: lambdas, ys: iso, color: Palette.color(0), marker: .circle))
        plot.series.append(.scatter(name: "measured argmax, anisotropic B = diag(2, 0.02)", xs: lambdas, ys: aniso, color: Palette.color(1), marker: .triangle))
        plot.legend = .topRight
        let extra: [String: ReportJSON] = [
            "description": "T*(λ) against the first maximum of U(t) = [J(θ_t) − J(θ₀)] − λ L_SFT(θ_t) located as an event on the integrated RL flow (claims r3-duration and r3-duration-actual, rtol 1e-10).",
            "isotropic": .object(["diag_A": .array(isotropic.a.map { .number($0) }), "diag_B": .array(isotropic.b.map { .number($0) }),
                                  "theta_R": .array(isotropic.thetaR.map { .number($0) }), "theta_0": .array(isotropic.theta0.map { .number($0) })]),
            "anisotropic": .object(["diag_A": .array(anisotropic.a.map { .number($0) }), "diag_B": .array(anisotropic.b.map { .number($0) }),
                                    "theta_R": .array(anisotropic.thetaR.map { .number($0) }), "theta_0": .array(anisotropic.theta0.map { .number($0) })]),
            "max_relative_difference_isotropic": .number(worstIso),
            "anisotropic_lambdas_with_measured_after_T_star": .integer(laterCount),
            "lambdas": .integer(lambdas.count),
        ]
        var folder = FigureFolder(key: "d", name: FigureCatalog.folderName("d"), files: [], seed: nil, extra: extra, quick: quick)
        folder.add("duration.csv", table.render())
        folder.add("duration.svg", plot.render())
        return folder
    }
}
