import ArgumentParser
import Flows
import Foundation
import Figures
import Linalg
import Policies
import Reports

/// `sftrl pareto`: the Pareto front of (L_SFT, J_β) and how far the SFT/RL pipelines end from it.
struct ParetoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pareto",
        abstract: "The Pareto front of (L_SFT, J_β) and the distance of SFT→RL, RL→SFT, alternating and mixed flows to it.",
        discussion: """
            Front: for μ = k/(N+1), k = 1..N, the minimiser of μ·L_SFT − (1−μ)·J_β over the policy \
            class, plus its limits μ = 1 (the SFT optimum) and μ = 0 (the RL optimum, when β > 0). \
            Tabular: exact (strictly convex in p; a monotone root-find per prompt). Log-linear: \
            Newton continuation in θ from the SFT optimum: a local front.

            Paths (exact flows from the instance's start, each phase --duration long): sft-then-rl, \
            rl-then-sft, alternating-K (K rounds of sft:D/K,rl:D/K), mix-μ (mix:μ:2D for each --mix), \
            and every --schedule. Each output row gets distance (Euclidean, in the (L_SFT, J_β) plane, \
            to the front polyline), reward_gap (J_β of the front at the same L_SFT minus the path's \
            J_β) and sft_gap (the path's L_SFT minus the front's at the same J_β); the gaps are exact \
            for the tabular class (root-find in μ on the exact front), on the polyline for log-linear. \
            See docs/pareto.md.

            Writes OUT/front.csv (mu, sft_loss, reward, reward_reg), OUT/paths.csv (path, schedule, t, \
            phase, sft_loss, reward, reward_reg, distance, reward_gap, sft_gap), OUT/summary.csv (per \
            path: the final row and the closest approach), OUT/pareto.svg and OUT/manifest.json; with \
            --method, each method's path too and OUT/limits.csv (where it converges, sftrl fixedpoint's limit).

            Exit codes: 0 done; 2 invalid input (nothing written); 1 the run failed (nothing written).
            """)

    @Option(help: ArgumentHelp("Instance JSON file (required; tabular, loglinear or autoregressive: the front of its sequences).", valueName: "file"))
    var instance: String
    @Option(help: "Front points N strictly inside (0, 1): μ = k/(N+1), k = 1..N (≥ 2).")
    var points: Int = 99
    @Option(help: "Length D of each phase of the two-stage pipelines; every standard path has total length 2D.")
    var duration: Double = 5
    @Option(help: "Rounds K of the alternating pipeline (sft:D/K,rl:D/K repeated K times).")
    var alternations: Int = 4
    @Option(help: ArgumentHelp("SFT weights μ of the mix:μ:2D paths, comma-separated (empty for none).", valueName: "list"))
    var mix: String = "0.25,0.5,0.75"
    @Option(name: .customLong("schedule"), help: ArgumentHelp("An extra path, as in sftrl flow (repeatable; none by default).", valueName: "spec"))
    var schedules: [String] = []
    @Option(name: .customLong("method"), help: ArgumentHelp("A practical method (fixedpoint's, default options): its expected-update flow for 2D and its limit against the front, in limits.csv (repeatable).", valueName: "id"))
    var methods: [String] = []
    @Option(help: "Evenly spaced output times per path (ends included, boundaries added), ≥ 2.")
    var samples: Int = 101
    @Option(help: "Relative tolerance of the flows (rk8pd).")
    var rtol: Double = 1e-8
    @Option(help: "Absolute tolerance of the flows.")
    var atol: Double = 1e-10
    @Option(help: ArgumentHelp("Output directory (required; created if missing; its five files are replaced).", valueName: "dir"))
    var out: String
    @Flag(help: "Print nothing on success.")
    var quiet = false

    func plan() throws -> ParetoStudy.Plan {
        guard duration.isFinite, duration > 0 else { throw ValidationError("--duration must be a positive number, got \(duration)") }
        var mixes: [Double] = []
        let mixItems = mix.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if mixItems.count > 1, mixItems.contains(where: \.isEmpty) {
            throw ValidationError("--mix '\(mix)' has an empty item (a stray comma?); write e.g. --mix 0.25,0.5, or --mix '' for no mixed paths")
        }
        for item in mixItems where !item.isEmpty {
            guard let m = Double(item), m >= 0, m <= 1 else { throw ValidationError("--mix: '\(item)' is not a weight μ in [0, 1]; write e.g. --mix 0.25,0.5") }
            mixes.append(m)
        }
        var options = IntegratorOptions()
        options.rtol = rtol
        options.atol = atol
        options.automaticInitialStep = true
        try FlowCommand.checkTolerances(rtol: rtol, atol: atol)
        do { try options.validate() } catch { throw ValidationError("\(error)") }
        var paths: [(String, Schedule)]
        do { paths = try ParetoPath.standardPipelines(duration: duration, alternations: alternations, mixes: mixes) } catch { throw ValidationError("\(error)") }
        for s in schedules {
            do { paths.append((s, try Schedule(parsing: s))) } catch { throw ValidationError("--schedule: \(error)") }
        }
        let loaded: (file: InstanceFile, instance: Instance)
        do {
            loaded = try FlowCLI.loadInstance(instance)
            try loaded.instance.validateForFlows()
        } catch { throw ValidationError("instance \(instance): \(error)") }
        // The front keeps θ and a few numbers per point; each path keeps θ and about 16 quantities
        // per output time (--samples plus every phase boundary): refuse what cannot fit in half
        // the memory instead of aborting in the allocator (--points, --samples or --alternations 10⁹).
        let dim = Double(loaded.instance.policy.dimension)
        let rowsPerPath = paths.map { Double(samples) + Double($0.1.phases.count) + 1 }.reduce(0, +)
        let bytes = (Double(points) * (dim + 8) + rowsPerPath * (dim + 16)) * 8
        let memoryLimit = SizeLimits.budget
        if bytes > memoryLimit {
            throw ValidationError("--points \(points), --samples \(samples) and --alternations \(alternations) would keep about "
                + "\(formatSignificant(bytes / 1_073_741_824, digits: 3)) GiB for this instance, more than half of this machine's memory; lower them")
        }
        try validating { try OutputPaths.checkCreatableFolder(out, option: "--out") }
        var plan = ParetoStudy.Plan(instance: loaded.instance, file: loaded.file, name: URL(fileURLWithPath: instance).deletingPathExtension().lastPathComponent,
                                    mus: (1...points).map { Double($0) / Double(points + 1) }, paths: paths, samples: samples, options: options)
        plan.methods = try methods.map { id in
            guard let m = PracticalMethod(rawValue: id) else { throw ValidationError("unknown --method '\(id)': use \(PracticalMethod.idList)") }
            return PracticalSettings(method: m)
        }
        plan.methodDuration = 2 * duration
        return plan
    }

    func validate() throws {
        try Bounds.check([("--points", points, 2...10_000), ("--alternations", alternations, 1...1_000_000),
                          ("--samples", samples, 2...Bounds.items.upperBound)])
    }

    func run() throws {
        let started = Date()
        let p = try plan()
        let study: ParetoStudy
        do { study = try ParetoStudy.compute(p) } catch {
            throw RunFailure(ParetoStudy.describe(error))
        }
        do { try study.writeFolder(plan: p, instancePath: instance, out: URL(fileURLWithPath: out), started: started) } catch {
            throw RunFailure(plainMessage(error))
        }
        if !quiet { print(study.summaryText(out: out)) }
    }
}
