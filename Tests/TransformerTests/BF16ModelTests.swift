import Foundation
import Linalg
import Testing
@testable import Transformer
import TestSupport

/// BF16 weight storage (inference only): the same model as Float32 on the rounded weights, the
/// loaders and initialiser that build it, and the inference entry points in that mode.
@Suite struct BF16ModelTests {
    /// bfloat16's unit roundoff: 8 significant bits, so |bf16(w) − w| ≤ 2⁻⁸·|w|.
    static let u = 0x1p-8

    static func tokens(_ n: Int, vocab: Int, seed: UInt64) -> [Int32] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in Int32(rng.below(vocab)) }
    }

    static func models() throws -> [(String, Qwen3Model)] {
        let tiny = Qwen3Model(config: .tiny, seed: 3)
        randomize(tiny, seed: 4, std: 0.15)
        return [("tiny", tiny), ("fixture", try Qwen3Model.load(directory: fixtureURL("qwen3-tiny")))]
    }

    /// The BF16 model computes the Float32 model of its rounded weights: equal up to Float32
    /// round-off (different kernels sum in different orders), for N = 60 rows (two calls of the
    /// BF16 kernel against sgemm), N = 27 and N = 5 (both skinny).
    @Test func bf16ModelIsTheF32ModelOfTheRoundedWeights() throws {
        for (name, m32) in try Self.models() {
            let mb = m32.copy(); mb.convertWeights(to: .bf16)
            let mr = mb.copy(); mr.convertWeights(to: .f32)
            #expect(mb.weightStorage == .bf16 && mr.weightStorage == .f32)
            for (B, T) in [(2, 30), (3, 9), (1, 5)] {
                let toks = Self.tokens(B * T, vocab: m32.config.vocabSize, seed: 9)
                let lb = mb.forward(tokens: toks, batch: B, length: T)
                let lr = mr.forward(tokens: toks, batch: B, length: T)
                let scale = lr.reduce(0) { max($0, abs($1)) }
                let d = maxAbsDiff(lb[...], lr[...])
                print("\(name) B=\(B) T=\(T): bf16 model vs f32 on rounded weights: max diff \(d) (logits up to \(scale))")
                #expect(d <= 1e-5 * max(1, scale), "\(name)")
            }
        }
    }

    /// Against the unrounded Float32 model. Every weight moves by at most u relative, so each
    /// product moves by at most u·Σ|x_k w_k| at first order; through two layers, the norms and the
    /// head this stays a small multiple of u times the logit scale. The bound 4u·max(1, max|logit|)
    /// is empirical, not proven: measured 2.0 u (fixture) and 2.2 u (tiny, weights of std 0.15),
    /// so a 2× margin. Also: rounding must change something.
    @Test func bf16LogitsAgreeWithF32WithinTheRoundingBound() throws {
        for (name, m32) in try Self.models() {
            let mb = m32.copy(); mb.convertWeights(to: .bf16)
            let B = 2, T = 7
            let toks = Self.tokens(B * T, vocab: m32.config.vocabSize, seed: 11)
            let l32 = m32.forward(tokens: toks, batch: B, length: T)
            let lb = mb.forward(tokens: toks, batch: B, length: T)
            let scale = Double(l32.reduce(0) { max($0, abs($1)) })
            let d = Double(maxAbsDiff(lb[...], l32[...]))
            print("\(name): bf16 vs f32 logits: max diff \(d) = \(d / (Self.u * max(1, scale))) u·scale (logits up to \(scale))")
            #expect(d <= 4 * Self.u * max(1, scale), "\(name)")
            #expect(d > 0, "\(name): BF16 rounding changed no logit")
        }
    }

    /// decodeStep, prefill (one pass) and a prefill in two chunks equal forward's rows, and
    /// lastLogits equals forward's last rows, in both storages.
    @Test(arguments: WeightStorage.allCases) func inferenceEntryPointsAgree(storage: WeightStorage) {
        let model = Qwen3Model(config: .tiny, seed: 3)
        randomize(model, seed: 4, std: 0.15)
        model.convertWeights(to: storage)
        let B = 2, T = 8, V = model.config.vocabSize
        let toks = Self.tokens(B * T, vocab: V, seed: 12)
        let full = model.forward(tokens: toks, batch: B, length: T)
        let scale = max(1, full.reduce(0) { max($0, abs($1)) })
        let last = model.lastLogits(tokens: toks, batch: B, length: T)
        #expect(last.count == B * V)
        let cache = model.makeCache(batch: B, capacity: T)
        var worst: Float = 0
        for t in 0..<T {
            let step = model.decodeStep(tokens: (0..<B).map { toks[$0 * T + t] }, cache: cache)
            for b in 0..<B { worst = max(worst, maxAbsDiff(step[(b * V)..<((b + 1) * V)], full[((b * T + t) * V)..<((b * T + t + 1) * V)])) }
        }
        cache.reset()
        let pre = model.prefill(tokens: toks, length: T, cache: cache)
        for b in 0..<B {
            let row = full[((b * T + T - 1) * V)..<((b * T + T) * V)]
            worst = max(worst, maxAbsDiff(last[(b * V)..<((b + 1) * V)], row))
            worst = max(worst, maxAbsDiff(pre[(b * V)..<((b + 1) * V)], row))
        }
        // A prefill in two chunks (3 then 5 positions): new positions attend to cached ones too.
        cache.reset()
        func chunk(_ r: Range<Int>) -> [Int32] { (0..<B).flatMap { b in r.map { toks[b * T + $0] } } }
        _ = model.decode(tokens: chunk(0..<3), length: 3, cache: cache)
        let two = model.decode(tokens: chunk(3..<T), length: T - 3, cache: cache)
        for b in 0..<B {
            worst = max(worst, maxAbsDiff(two[(b * V)..<((b + 1) * V)], full[((b * T + T - 1) * V)..<((b * T + T) * V)]))
        }
        print("\(storage): decodeStep/prefill/lastLogits vs forward: max diff \(worst) (logits up to \(scale))")
        #expect(worst <= 1e-4 * scale)
        #expect(cache.position == T)
    }

    @Test func seededBF16InitIsTheRoundedF32Init() {
        var config = Qwen3Config.tiny
        config.tieWordEmbeddings = false
        let a = Qwen3Model(config: config, seed: 21, storage: .bf16)
        let b = Qwen3Model(config: config, seed: 21); b.convertWeights(to: .bf16)
        for (i, t) in b.parameters.enumerated() {
            if t.shape.count == 2 {
                #expect(a.bf16Store!.rowMajorBits(i) == b.bf16Store!.rowMajorBits(i), "\(t.name)")
                #expect(t.data.isEmpty && a.parameters[i].data.isEmpty)
            } else {
                #expect(a.parameters[i].data == t.data, "\(t.name)")
            }
        }
        let f32 = Qwen3Model(config: config, seed: 21)
        #expect(a.weightBytes * 2 < f32.weightBytes + 4 * 1024 && a.weightBytes * 2 > f32.weightBytes - 4 * 1024)
    }

    /// Loading into BF16: an F32 file rounds like convertWeights; a BF16 file is copied bit for bit.
    @Test func loadIntoBF16() throws {
        let dir = fixtureURL("qwen3-tiny")
        let viaF32 = try Qwen3Model.load(directory: dir); viaF32.convertWeights(to: .bf16)
        let direct = try Qwen3Model.load(directory: dir, storage: .bf16)
        for (i, t) in viaF32.parameters.enumerated() where t.shape.count == 2 {
            #expect(viaF32.bf16Store!.rowMajorBits(i) == direct.bf16Store!.rowMajorBits(i), "\(t.name)")
        }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("sftrl-bf16-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        try FileManager.default.copyItem(at: dir.appendingPathComponent("config.json"), to: tmp.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: dir.appendingPathComponent("model-bf16.safetensors"), to: tmp.appendingPathComponent("model.safetensors"))
        let file = try SafetensorsFile(url: tmp.appendingPathComponent("model.safetensors"))
        let fromBF16 = try Qwen3Model.load(directory: tmp, storage: .bf16)
        for (i, t) in fromBF16.parameters.enumerated() where t.shape.count == 2 {
            #expect(file.entries[t.name]?.dtype == .bf16)
            let widened = try file.floats(t.name)     // exact widening of the stored bits
            let q = fromBF16.bf16Store!.rowMajorBits(i)
            #expect(q.count == t.count && (0..<t.count).allSatisfy { UInt32(q[$0]) << 16 == widened[$0].bitPattern }, "\(t.name)")
        }
    }
}
