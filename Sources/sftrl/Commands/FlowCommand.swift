import ArgumentParser
import Flows
import Foundation
import Figures
import Linalg
import Policies
import Reports

/// `sftrl flow`: runs a schedule of SFT / RL / mixed phases on an instance, by the exact gradient
/// flow (GSL odeiv2) or by plain gradient steps, and writes a trace, a manifest and a figure.
///
/// Exit codes: 0 success; 2 invalid input (instance, schedule, stepper, tolerances, events,
/// step size, output path), nothing written; 1 the run itself failed (integrator limit reached,
/// gradient steps diverged, disk error), nothing written. ArgumentParser's own usage errors
/// (a missing option, a non-number where a number is expected) exit with 64.
struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Run SFT/RL gradient flows (or gradient steps) over a schedule of phases and trace the objectives.",
        discussion: """
            Phases: sft:D runs θ̇ = −∇L_SFT for D time units, rl:D runs θ̇ = +∇J_β (the instance's β; \
            ∇J when β = 0), mix:MU:D runs θ̇ = (1−μ)∇J_β − μ∇L_SFT. Example: --schedule sft:2,rl:5,sft:2.

            Writes OUT/trace.csv (one row per output time: t, phase, sft_loss, reward, reward_reg, \
            kl_data_policy, kl_policy_ref, entropy, grad_sft_norm, grad_rl_norm, cos_sft_rl, \
            tv_data_policy, phase_index, and step for --method gd), OUT/flow.svg (SFT loss and reward \
            against t, phases marked) and OUT/manifest.json (command, version, instance SHA-256, \
            settings, work counters, events, final θ, wall time). cos_sft_rl = cos∠(−∇L_SFT, ∇J_β): \
            > 0 when the RL direction lowers the SFT loss to first order.

            Sampled algorithms: phases grpo:STEPS, sft-sgd:STEPS, reinforce:STEPS, chord:MU:STEPS, dft:STEPS, \
            chord-phi:STEPS, luffy:STEPS, rloo:STEPS (or --method with --schedule STEPS) run --seeds K seeded runs with step \
            size --eta; trace.csv then has per recorded step each quantity's mean and 10%/90% quantiles \
            (sft_loss_mean, sft_loss_q10, sft_loss_q90, exact_sft_loss, …) with the exact gradient steps \
            of the same η beside them.

            Exit codes: 0 done; 2 invalid input (nothing written); 1 the run failed (nothing written).
            """)

    @Option(help: ArgumentHelp("Instance JSON file (required).", valueName: "file"))
    var instance: String

    @Option(help: ArgumentHelp("Phases sft:D, rl:D, mix:MU:D separated by commas, e.g. sft:2,rl:5,sft:2 (required).", valueName: "spec"))
    var schedule: String

    @Option(help: ArgumentHelp("flow (exact gradient flow, GSL), gd (gradient steps of size --eta), or a sampled method sft-sgd, reinforce, grpo, chord, dft, chord-phi, luffy, rloo (then --schedule is a step count).", valueName: "name"))
    var method: FlowMethod = .flow

    @OptionGroup(title: "Sampled algorithms") var sampled: SampledOptions

    @Option(help: "Sampled phases: the number of independent seeded runs K.")
    var seeds: Int = 1

    @Option(help: "Sampled phases: the seed S (run k uses the stream derived from (S, k)).")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Sampled phases: record a row every N steps (default: about 200 rows in all; phase ends always).", valueName: "N"))
    var every: Int?

    @Option(help: ArgumentHelp("Step size η of --method gd (required there); each phase takes duration/η steps, which must be a whole number. No default.", valueName: "η"))
    var eta: Double?

    @Option(help: ArgumentHelp("Stepper (flow only): dop853 (the toolkit's own DOP853, order 8 with an order-7 interpolant) or a GSL one: \(Stepper.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "name"))
    var stepper: Stepper = .dop853

    @Option(help: "Relative tolerance of the integrator (flow only).")
    var rtol: Double = 1e-8

    @Option(help: "Absolute tolerance of the integrator (flow only).")
    var atol: Double = 1e-10

    @Option(name: .customLong("max-steps"), help: "Most accepted integrator steps over the whole schedule (flow), gradient steps (gd), or sampled steps × --seeds (sampled phases).")
    var maxSteps: Int = 1_000_000

    @Option(help: "Evenly spaced output times over the whole schedule (ends included), ≥ 2; every phase boundary is added.")
    var samples: Int = 101

    @Option(name: .customLong("output-steps"),
            help: ArgumentHelp("Flow only: dense (default) lets the steps run free and writes each output row from its step's interpolant, of order 7 for dop853 (within the tolerance), 3 (cubic Hermite) for the GSL steppers; forced cuts a step at every output time, so each row is an exact step end. The final θ and events never use the interpolant.", valueName: "forced|dense"))
    var outputSteps: OutputSteps?

    @Option(help: ArgumentHelp("Flow only: the norm of the error estimate. Default rms for dop853 (Hairer's and scipy's norm: tolerances mean the same as there, and one component is not held to the tolerance alone), max for the GSL steppers (the only norm GSL's control offers; rms needs dop853).", valueName: "max|rms"))
    var norm: ErrorNorm?

    @Option(name: .customLong("event"),
            help: ArgumentHelp("Report the first time QUANTITY crosses LEVEL, e.g. sft_loss=1.2 (repeatable; none by default). Quantities: \(TraceQuantity.names).", valueName: "quantity=level"))
    var events: [String] = []

    @Option(help: ArgumentHelp("Output directory (required; created if missing; trace.csv, flow.svg, manifest.json in it are replaced).", valueName: "dir"))
    var out: String

    @Flag(help: "Print nothing on success.")
    var quiet = false

    /// Everything checked before any work: a run that starts cannot fail on its input.
    typealias Plan = FlowPlan

    /// Validates every argument and the instance; throws ``UserInputError`` naming the first problem.
    func plan() throws -> Plan {
        if method == .flow && eta != nil { throw UserInputError("--eta is the step size of --method gd: add --method gd, or drop --eta to integrate the flow") }
        var options = IntegratorOptions()
        options.stepper = stepper
        options.rtol = rtol
        options.atol = atol
        options.maxSteps = maxSteps
        options.denseOutput = (outputSteps ?? .dense) == .dense
        options.norm = norm ?? (stepper == .dop853 ? .rms : .max)
        options.automaticInitialStep = true
        if method == .gd, outputSteps != nil || norm != nil { throw UserInputError("--output-steps and --norm apply to --method flow only: drop them for gradient steps") }
        if options.norm == .rms && stepper != .dop853 { throw UserInputError("--norm rms needs --stepper dop853 (GSL's \(stepper.rawValue) controls the max norm only): use --norm max or --stepper dop853") }
        do { try FlowCommand.checkTolerances(rtol: rtol, atol: atol) } catch let e as ValidationError { throw UserInputError(e.message) }
        do { try options.validate() } catch { throw UserInputError("\(error)") }
        let parsedSchedule: Schedule
        do { parsedSchedule = try Schedule(parsing: schedule) } catch { throw UserInputError("--schedule: \(error)") }
        var parsedEvents: [LevelEvent] = []
        for e in events {
            do { parsedEvents.append(try LevelEvent(parsing: e)) } catch { throw UserInputError("--event: \(error)") }
        }
        if method == .gd {
            guard let eta else { throw UserInputError("--method gd needs --eta, the step size (e.g. --eta 0.1)") }
            let steps: [Int]
            do { steps = try stepsPerPhase(parsedSchedule, eta: eta) } catch { throw UserInputError("--eta: \(error)") }
            let total = steps.reduce(0, +)
            if total > maxSteps {
                throw UserInputError("--method gd with --eta \(eta) takes \(total) steps, more than --max-steps \(maxSteps): use a larger --eta or raise --max-steps")
            }
        }
        let loaded: (file: InstanceFile, instance: Instance)
        do {
            loaded = try FlowCLI.loadInstance(instance)
            try loaded.instance.validateForFlows()
        } catch { throw UserInputError("instance \(instance): \(error)") }
        // The trace keeps θ and about 16 quantities per output time: refuse what cannot fit in half the memory.
        let bytesPerSample = Double(loaded.instance.policy.dimension + 16) * 8
        let memoryLimit = SizeLimits.budget
        if Double(samples) * bytesPerSample > memoryLimit {
            throw UserInputError("--samples \(samples) would keep about \(formatSignificant(Double(samples) * bytesPerSample / 1_073_741_824, digits: 3)) GiB "
                + "of trace for this instance; at most \(Int(memoryLimit / bytesPerSample)) samples fit in half of this machine's memory")
        }
        try validating { try OutputPaths.checkCreatableFolder(out, option: "--out") }
        let outURL = URL(fileURLWithPath: out)
        return Plan(file: loaded.file, instance: loaded.instance, schedule: parsedSchedule, method: method.rawValue, eta: eta,
                    options: options, events: parsedEvents, out: outURL)
    }

    /// The sampled schedule, when the run is sampled (a sampled --method, or sampled phases).
    func sampledSchedule() throws -> SampledSchedule? {
        if let m = method.sampled {
            if m == .chord, !(sampled.mix >= 0 && sampled.mix <= 1) {
                throw UserInputError("--mix must be chord's SFT weight μ in [0, 1] (0 pure RL, 1 pure SFT), got \(sampled.mix)")
            }
            guard let n = Int(schedule), n >= 1 else { throw UserInputError("--method \(method.rawValue) takes --schedule STEPS, a whole number of sampled steps ≥ 1, got '\(schedule)'") }
            let spec = m == .chord ? "chord:\(sampled.mix):\(n)" : "\(m.rawValue):\(n)"
            do { return try SampledSchedule(parsing: spec) } catch { throw UserInputError("--schedule: \(error)") }
        }
        guard SampledSchedule.isSampled(schedule) else { return nil }
        guard method == .flow else { throw UserInputError("--schedule with sampled phases runs the sampled algorithms: drop --method \(method.rawValue)") }
        do { return try SampledSchedule(parsing: schedule) } catch { throw UserInputError("--schedule: \(error)") }
    }

    func runSampledPhases(_ sched: SampledSchedule, started: Date) throws {
        guard let eta else { throw UserInputError("sampled phases need --eta, the step size (e.g. --eta 0.1)") }
        // The work is bounded before it starts, as for --method gd (grpo:10⁸ ran silently for hours).
        let work = Double(sched.totalSteps) * Double(seeds)
        if work > Double(maxSteps) {
            throw UserInputError("--schedule '\(schedule)' with --seeds \(seeds) runs \(formatSignificant(work, digits: 4)) sampled steps, more than --max-steps \(maxSteps): "
                + "shorten the schedule, lower --seeds, or raise --max-steps")
        }
        if !events.isEmpty { throw UserInputError("--event is not available for sampled phases") }
        let config: SampledConfig
        do { config = try sampled.config(method: sched.phases[0].method, eta: eta) } catch { throw UserInputError("\(error)") }
        let loaded: (file: InstanceFile, instance: Instance)
        do {
            loaded = try FlowCLI.loadInstance(instance)
            try sched.checkPhases(instance: loaded.instance, config: config)
        } catch { throw UserInputError("instance \(instance): \(error)") }
        // Each seeded run keeps its recorded rows (about 16 quantities) and its final θ until the
        // quantiles are taken (--seeds 10¹² aborted).
        let rows = Double(sched.totalSteps / (every ?? max(1, sched.totalSteps / 200)) + 2)
        try SizeLimits.checkCount(seeds, option: "--seeds", bytesEach: (rows * 16 + Double(loaded.instance.policy.dimension)) * 8,
                                  what: "per-seed traces", hint: " (or raise --every)")
        try validating { try OutputPaths.checkCreatableFolder(out, option: "--out") }
        let outURL = URL(fileURLWithPath: out)
        let result: SampledRunResult
        do {
            result = try runSampled(instance: loaded.instance, schedule: sched, config: config, seeds: seeds, seed: seed,
                                    every: every ?? max(1, sched.totalSteps / 200))
        } catch { throw RunFailure("\(error)") }
        let report = SampledFlowReport(file: loaded.file, instance: loaded.instance, config: config, run: result, out: outURL,
                                       command: CommandLine.arguments, instancePath: instance, started: started,
                                       wallSeconds: Date().timeIntervalSince(started))
        do { try report.write() } catch { throw RunFailure("\(plainMessage(error))") }
        if !quiet { print(report.summary()) }
    }

    func validate() throws {
        try Bounds.check([("--seeds", seeds, Bounds.items), ("--every", every, Bounds.steps),
                          ("--max-steps", maxSteps, Bounds.steps), ("--samples", samples, 2...Bounds.items.upperBound)])
    }

    mutating func run() throws {
        let started = Date()
        if let sched = try sampledSchedule() {
            try runSampledPhases(sched, started: started)
            return
        }
        let p = try plan()
        // The instance's hash (canonical JSON + SHA-256: a sixth of the process at 256 × 2,048)
        // is computed on another thread while the flow integrates.
        let file = p.file
        let hash = Background { canonicalJSONHash(file) }
        let runStarted = Date()
        let result: ScheduleRun
        do { result = try p.execute(samples: samples) } catch { throw RunFailure("\(error)") }
        let wall = Date().timeIntervalSince(started)
        let report = FlowReport(plan: p, run: result, command: CommandLine.arguments, instancePath: instance,
                                samples: samples, started: started, wallSeconds: wall,
                                runSeconds: Date().timeIntervalSince(runStarted), instanceHash: hash.wait())
        do { try report.write() } catch { throw RunFailure("\(plainMessage(error))") }
        if !quiet { print(report.summary()) }
    }
}

extension FlowCommand {
    /// A relative or absolute tolerance of 1 or more lets the integrator take any step (no error
    /// control): refused, as the trace would look like a solution and not be one.
    static func checkTolerances(rtol: Double, atol: Double) throws {
        guard rtol.isFinite, rtol >= 0 else { throw ValidationError("--rtol must be a finite number ≥ 0, got \(rtol)") }
        guard atol.isFinite, atol >= 0 else { throw ValidationError("--atol must be a finite number ≥ 0, got \(atol)") }
        guard rtol < 1 else { throw ValidationError("--rtol \(rtol) leaves the integrator without error control; give a relative tolerance below 1 (e.g. 1e-8)") }
        guard atol < 1 else { throw ValidationError("--atol \(atol) leaves the integrator without error control; give an absolute tolerance below 1 (e.g. 1e-10)") }
    }
}
