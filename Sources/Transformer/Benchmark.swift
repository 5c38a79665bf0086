import Foundation
import Linalg
#if canImport(Glibc)
import Glibc
#endif

/// What `LMBenchmark.run` measures, with the defaults `sftrl lm bench` states in its help.
public struct LMBenchmarkSettings: Sendable, Equatable {
    /// Training step: `batch` sequences of `length` random tokens, random targets.
    public var batch: Int
    public var length: Int
    /// Timed training steps, after `warmupSteps` untimed ones.
    public var steps: Int
    public var warmupSteps: Int
    /// Forward benchmark: one sequence of `forwardLength` tokens, timed `forwardRepeats` times
    /// after one untimed forward.
    public var forwardLength: Int = 16
    public var forwardRepeats: Int = 5
    /// Decode benchmark: greedy decoding of `decodeTokens` tokens with a KV cache, batch 1, after
    /// the forward's prompt has been fed through the cache (not timed).
    public var decodeTokens: Int = 32
    /// n of the n×n×n sgemm that measures the machine's peak.
    public var peakSize: Int = 2048
    /// Seed of the weights, tokens and targets.
    public var seed: UInt64 = 0
    /// Learning rate of the plain SGD update p ← p − η·g of a training step.
    public var learningRate: Float = 1e-3
    /// Which phases run.
    public var train = true, forward = true, decode = true
    /// Weight storage of the model (`.bf16` is inference only: no train phase).
    public var weights: WeightStorage = .f32

    public init(batch: Int, length: Int, steps: Int, warmupSteps: Int) {
        self.batch = batch; self.length = length; self.steps = steps; self.warmupSteps = warmupSteps
    }

    /// Models above this many parameters get the small defaults (a 0.6B training step takes seconds).
    public static let largeModelParameters = 100_000_000

    /// The defaults for a model: 8 × 128 tokens per step, 20 timed steps after 2 warm-up steps;
    /// above 100M parameters 1 × 16 tokens, 2 timed steps after 1 warm-up step.
    public static func defaults(for config: Qwen3Config) -> LMBenchmarkSettings {
        config.parameterCount > largeModelParameters
            ? LMBenchmarkSettings(batch: 1, length: 16, steps: 2, warmupSteps: 1)
            : LMBenchmarkSettings(batch: 8, length: 128, steps: 20, warmupSteps: 2)
    }

    /// Bytes one training step of `batch` × `length` tokens holds, as `Qwen3Model.forward` and
    /// `backward` allocate them (Float32): weights and gradients (2P), per token and layer the
    /// cached activations (6C + 4·H·D + 4·KV·D + 4I + H·T attention probabilities) and the
    /// backward's scratch, and per token the logits and their gradient (2V). An estimate for
    /// refusing requests that cannot fit, not an accounting.
    public static func trainingStepBytes(_ c: Qwen3Config, batch: Int, length: Int) -> Double {
        let n = Double(batch) * Double(length)
        let hd = Double(c.numAttentionHeads * c.headDim), kvd = Double(c.numKeyValueHeads * c.headDim)
        let C = Double(c.hiddenSize), I = Double(c.intermediateSize)
        let perLayer = 6 * C + 4 * hd + 4 * kvd + 4 * I + Double(c.numAttentionHeads) * Double(length)
        let floats = 2 * Double(c.parameterCount) + n * (Double(c.numHiddenLayers) * perLayer + 2 * Double(c.vocabSize) + 12 * C + 3 * I)
        return 4 * floats
    }
}

/// One row of results; the JSON keys are flat snake_case (one row of a pandas frame). Rates are
/// tokens per second of wall time; "matmul GFLOP/s" counts the matrix products only
/// (`Qwen3Config.forwardMatmulFlops`, ×3 for a training step), and a share is that rate divided by
/// `sgemm_peak_gflops` of the same run. Peak memory is the resident set's high-water mark in MiB:
/// per phase (reset through /proc/self/clear_refs before the phase; `phase_peaks_reset` false
/// where that is not possible, and then each phase's value is the running peak of the process),
/// and for the whole process (getrusage ru_maxrss).
public struct LMBenchmarkResult: Codable, Sendable {
    public var implementation = "sftrl"
    public var model = ""
    /// Weight storage ("f32" or "bf16") and the bytes the weights take, in MiB.
    public var weights = "f32"
    public var weightMib = 0.0
    /// Whether products of few rows ran the AVX2+FMA skinny kernel (`SkinnyLinear.vectorised`).
    public var skinnyKernelVectorised = false
    public var parameters = 0
    public var vocabSize = 0, hiddenSize = 0, intermediateSize = 0, numHiddenLayers = 0
    public var numAttentionHeads = 0, numKeyValueHeads = 0, headDim = 0
    public var threads = 0
    public var seed: UInt64 = 0
    public var sgemmPeakSize = 0
    public var sgemmPeakGflops = 0.0
    public var trainBatch = 0, trainLength = 0, trainSteps = 0, trainWarmupSteps = 0
    public var trainUpdate = "sgd"
    public var trainLearningRate = 0.0
    public var trainStepMs: Double?
    public var trainTokensPerSecond: Double?
    public var trainMatmulGflops: Double?
    public var trainShareOfSgemmPeak: Double?
    public var trainFinalLoss: Double?
    public var trainPeakRssMib: Double?
    public var forwardBatch = 1, forwardLength = 0, forwardRepeats = 0
    public var forwardMs: Double?
    public var forwardTokensPerSecond: Double?
    public var forwardMatmulGflops: Double?
    public var forwardShareOfSgemmPeak: Double?
    public var forwardPeakRssMib: Double?
    public var decodeBatch = 1, decodePromptLength = 0, decodeTokens = 0
    public var decodeMsPerToken: Double?
    public var decodeTokensPerSecond: Double?
    public var decodePeakRssMib: Double?
    public var phasePeaksReset = false
    public var peakRssMib = 0.0
    /// The sgemm that ran (`BLASThreads.kernel`: OpenBLAS's configuration and the core it chose).
    public var blasKernel = ""
    /// The 1-minute load average (/proc/loadavg) when the run started and when it ended (nil where
    /// unreadable): the share of the machine the other processes took.
    public var loadAverageStart: Double?
    public var loadAverageEnd: Double?
    /// Read bandwidth in GB/s (10⁹ bytes) of the same run and thread count: the best of 3 sums
    /// over a buffer of 32 n×n Float matrices of the sgemm peak's n (512 MiB at the default
    /// n = 2048, 128 MiB at 1024: far larger than the caches; `readBandwidth`).
    public var readBandwidthGbs = 0.0
    /// The weight bytes a forward (or a decoding step) reads per second, as a share of
    /// `read_bandwidth_gbs`: the physical limit of a forward whose few rows make it memory-bound
    /// (each weight is read once per forward and per decoding step).
    public var forwardShareOfReadBandwidth: Double?
    public var decodeShareOfReadBandwidth: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case implementation, model, parameters, threads, seed, weights
        case weightMib = "weight_mib", skinnyKernelVectorised = "skinny_kernel_vectorised"
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim"
        case sgemmPeakSize = "sgemm_peak_size", sgemmPeakGflops = "sgemm_peak_gflops"
        case trainBatch = "train_batch", trainLength = "train_length", trainSteps = "train_steps"
        case trainWarmupSteps = "train_warmup_steps", trainUpdate = "train_update"
        case trainLearningRate = "train_learning_rate", trainStepMs = "train_step_ms"
        case trainTokensPerSecond = "train_tokens_per_second", trainMatmulGflops = "train_matmul_gflops"
        case trainShareOfSgemmPeak = "train_share_of_sgemm_peak", trainFinalLoss = "train_final_loss"
        case trainPeakRssMib = "train_peak_rss_mib"
        case forwardBatch = "forward_batch", forwardLength = "forward_length", forwardRepeats = "forward_repeats"
        case forwardMs = "forward_ms", forwardTokensPerSecond = "forward_tokens_per_second"
        case forwardMatmulGflops = "forward_matmul_gflops", forwardShareOfSgemmPeak = "forward_share_of_sgemm_peak"
        case forwardPeakRssMib = "forward_peak_rss_mib"
        case decodeBatch = "decode_batch", decodePromptLength = "decode_prompt_length", decodeTokens = "decode_tokens"
        case decodeMsPerToken = "decode_ms_per_token", decodeTokensPerSecond = "decode_tokens_per_second"
        case decodePeakRssMib = "decode_peak_rss_mib"
        case phasePeaksReset = "phase_peaks_reset", peakRssMib = "peak_rss_mib"
        case blasKernel = "blas_kernel", loadAverageStart = "load_average_start", loadAverageEnd = "load_average_end"
        case readBandwidthGbs = "read_bandwidth_gbs", forwardShareOfReadBandwidth = "forward_share_of_read_bandwidth"
        case decodeShareOfReadBandwidth = "decode_share_of_read_bandwidth"
    }

    /// Every key is always written (a skipped phase's numbers as null), so frames of several runs align.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(implementation, forKey: .implementation); try c.encode(model, forKey: .model)
        try c.encode(parameters, forKey: .parameters); try c.encode(threads, forKey: .threads)
        try c.encode(seed, forKey: .seed)
        try c.encode(weights, forKey: .weights); try c.encode(weightMib, forKey: .weightMib)
        try c.encode(skinnyKernelVectorised, forKey: .skinnyKernelVectorised)
        try c.encode(vocabSize, forKey: .vocabSize); try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize); try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads); try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(sgemmPeakSize, forKey: .sgemmPeakSize); try c.encode(sgemmPeakGflops, forKey: .sgemmPeakGflops)
        try c.encode(trainBatch, forKey: .trainBatch); try c.encode(trainLength, forKey: .trainLength)
        try c.encode(trainSteps, forKey: .trainSteps); try c.encode(trainWarmupSteps, forKey: .trainWarmupSteps)
        try c.encode(trainUpdate, forKey: .trainUpdate); try c.encode(trainLearningRate, forKey: .trainLearningRate)
        try c.encode(trainStepMs, forKey: .trainStepMs); try c.encode(trainTokensPerSecond, forKey: .trainTokensPerSecond)
        try c.encode(trainMatmulGflops, forKey: .trainMatmulGflops)
        try c.encode(trainShareOfSgemmPeak, forKey: .trainShareOfSgemmPeak)
        try c.encode(trainFinalLoss, forKey: .trainFinalLoss); try c.encode(trainPeakRssMib, forKey: .trainPeakRssMib)
        try c.encode(forwardBatch, forKey: .forwardBatch); try c.encode(forwardLength, forKey: .forwardLength)
        try c.encode(forwardRepeats, forKey: .forwardRepeats); try c.encode(forwardMs, forKey: .forwardMs)
        try c.encode(forwardTokensPerSecond, forKey: .forwardTokensPerSecond)
        try c.encode(forwardMatmulGflops, forKey: .forwardMatmulGflops)
        try c.encode(forwardShareOfSgemmPeak, forKey: .forwardShareOfSgemmPeak)
        try c.encode(forwardPeakRssMib, forKey: .forwardPeakRssMib)
        try c.encode(decodeBatch, forKey: .decodeBatch); try c.encode(decodePromptLength, forKey: .decodePromptLength)
        try c.encode(decodeTokens, forKey: .decodeTokens); try c.encode(decodeMsPerToken, forKey: .decodeMsPerToken)
        try c.encode(decodeTokensPerSecond, forKey: .decodeTokensPerSecond)
        try c.encode(decodePeakRssMib, forKey: .decodePeakRssMib)
        try c.encode(phasePeaksReset, forKey: .phasePeaksReset); try c.encode(peakRssMib, forKey: .peakRssMib)
        try c.encode(blasKernel, forKey: .blasKernel)
        try c.encode(loadAverageStart, forKey: .loadAverageStart); try c.encode(loadAverageEnd, forKey: .loadAverageEnd)
        try c.encode(readBandwidthGbs, forKey: .readBandwidthGbs)
        try c.encode(forwardShareOfReadBandwidth, forKey: .forwardShareOfReadBandwidth)
        try c.encode(decodeShareOfReadBandwidth, forKey: .decodeShareOfReadBandwidth)
    }
}

/// The throughput benchmark behind `sftrl lm bench`: the sgemm peak, a 1 × 16 forward, greedy
/// decoding with a KV cache, and training steps (forward, mean cross-entropy on random targets,
/// backward, SGD), in that order, so that the forward and decode peaks do not include the
/// gradients. PyTorch's side is benchmarks/transformer_bench.py.
public enum LMBenchmark {
    /// Reports a phase's progress: (phase, steps done, steps in the phase).
    public typealias Progress = (_ phase: String, _ done: Int, _ total: Int) -> Void

    /// Monotonic seconds.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// sgemm GFLOP/s on an n×n×n product at the current OpenBLAS thread count (best of 3 after a warm-up).
    public static func sgemmPeak(n: Int) -> Double {
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

    /// Read bandwidth in GB/s (10⁹ bytes per second): `threads` threads each sum their slice of a
    /// buffer of `bytes` (far larger than the last-level cache) in 16-lane Float accumulators;
    /// the best of 3 passes after one that touches the pages.
    public static func readBandwidth(bytes: Int, threads: Int) -> Double {
        let lanes = 16, count = bytes / MemoryLayout<Float>.size / lanes * lanes
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)
        let t = max(1, threads), slice = count / lanes / t * lanes
        var best = 0.0, sink: Float = 0
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: t)
        defer { sums.deallocate() }
        let base = Int(bitPattern: buffer), out = Int(bitPattern: sums)   // addresses: Sendable across threads
        for pass in 0..<4 {
            let t0 = now()
            DispatchQueue.concurrentPerform(iterations: t) { i in
                let p = UnsafeRawPointer(bitPattern: base + i * slice * 4)!
                var a = SIMD16<Float>(), b = SIMD16<Float>()
                var k = 0
                while k + 2 * lanes <= slice {
                    a += p.loadUnaligned(fromByteOffset: k * 4, as: SIMD16<Float>.self)
                    b += p.loadUnaligned(fromByteOffset: (k + lanes) * 4, as: SIMD16<Float>.self)
                    k += 2 * lanes
                }
                UnsafeMutablePointer<Float>(bitPattern: out)![i] = (a + b).sum()
            }
            let dt = now() - t0
            for i in 0..<t { sink += sums[i] }
            if pass > 0 { best = max(best, Double(slice * t * 4) / dt / 1e9) }
        }
        return sink.isNaN ? 0 : best
    }

    /// The 1-minute load average of /proc/loadavg (nil where unreadable).
    public static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }

    /// The process's peak resident set in MiB (getrusage; ru_maxrss is in KiB on Linux, bytes on macOS).
    public static func peakRSSMiB() -> Double {
        var u = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_maxrss) / 1024
        #else
        getrusage(RUSAGE_SELF, &u)
        return Double(u.ru_maxrss) / (1024 * 1024)
        #endif
    }

    /// Resets the resident-set high-water mark (VmHWM) of this process; false where not possible.
    static func resetPeakRSS() -> Bool {
        guard let f = fopen("/proc/self/clear_refs", "w") else { return false }
        let ok = fputs("5", f) >= 0
        return fclose(f) == 0 && ok
    }

    /// VmHWM of /proc/self/status in MiB (nil where unreadable).
    static func highWaterMarkMiB() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kb = Double(fields[1]) { return kb / 1024 }
        }
        return nil
    }

    /// Runs the phases of `settings` on a model of `config` with seeded random weights (the model
    /// name is only recorded). OpenBLAS threads are the caller's (`BLASThreads.set`).
    public static func run(config: Qwen3Config, name: String, settings s: LMBenchmarkSettings,
                           progress: Progress = { _, _, _ in }) -> LMBenchmarkResult {
        var r = LMBenchmarkResult()
        r.model = name; r.parameters = config.parameterCount; r.threads = BLASThreads.current; r.seed = s.seed
        r.vocabSize = config.vocabSize; r.hiddenSize = config.hiddenSize; r.intermediateSize = config.intermediateSize
        r.numHiddenLayers = config.numHiddenLayers; r.numAttentionHeads = config.numAttentionHeads
        r.numKeyValueHeads = config.numKeyValueHeads; r.headDim = config.headDim
        r.sgemmPeakSize = s.peakSize
        r.loadAverageStart = loadAverage()
        r.blasKernel = BLASThreads.kernel
        progress("sgemm peak", 0, 1)
        r.sgemmPeakGflops = sgemmPeak(n: s.peakSize)
        progress("sgemm peak", 1, 1)
        let peak = r.sgemmPeakGflops
        if s.forward || s.decode {
            progress("read bandwidth", 0, 1)
            r.readBandwidthGbs = readBandwidth(bytes: 32 * s.peakSize * s.peakSize * 4, threads: r.threads)
            progress("read bandwidth", 1, 1)
        }
        precondition(!(s.train && s.weights != .f32), "the train phase needs Float32 weights")
        let model = Qwen3Model(config: config, seed: s.seed, storage: s.weights)
        r.weights = s.weights.rawValue
        r.weightMib = Double(model.weightBytes) / 1_048_576
        r.skinnyKernelVectorised = SkinnyLinear.vectorised
        var resets = true
        func phaseStart() { resets = resetPeakRSS() && resets }
        func phasePeak() -> Double { resets ? (highWaterMarkMiB() ?? peakRSSMiB()) : peakRSSMiB() }
        let V = config.vocabSize
        let prompt = (0..<s.forwardLength).map { Int32($0 * 7919 % V) }

        r.forwardLength = s.forwardLength; r.forwardRepeats = s.forwardRepeats
        if s.forward {
            phaseStart()
            progress("forward 1×\(s.forwardLength)", 0, s.forwardRepeats + 1)
            _ = model.forward(tokens: prompt, batch: 1, length: s.forwardLength)
            progress("forward 1×\(s.forwardLength)", 1, s.forwardRepeats + 1)
            let t0 = now()
            for i in 0..<s.forwardRepeats {
                _ = model.forward(tokens: prompt, batch: 1, length: s.forwardLength)
                progress("forward 1×\(s.forwardLength)", i + 2, s.forwardRepeats + 1)
            }
            let dt = (now() - t0) / Double(s.forwardRepeats)
            let gflops = config.forwardMatmulFlops(batch: 1, length: s.forwardLength) / dt / 1e9
            r.forwardMs = dt * 1e3
            r.forwardTokensPerSecond = Double(s.forwardLength) / dt
            r.forwardMatmulGflops = gflops
            r.forwardShareOfSgemmPeak = gflops / peak
            if r.readBandwidthGbs > 0 { r.forwardShareOfReadBandwidth = Double(model.weightBytes) / dt / 1e9 / r.readBandwidthGbs }
            r.forwardPeakRssMib = phasePeak()
        }

        r.decodePromptLength = s.forwardLength; r.decodeTokens = s.decodeTokens
        if s.decode {
            phaseStart()
            let label = "decode \(s.decodeTokens) tokens"
            let prefillLabel = "decode: prompt of \(s.forwardLength) tokens into the KV cache (not timed)"
            progress(prefillLabel, 0, 1)
            let cache = model.makeCache(batch: 1, capacity: s.forwardLength + s.decodeTokens)
            var logits = model.prefill(tokens: prompt, length: s.forwardLength, cache: cache)
            progress(prefillLabel, 1, 1)
            progress(label, 0, s.decodeTokens)
            let t0 = now()
            for i in 0..<s.decodeTokens {
                var best = 0
                for v in 1..<V where logits[v] > logits[best] { best = v }
                logits = model.decodeStep(tokens: [Int32(best)], cache: cache)
                progress(label, i + 1, s.decodeTokens)
            }
            let dt = now() - t0
            r.decodeMsPerToken = dt / Double(s.decodeTokens) * 1e3
            r.decodeTokensPerSecond = Double(s.decodeTokens) / dt
            if r.readBandwidthGbs > 0 { r.decodeShareOfReadBandwidth = Double(model.weightBytes) * Double(s.decodeTokens) / dt / 1e9 / r.readBandwidthGbs }
            r.decodePeakRssMib = phasePeak()
        }

        r.trainBatch = s.batch; r.trainLength = s.length; r.trainSteps = s.steps
        r.trainWarmupSteps = s.warmupSteps; r.trainLearningRate = Double(s.learningRate)
        if s.train {
            phaseStart()
            var rng = SeededGenerator.derived(seed: s.seed, index: 1)
            let n = s.batch * s.length
            let tokens = (0..<n).map { _ in Int32(rng.next() % UInt64(V)) }
            let targets = (0..<n).map { _ in Int32(rng.next() % UInt64(V)) }
            let lr = s.learningRate
            var lastLoss = 0.0
            func step() {
                model.zeroGradients()
                let logits = model.forward(tokens: tokens, batch: s.batch, length: s.length)
                let ce = crossEntropy(logits: logits, targets: targets, vocab: V)
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
            let label = "train \(s.batch)×\(s.length)"
            let total = s.warmupSteps + s.steps
            progress(label, 0, total)
            for i in 0..<s.warmupSteps { step(); progress(label, i + 1, total) }
            let t0 = now()
            for i in 0..<s.steps { step(); progress(label, s.warmupSteps + i + 1, total) }
            let dt = (now() - t0) / Double(s.steps)
            let gflops = 3 * config.forwardMatmulFlops(batch: s.batch, length: s.length) / dt / 1e9
            r.trainStepMs = dt * 1e3
            r.trainTokensPerSecond = Double(n) / dt
            r.trainMatmulGflops = gflops
            r.trainShareOfSgemmPeak = gflops / peak
            r.trainFinalLoss = lastLoss
            r.trainPeakRssMib = phasePeak()
        }
        r.phasePeaksReset = resets
        r.peakRssMib = peakRSSMiB()
        r.loadAverageEnd = loadAverage()
        return r
    }
}
