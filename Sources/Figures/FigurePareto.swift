import Flows
import Foundation
import Policies
import Reports

/// Figure p: the Pareto front of (L_SFT, J_β) on figure a's instance (one prompt, three responses,
/// data against the reward on part of its mass, β = 0.5, π_ref = the uniform base) and on
/// examples/two-prompt.json's instance, with the pipelines of `sftrl pareto` (phases of 10 time
/// units; the figure-a pipelines) on it.
enum FigurePareto {
    static func study(_ file: InstanceFile, name: String, quick: Bool) throws -> ParetoStudy {
        let inst = try Instance(file: file)
        let points = quick ? 19 : 59
        let paths = try ParetoPath.standardPipelines(duration: 10, alternations: 4, mixes: [0.25, 0.5, 0.75])
        let plan = ParetoStudy.Plan(instance: inst, file: file, name: name, mus: (1...points).map { Double($0) / Double(points + 1) },
                                    paths: paths, samples: quick ? 21 : 81, options: IntegratorOptions(stepper: .rk8pd, rtol: 1e-10, atol: 1e-12))
        return try ParetoStudy.compute(plan)
    }

    static func build(quick: Bool) throws -> FigureFolder {
        let s = try study(FigureTabularFig3.file, name: "figure a's instance", quick: quick)
        var extra: [String: ReportJSON] = s.manifestExtra()
        extra.removeValue(forKey: "files")
        extra["instance"] = "instance.json (figure a's: one prompt, three responses, beta 0.5, reference = start = uniform)"
        extra["description"] = "The exact Pareto front of (L_SFT, J_beta) and the SFT->RL, RL->SFT, alternating and mix flows (phases of 10 time units) with their distance to it."
        extra["regenerate_one"] = "sftrl pareto --instance notebooks-data/p-pareto/instance.json --duration 10 --points 59 --samples 81 --out OUT"
        var folder = FigureFolder(key: "p", name: FigureCatalog.folderName("p"), files: [], seed: nil, extra: extra, quick: quick)
        folder.add("front.csv", s.frontTable().render())
        folder.add("paths.csv", s.pathsTable().render())
        folder.add("summary.csv", s.summaryTable().render())
        folder.add("instance.json", FigureTabularFig3.file.canonicalJSON(pretty: true) + Data("\n".utf8))
        folder.add("pareto.svg", s.figure(title: "Pareto front of (L_SFT, J_β) and the pipelines (figure a's instance)").render())
        return folder
    }
}
