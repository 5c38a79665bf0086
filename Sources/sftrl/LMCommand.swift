import ArgumentParser
import Foundation
import Linalg
import Transformer

/// `sftrl lm`: the Qwen3 transformer on its own: logits of a model folder or a preset, and a
/// training/inference benchmark.
struct LMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "The Qwen3 transformer: tokenize, logits, generate, init, throughput benchmark.",
        subcommands: [Tokenize.self, Logits.self, Generate.self, Init.self, Bench.self])
}

/// A usage error of an `lm` subcommand: exit status 2 with the message and the help hint (thrown from
/// `validate()` it also prints the usage line).
private func usageFailure(_ message: String, command: String) -> ValidationError {
    ValidationError("\(message) (see 'sftrl lm \(command) --help')")
}

/// A malformed --tokens list.
struct TokenListError: Error { let message: String }

/// The model to use: a Hugging Face folder, or a preset with seeded random weights.
struct ModelSource: ParsableArguments {
    @Option(help: "A Hugging Face model folder (config.json + model.safetensors, or sharded with model.safetensors.index.json).")
    var model: String?
    @Option(help: "Random weights of a preset instead of --model: tiny or qwen3-0.6b.")
    var preset: String?
    @Option(help: "Seed of the random weights (with --preset).")
    var seed: UInt64 = 0

    static func config(ofPreset name: String) -> Qwen3Config? {
        switch name {
        case "tiny": return .tiny
        case "qwen3-0.6b", "qwen3_0_6b": return .qwen3_0_6b
        default: return nil
        }
    }

    /// Parses `--weights`: f32 or bf16.
    static func storage(_ s: String, command: String) throws -> WeightStorage {
        guard let w = WeightStorage(rawValue: s) else {
            throw usageFailure("--weights '\(s)' is unknown; use f32 or bf16", command: command)
        }
        return w
    }

    func load(command: String, storage: WeightStorage = .f32) throws -> Qwen3Model {
        switch (model, preset) {
        case (nil, nil): throw usageFailure("give --model DIR or --preset tiny|qwen3-0.6b", command: command)
        case (.some, .some): throw usageFailure("give either --model or --preset, not both", command: command)
        case (let dir?, nil):
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw usageFailure("--model \(dir): no such folder (expected config.json and model.safetensors inside)", command: command)
            }
            do { return try Qwen3Model.load(directory: URL(fileURLWithPath: dir), storage: storage) } catch {
                throw usageFailure("--model \(dir): \(error)", command: command)
            }
        case (nil, let name?):
            guard let c = Self.config(ofPreset: name) else {
                throw usageFailure("--preset '\(name)' is unknown; use tiny or qwen3-0.6b", command: command)
            }
            return Qwen3Model(config: c, seed: seed, storage: storage)
        }
    }
}

extension LMCommand {
    /// `sftrl lm logits`: prints {"logits": [[…V…] × T]} (one sequence) or B × T × V (several).
    struct Logits: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a model's logits for token ids or text as JSON.",
            discussion: """
            --tokens "1 5 9 2" gives {"logits": [[...], ...]}: one row of V logits per position.
            Several sequences of equal length, separated by ';' ("1 5; 9 2"), give B × T × V.
            --text T encodes T with the folder's tokenizer.json and adds "ids" to the output.
            --last keeps only the last position's row (the LM head then runs on that row only);
            --top-k K prints, instead of full rows,
            the K largest logits per row as {"top_k": [[[id, logit], ...], ...]} (so a 0.6B model
            does not print 151,936 numbers per position).
            --weights bf16 keeps the weight matrices in bfloat16 (half the memory; Float32
            arithmetic on the widened values; logits differ from f32 by the rounding of the weights).
            Errors (bad token list, id ≥ vocab_size, missing folder) exit with status 2.
            """)
        @OptionGroup var source: ModelSource
        @Option(help: "Token ids separated by spaces or commas; ';' separates sequences of equal length.")
        var tokens: String?
        @Option(help: "Text, encoded with the folder's tokenizer.json (with --model).") var text: String?
        @Flag(help: "Only the last position of each sequence.") var last = false
        @Option(help: "Print the K largest logits per row (id, logit) instead of every logit.") var topK: Int?
        @Option(help: "Weight storage: f32 or bf16 (inference only; see above).") var weights = "f32"

        /// Parses "1 5 9 2" or "1,5;9,2" into sequences; nil with a reason when malformed.
        static func parse(_ s: String) -> Result<[[Int32]], TokenListError> {
            var seqs: [[Int32]] = []
            for part in s.split(separator: ";", omittingEmptySubsequences: false) {
                let words = part.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\n" })
                if words.isEmpty { return .failure(TokenListError(message: "empty sequence in --tokens \"\(s)\"")) }
                var seq: [Int32] = []
                for w in words {
                    guard let v = Int32(w), v >= 0 else {
                        return .failure(TokenListError(message: "'\(w)' in --tokens is not a token id (a non-negative integer)"))
                    }
                    seq.append(v)
                }
                seqs.append(seq)
            }
            if Set(seqs.map(\.count)).count > 1 {
                return .failure(TokenListError(message: "sequences in --tokens have different lengths \(seqs.map(\.count)); pad them to one length"))
            }
            return .success(seqs)
        }

        mutating func run() throws {
            var seqs: [[Int32]] = []
            if (tokens == nil) == (text == nil) { throw usageFailure("give exactly one of --tokens or --text", command: "logits") }
            if let k = topK, k <= 0 { throw usageFailure("--top-k is \(k); expected a positive integer", command: "logits") }
            let storage = try ModelSource.storage(weights, command: "logits")
            if let tokens {
                switch Self.parse(tokens) {
                case .success(let s): seqs = s
                case .failure(let why): throw usageFailure(why.message, command: "logits")
                }
            }
            var encoded: [Int32]?
            if let text {
                guard let dir = source.model else { throw usageFailure("--text needs --model DIR (a folder with tokenizer.json)", command: "logits") }
                let ids = try loadTokenizer(dir, command: "logits").encode(text)
                if ids.isEmpty { throw usageFailure("--text encodes to no tokens", command: "logits") }
                seqs = [ids]
                encoded = ids
            }
            let model = try source.load(command: "logits", storage: storage)
            let V = model.config.vocabSize
            if let bad = seqs.joined().first(where: { Int($0) >= V }) {
                throw usageFailure("token id \(bad) is not below the vocabulary size \(V)", command: "logits")
            }
            let B = seqs.count, T = seqs[0].count
            if T > model.config.maxPositionEmbeddings {
                throw usageFailure("\(T) tokens per sequence exceed the model's max_position_embeddings "
                    + "(\(model.config.maxPositionEmbeddings)); give at most that many", command: "logits")
            }
            let flat = Array(seqs.joined())
            let logits = last ? model.lastLogits(tokens: flat, batch: B, length: T) : model.forward(tokens: flat, batch: B, length: T)
            let positions = last ? [T - 1] : Array(0..<T)
            let rowsPerSeq = last ? 1 : T
            func row(_ b: Int, _ t: Int) -> String {
                let i = b * rowsPerSeq + (last ? 0 : t)
                let r = logits[(i * V)..<((i + 1) * V)]
                if let k = topK {
                    let top = topLogits(Array(r), k: k)
                    return "[" + top.map { "[\($0.id), \($0.logit)]" }.joined(separator: ", ") + "]"
                }
                return "[" + r.map { "\($0)" }.joined(separator: ", ") + "]"
            }
            func seq(_ b: Int) -> String { "[" + positions.map { row(b, $0) }.joined(separator: ",\n") + "]" }
            var out = "{"
            if let encoded { out += "\"ids\": \(jsonIds(encoded)),\n" }
            out += topK == nil ? "\"logits\": " : "\"top_k\": "
            out += B == 1 ? seq(0) : "[" + (0..<B).map(seq).joined(separator: ",\n") + "]"
            out += "}\n"
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }
}

extension LMCommand {
    /// `sftrl lm init`: writes a preset with seeded random weights as a Hugging Face folder.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a preset with random weights as a Hugging Face model folder.",
            discussion: """
            Writes config.json and model.safetensors into --out (created). The folder loads with
            --model and with transformers' Qwen3ForCausalLM.from_pretrained.
            """)
        @Option(help: "tiny or qwen3-0.6b.") var preset = "tiny"
        @Option(help: "Seed of the random weights.") var seed: UInt64 = 0
        @Option(help: "Output folder.") var out: String
        @Option(help: "Storage dtype: F32, BF16 or F16.") var dtype = "F32"
        @Flag(help: "Write into a non-empty --out folder (its config.json and model.safetensors are replaced).") var overwrite = false

        func validate() throws {
            try OutputPaths.checkFolder(out, option: "--out")
            if !overwrite, let items = try? FileManager.default.contentsOfDirectory(atPath: out), !items.isEmpty {
                throw ValidationError("--out \(out) is not empty; choose another folder or pass --overwrite")
            }
        }

        mutating func run() throws {
            guard let config = ModelSource.config(ofPreset: preset) else {
                throw usageFailure("--preset '\(preset)' is unknown; use tiny or qwen3-0.6b", command: "init")
            }
            guard let dt = SafetensorsDType(rawValue: dtype.uppercased()) else {
                throw usageFailure("--dtype '\(dtype)' is unknown; use F32, BF16 or F16", command: "init")
            }
            let url = URL(fileURLWithPath: out)
            try Qwen3Model(config: config, seed: seed).save(directory: url, dtype: dt)
        }
    }

    /// `sftrl lm bench`: training tokens/s of a preset (forward + cross-entropy + backward + a
    /// plain SGD update), forward tokens/s of qwen3-0.6b with random weights, and both as a share
    /// of OpenBLAS's sgemm rate measured in the same run. Prints JSON.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure training, decoding and inference throughput of the transformer (JSON on stdout).",
            discussion: """
            Train step = forward, mean cross-entropy on random targets, backward, SGD update
            p -= lr·g (no AdamW). Decode = greedy decodeStep with a KV cache, batch × length tokens. FLOPs count the matrix products only (see
            Qwen3Config.forwardMatmulFlops); peak = sgemm GFLOP/s on an n×n product with the
            same thread count. benchmarks/transformer_bench.sh runs this and PyTorch side by side.
            """)
        @Option(help: "Preset of the training benchmark (tiny or qwen3-0.6b).") var preset = "tiny"
        @Option(help: "Sequences per step.") var batch = 16
        @Option(help: "Tokens per sequence.") var length = 64
        @Option(help: "Timed training steps (after 3 warm-up steps).") var steps = 30
        @Option(help: "OpenBLAS threads (default: the CPUs this process may use).") var threads = CPUs.available
        @Option(help: "Sequence length of the qwen3-0.6b forward benchmark (0 skips it).") var largeLength = 16
        @Option(help: "Timed qwen3-0.6b forwards.") var largeSteps = 3
        @Option(help: "Size n of the n×n×n sgemm that measures the peak.") var peakSize = 2048
        @Option(help: "Seed of weights and data.") var seed: UInt64 = 0

        func validate() throws {
            for (name, v) in [("--batch", batch), ("--length", length), ("--steps", steps), ("--threads", threads),
                              ("--large-steps", largeSteps), ("--peak-size", peakSize)] where v <= 0 {
                throw usageFailure("\(name) is \(v); expected a positive integer", command: "bench")
            }
            if largeLength < 0 { throw usageFailure("--large-length is \(largeLength); expected ≥ 0", command: "bench") }
            if ModelSource.config(ofPreset: preset) == nil {
                throw usageFailure("--preset '\(preset)' is unknown; use tiny or qwen3-0.6b", command: "bench")
            }
        }

        static func now() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        }

        /// sgemm GFLOP/s on n×n×n (best of 3 after a warm-up).
        static func sgemmPeak(n: Int) -> Double {
            let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
            var c = [Float](repeating: 0, count: n * n)
            var best = 0.0
            for rep in 0..<4 {
                let t0 = now()
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    sgemm(m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n)
                } } }
                let dt = now() - t0
                if rep > 0 { best = max(best, 2 * Double(n * n * n) / dt / 1e9) }
            }
            return best
        }

        mutating func run() throws {
            BLASThreads.set(threads)
            let peak = Self.sgemmPeak(n: peakSize)
            // Training throughput.
            let config = ModelSource.config(ofPreset: preset)!
            let model = Qwen3Model(config: config, seed: seed)
            var rng = seed &+ 0x9E37_79B9
            func nextToken() -> Int32 {
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                return Int32((rng >> 33) % UInt64(config.vocabSize))
            }
            let n = batch * length
            let tokens = (0..<n).map { _ in nextToken() }, targets = (0..<n).map { _ in nextToken() }
            let lr: Float = 1e-3
            var lastLoss = 0.0
            func step() {
                model.zeroGradients()
                let logits = model.forward(tokens: tokens, batch: batch, length: length)
                let ce = crossEntropy(logits: logits, targets: targets, vocab: config.vocabSize)
                model.backward(dLogits: ce.dLogits)
                for (p, g) in zip(model.parameters, model.gradients) {
                    g.data.withUnsafeBufferPointer { gp in
                        p.data.withUnsafeMutableBufferPointer { pp in
                            for i in 0..<pp.count { pp[i] -= lr * gp[i] }
                        }
                    }
                }
                lastLoss = ce.loss
            }
            for _ in 0..<3 { step() }
            let t0 = Self.now()
            for _ in 0..<steps { step() }
            let trainTime = (Self.now() - t0) / Double(steps)
            let trainFlops = 3 * config.forwardMatmulFlops(batch: batch, length: length)
            var json: [String: Any] = [
                "implementation": "sftrl",
                "threads": threads,
                "sgemm_peak_gflops": peak,
                "sgemm_peak_size": peakSize,
                "train": [
                    "preset": preset, "batch": batch, "length": length, "steps": steps,
                    "update": "sgd", "parameters": config.parameterCount,
                    "step_ms": trainTime * 1e3,
                    "tokens_per_s": Double(n) / trainTime,
                    "matmul_gflops": trainFlops / trainTime / 1e9,
                    "share_of_sgemm_peak": trainFlops / trainTime / 1e9 / peak,
                    "final_loss": lastLoss,
                ] as [String: Any],
            ]
            // Sampling-style decoding: KV cache, one token per sequence per step.
            let cache = model.makeCache(batch: batch, capacity: length)
            var next = (0..<batch).map { tokens[$0 * length] }
            let t2 = Self.now()
            for _ in 0..<length {
                let logits = model.decodeStep(tokens: next, cache: cache)
                next = (0..<batch).map { b in
                    var best = 0
                    for v in 1..<config.vocabSize where logits[b * config.vocabSize + v] > logits[b * config.vocabSize + best] { best = v }
                    return Int32(best)
                }
            }
            let decodeTime = Self.now() - t2
            json["decode"] = ["preset": preset, "batch": batch, "positions": length,
                              "tokens_per_s": Double(batch * length) / decodeTime] as [String: Any]
            // qwen3-0.6b forward (random weights).
            if largeLength > 0 {
                let big = Qwen3Model(config: .qwen3_0_6b, seed: seed)
                let toks = (0..<largeLength).map { Int32($0 * 7919 % Qwen3Config.qwen3_0_6b.vocabSize) }
                _ = big.forward(tokens: toks, batch: 1, length: largeLength)
                let t1 = Self.now()
                for _ in 0..<largeSteps { _ = big.forward(tokens: toks, batch: 1, length: largeLength) }
                let dt = (Self.now() - t1) / Double(largeSteps)
                let flops = Qwen3Config.qwen3_0_6b.forwardMatmulFlops(batch: 1, length: largeLength)
                json["qwen3_0_6b_forward"] = [
                    "batch": 1, "length": largeLength, "steps": largeSteps,
                    "forward_ms": dt * 1e3,
                    "tokens_per_s": Double(largeLength) / dt,
                    "matmul_gflops": flops / dt / 1e9,
                    "share_of_sgemm_peak": flops / dt / 1e9 / peak,
                ] as [String: Any]
            }
            let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }
}
