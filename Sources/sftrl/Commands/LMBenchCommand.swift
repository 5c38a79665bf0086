import ArgumentParser
import Foundation
import Linalg
import Reports
import Transformer

extension LMCommand {
    /// `sftrl lm bench`: training, forward and decoding throughput of a Qwen3 configuration with
    /// seeded random weights, against the sgemm peak of the same run (`Transformer.LMBenchmark`).
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench",
            abstract: "Measure the transformer's training, forward and decoding throughput (one flat JSON row).",
            discussion: """
            The model is a preset (tiny, small, qwen3-0.6b) or any Qwen3
            config.json (--config), with seeded random weights. Phases, in order:
              sgemm peak: OpenBLAS sgemm GFLOP/s on n×n×n (--peak-size), same
                threads;
              forward: 1 × --forward-length tokens, --forward-repeats timed runs;
              decode: greedy decoding of --decode-tokens tokens with a KV cache,
                batch 1, after the forward's prompt (not timed);
              train: steps of --batch × --length random tokens: forward, mean
                cross-entropy on random targets, backward, SGD p -= 1e-3·g.
            Defaults of --batch/--length/--steps/--warmup-steps: 8 × 128, 20
            steps after 2 warm-up steps; above 100M parameters 1 × 16, 2 steps
            after 1 warm-up step.
            Output: one JSON object with flat snake_case keys, one pandas row
            (pd.DataFrame([json.load(f)])): train_tokens_per_second,
            forward_tokens_per_second, decode_tokens_per_second,
            sgemm_peak_gflops, train_/forward_matmul_gflops and
            train_/forward_share_of_sgemm_peak (matrix-product FLOPs only,
            ×3 for a training step), peak resident memory per phase
            (*_peak_rss_mib) and of the process (peak_rss_mib), the weight
            storage (weights, weight_mib), whether the AVX2 skinny kernel ran
            (skinny_kernel_vectorised), the sgemm kernel (blas_kernel), the load average (load_average_start/_end), the read bandwidth of the run
            (read_bandwidth_gbs, 32 n×n matrices) and forward_/decode_share_of_read_bandwidth, and the configuration. Progress goes to stderr. Bad input exits with
            status 2 before any work. benchmarks/transformer_bench.sh runs this
            and PyTorch side by side (docs/performance.md).
            """)
        @Option(help: "Preset: tiny, small or qwen3-0.6b (default tiny when --config is not given).")
        var preset: String?
        @Option(help: "A Qwen3 config.json (or a folder holding one) instead of --preset.")
        var config: String?
        @Option(help: "Sequences per training step (default 8; 1 above 100M parameters).") var batch: Int?
        @Option(help: "Tokens per training sequence (default 128; 16 above 100M parameters).") var length: Int?
        @Option(help: "Timed training steps (default 20; 2 above 100M parameters).") var steps: Int?
        @Option(help: "Untimed training steps before them (default 2; 1 above 100M parameters).") var warmupSteps: Int?
        @Option(help: "Tokens of the forward benchmark's single sequence (and the decode prompt).") var forwardLength = 16
        @Option(help: "Timed forwards (after one untimed forward).") var forwardRepeats = 5
        @Option(help: "Greedily decoded tokens of the decode benchmark.") var decodeTokens = 32
        @Option(help: "Phases to run, comma-separated, from forward, decode, train (default all three; forward,decode with --weights bf16).") var phases: String?
        @Option(help: "Threads for OpenBLAS and the few-row products; the default is the number of CPUs this process may use (its affinity mask).") var threads = CPUs.available
        @Option(help: "Size n of the n×n×n sgemm that measures the peak.") var peakSize = 2048
        @Option(help: "Seed of the weights, tokens and targets.") var seed: UInt64 = 0
        @Option(help: "Weight storage: f32, or bf16 (bfloat16 matrices, Float32 compute; inference only, so no train phase).") var weights: WeightStorage = .f32
        @Option(help: "Write the JSON here (atomically) instead of stdout.") var json: String?

        static let presets = ["tiny", "small", "qwen3-0.6b"]

        /// The storage --weights names.
        var storage: WeightStorage { weights }

        /// The configuration and the name recorded in the output.
        func model() throws -> (config: Qwen3Config, name: String) {
            switch (preset, config) {
            case (.some, .some): throw ValidationError("give either --preset or --config, not both")
            case (nil, let path?):
                guard !path.isEmpty else { throw ValidationError("--config needs a path to a config.json") }
                do { return (try Qwen3Config.load(from: URL(fileURLWithPath: path)), path) } catch {
                    throw ValidationError("--config \(path): \(error)")
                }
            case (let name, nil):
                let name = name ?? "tiny"
                guard Self.presets.contains(name), let c = ModelSource.config(ofPreset: name) else {
                    throw ValidationError("--preset '\(name)' is unknown; use \(Self.presets.joined(separator: ", ")) or --config FILE")
                }
                return (c, name)
            }
        }

        /// The measured phases, from --phases.
        func phaseSet() throws -> Set<String> {
            let names = (phases ?? (storage == .bf16 ? "forward,decode" : "forward,decode,train")).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let known: Set<String> = ["forward", "decode", "train"]
            if names.isEmpty { throw ValidationError("--phases is empty; give some of forward, decode, train") }
            for n in names where !known.contains(n) {
                throw ValidationError("--phases: '\(n)' is not a phase; use forward, decode, train (comma-separated)")
            }
            return Set(names)
        }

        /// The settings after defaults, checked against the configuration.
        func settings(for c: Qwen3Config) throws -> LMBenchmarkSettings {
            var s = LMBenchmarkSettings.defaults(for: c)
            s.batch = batch ?? s.batch; s.length = length ?? s.length
            s.steps = steps ?? s.steps; s.warmupSteps = warmupSteps ?? s.warmupSteps
            s.forwardLength = forwardLength; s.forwardRepeats = forwardRepeats; s.decodeTokens = decodeTokens
            s.peakSize = peakSize; s.seed = seed
            let maxPos = c.maxPositionEmbeddings
            if s.length > maxPos {
                throw ValidationError("--length \(s.length) exceeds the model's max_position_embeddings (\(maxPos))")
            }
            if forwardLength + decodeTokens > maxPos {
                throw ValidationError("--forward-length + --decode-tokens = \(forwardLength + decodeTokens) exceed the model's max_position_embeddings (\(maxPos))")
            }
            let ph = try phaseSet()
            s.forward = ph.contains("forward"); s.decode = ph.contains("decode"); s.train = ph.contains("train")
            s.weights = storage
            if s.train && storage != .f32 {
                throw ValidationError("--weights \(weights.rawValue) stores the weights for inference only; drop train from --phases (e.g. --phases forward,decode)")
            }
            let need = LMBenchmarkSettings.trainingStepBytes(c, batch: s.batch, length: s.length)
            let least = LMBenchmarkSettings.trainingStepBytes(c, batch: 1, length: 1)
            if s.train && least > SizeLimits.budget {
                let source = config.map { "--config \($0)" } ?? "--preset \(preset ?? "tiny")"
                throw ValidationError("\(source): one training step of this model needs about \(formatSignificant(least / 1_073_741_824, digits: 3)) GiB even at --batch 1 --length 1, "
                    + "more than half of this machine's memory; drop train from --phases (e.g. --phases forward,decode) or use a smaller model")
            }
            if s.train && need > SizeLimits.budget {
                let gib = { (b: Double) in formatSignificant(b / 1_073_741_824, digits: 3) }
                throw ValidationError("--batch \(s.batch) × --length \(s.length) needs about \(gib(need)) GiB for one training step; "
                    + "at most half of this machine's memory (\(gib(SizeLimits.budget)) GiB) is used: lower --batch or --length")
            }
            return s
        }

        func validate() throws {
            try Bounds.check([("--batch", batch, Bounds.items), ("--length", length, Bounds.tokens), ("--steps", steps, Bounds.steps),
                              ("--warmup-steps", warmupSteps, Bounds.stepsOrZero), ("--forward-length", forwardLength, Bounds.tokens),
                              ("--forward-repeats", forwardRepeats, Bounds.steps), ("--decode-tokens", decodeTokens, Bounds.tokens),
                              ("--peak-size", peakSize, 1...16_384), ("--threads", threads, Bounds.threads)])
            let c = try model().config
            _ = try settings(for: c)
            if let json { try validating { try OutputPaths.checkFile(json, option: "--json") } }
        }

        mutating func run() throws {
            try validate()
            let (c, name) = try model()
            let s = try settings(for: c)
            try ModelSource.setThreads(threads)
            var reporter: ProgressReporter?
            var current = ""
            let result = LMBenchmark.run(config: c, name: name, settings: s) { phase, done, total in
                if phase != current {
                    reporter?.finish()
                    reporter = ProgressReporter(total: total, label: "lm bench: \(phase)")
                    current = phase
                }
                if done > 0 { reporter?.advance() }
            }
            reporter?.finish()
            let data = try encodeJSON(result)
            if let json {
                try writeAtomically(data, to: URL(fileURLWithPath: json))
            } else {
                FileHandle.standardOutput.write(data)
            }
        }
    }
}
