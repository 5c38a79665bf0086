import Flows
import Foundation
import Policies
import Reports

/// Figure q, "where practical post-training converges": on a small autoregressive instance (one
/// prompt, two content tokens, sequences up to length 2, β = 0.4, start = reference = uniform next
/// tokens) the exact Pareto front of (L_SFT, J_β) (the front of its sequences: the class is
/// realisable) with the limits and expected-update flows of the practical methods of
/// `sftrl fixedpoint`: the Gibbs optimum (gibbs), token-sum SFT (sft), per-sequence SFT
/// (sft-seqnorm), DFT, CHORD-φ and TRL's GRPO with k3 in the loss (G = 4, group scaling, β_kl = β).
enum FigurePracticalLimits {
    /// Uniform next tokens over {end, a, b}: 1/3 for the empty sequence, 1/9 for each of length 1
    /// and 2 (the end is forced after two tokens).
    static let uniform: [Double] = [1.0 / 3] + [Double](repeating: 1.0 / 9, count: 6)
    static let file = InstanceFile(beta: 0.4, policy: .init(kind: "autoregressive", vocab: 2, maxLength: 2), prompts: [
        .init(weight: 1, data: [0.05, 0.1, 0.15, 0.2, 0.1, 0.25, 0.15], reward: [0, 1, -0.5, 0.5, 1, -1, 0.25],
              reference: uniform, start: uniform),
    ])
    static let methods: [PracticalSettings] = {
        var grpo = PracticalSettings(method: .grpo)
        grpo.groupSize = 4
        return [PracticalSettings(method: .gibbs), PracticalSettings(method: .sft), PracticalSettings(method: .sftSeqnorm),
                PracticalSettings(method: .dft), PracticalSettings(method: .chordPhi), grpo]
    }()

    static func study(quick: Bool) throws -> ParetoStudy {
        let inst = try Instance(file: file)
        let points = quick ? 19 : 59
        var plan = ParetoStudy.Plan(instance: inst, file: file, name: "figure q's instance", mus: (1...points).map { Double($0) / Double(points + 1) },
                                    paths: [], samples: quick ? 21 : 81, options: IntegratorOptions(stepper: .rk8pd, rtol: 1e-10, atol: 1e-12))
        plan.methods = methods
        plan.methodDuration = 20
        return try ParetoStudy.compute(plan)
    }

    static func build(quick: Bool) throws -> FigureFolder {
        let s = try study(quick: quick)
        var extra: [String: ReportJSON] = s.manifestExtra()
        extra.removeValue(forKey: "files")
        extra["instance"] = "instance.json (autoregressive: one prompt, vocab 2, max_length 2, beta 0.4, reference = start = uniform next tokens)"
        extra["methods"] = .array(methods.map { m in
            .object(["method": .string(m.method.rawValue), "group_size": m.groupSize.map { .integer($0) } ?? .null])
        })
        extra["description"] = "The exact Pareto front of (L_SFT, J_beta) with where each practical method converges (sftrl fixedpoint's limit, limits.csv) and its expected-update flow for 20 time units from the uniform start (paths.csv)."
        extra["regenerate_one"] = "sftrl figures --only q (the same limits and method paths, beside the standard pipelines: sftrl pareto --instance notebooks-data/q-practical-limits/instance.json --duration 10 --points 59 --samples 81 --method gibbs --method sft --method sft-seqnorm --method dft --method chord-phi --method grpo, with grpo at its default G = 8)"
        var folder = FigureFolder(key: "q", name: FigureCatalog.folderName("q"), files: [], seed: nil, extra: extra, quick: quick)
        folder.add("front.csv", s.frontTable().render())
        folder.add("paths.csv", s.pathsTable().render())
        folder.add("limits.csv", s.limitsTable().render())
        folder.add("instance.json", file.canonicalJSON(pretty: true) + Data("\n".utf8))
        folder.add("limits.svg", s.figure(title: "Where practical post-training converges (front of (L_SFT, J_β), figure q's instance)").render())
        return folder
    }
}
