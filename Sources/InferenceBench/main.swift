// sftrl-inference-bench: the inference side of benchmarks/inference_bench.sh (one storage per
// process, so that the peak resident memory is that storage's). Random weights (seed 0) of
// qwen3-0.6b (or --preset tiny), tokens i·7919 mod V. Prints one JSON object:
//   forward: 1 × --length tokens, full logits (as transformers' model(input_ids) computes them),
//            median of --repeats timed forwards after one warm-up;
//   decode:  greedy decoding with the KV cache: prefill of the same prompt (one pass, timed
//            apart), then --decode steps each feeding the argmax; the steps are timed;
//   sgemm_peak_gflops: OpenBLAS sgemm n×n×n (best of 3 after a warm-up), for the share of peak;
//   max_rss_mb: getrusage's ru_maxrss after everything (weights + activations + caches).
// Usage: sftrl-inference-bench [--weights f32|bf16] [--preset qwen3-0.6b|tiny] [--length 16]
//        [--decode 32] [--repeats 5] [--peak-size 1024]   (threads: OPENBLAS_NUM_THREADS; the
//        skinny kernel is single-threaded)
import Foundation
import Linalg
import Transformer

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

var opts: [String: String] = ["--weights": "f32", "--preset": "qwen3-0.6b", "--length": "16", "--decode": "32",
                              "--repeats": "5", "--peak-size": "1024"]
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let k = args.removeFirst()
    guard opts[k] != nil, !args.isEmpty else {
        FileHandle.standardError.write(Data("unknown option or missing value: \(k); options: \(opts.keys.sorted())\n".utf8))
        exit(2)
    }
    opts[k] = args.removeFirst()
}
guard let storage = WeightStorage(rawValue: opts["--weights"]!),
      let length = Int(opts["--length"]!), let decode = Int(opts["--decode"]!),
      let repeats = Int(opts["--repeats"]!), let peakSize = Int(opts["--peak-size"]!),
      length > 0, decode > 0, repeats > 0, peakSize > 0 else {
    FileHandle.standardError.write(Data("bad option value in \(opts)\n".utf8)); exit(2)
}
let config: Qwen3Config
switch opts["--preset"]! {
case "qwen3-0.6b": config = .qwen3_0_6b
case "tiny": config = .tiny
default: FileHandle.standardError.write(Data("--preset: qwen3-0.6b or tiny\n".utf8)); exit(2)
}

// sgemm peak (measured first, before the model occupies memory).
var peak = 0.0
do {
    let n = peakSize
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    for rep in 0..<4 {
        let t0 = now()
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            sgemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
        } } }
        if rep > 0 { peak = max(peak, 2 * Double(n * n * n) / (now() - t0) / 1e9) }
    }
}

FileHandle.standardError.write(Data("initialising \(opts["--preset"]!) (\(storage.rawValue))…\n".utf8))
let t0 = now()
let model = Qwen3Model(config: config, seed: 0, storage: storage)
let initS = now() - t0
let V = config.vocabSize
let toks = (0..<length).map { Int32($0 * 7919 % V) }

FileHandle.standardError.write(Data("forward 1 × \(length), \(repeats) times…\n".utf8))
_ = model.forward(tokens: toks, batch: 1, length: length)
var times: [Double] = []
for _ in 0..<repeats {
    let s = now()
    _ = model.forward(tokens: toks, batch: 1, length: length)
    times.append(now() - s)
}
times.sort()
let fwd = times[times.count / 2]
let flops = config.forwardMatmulFlops(batch: 1, length: length)

func argmax(_ l: [Float]) -> Int32 {
    var best = 0
    for v in 1..<l.count where l[v] > l[best] { best = v }
    return Int32(best)
}

FileHandle.standardError.write(Data("greedy decode of \(decode) tokens…\n".utf8))
let cache = model.makeCache(batch: 1, capacity: length + decode + 1)
let p0 = now()
var logits = model.prefill(tokens: toks, length: length, cache: cache)
let prefillS = now() - p0
var generated: [Int32] = []
let d0 = now()
for _ in 0..<decode {
    let next = argmax(logits)
    generated.append(next)
    logits = model.decodeStep(tokens: [next], cache: cache)
}
let decodeS = now() - d0

var ru = rusage()
getrusage(RUSAGE_SELF.rawValue, &ru)
let out: [String: Any] = [
    "implementation": "sftrl", "weights": storage.rawValue, "preset": opts["--preset"]!,
    "vectorised_kernel": SkinnyLinear.vectorised, "skinny_max_rows": SkinnyLinear.maxRows,
    "sgemm_peak_gflops": peak, "init_s": initS, "weight_bytes": model.weightBytes,
    "forward": ["length": length, "repeats": repeats, "median_ms": fwd * 1e3, "tokens_per_s": Double(length) / fwd,
                "matmul_gflops": flops / fwd / 1e9, "share_of_sgemm_peak": flops / fwd / 1e9 / peak] as [String: Any],
    "decode": ["prompt": length, "tokens": decode, "prefill_s": prefillS, "seconds": decodeS,
               "tokens_per_s": Double(decode) / decodeS, "first_ids": Array(generated.prefix(8))] as [String: Any],
    "max_rss_mb": Double(ru.ru_maxrss) / 1024,
]
let data = try! JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
FileHandle.standardOutput.write(data + Data("\n".utf8))
