import Foundation
import Linalg

// BF16 weight storage with Float32 compute, for inference. Real Qwen3 checkpoints are BF16; keeping
// the matrices in BF16 halves the memory and the bytes a decoding step reads. Only the matrices
// (embedding, projections, untied head) are stored in BF16; norm weights stay Float32. The
// products widen BF16 → Float32 exactly in registers and accumulate in Float32 (SkinnyLinear).

/// How a `Qwen3Model` keeps its weight matrices.
public enum WeightStorage: String, Sendable, CaseIterable {
    /// Float32 in `parameters` (training and inference).
    case f32
    /// bfloat16 bits, inference only (`forward`, `lastLogits`, `decodeStep`); `backward`, `save`
    /// and optimisers need `.f32`. In this mode the matrices' `parameters[i].data` are empty.
    case bf16
}

/// The BF16 matrices of a model, by parameter index (nil for 1-D parameters), in buffers that
/// never move. Never written after creation, so copies of a model share them.
final class BF16Matrices: @unchecked Sendable {
    let pointers: [UnsafeMutablePointer<UInt16>?]
    let counts: [Int]

    init(counts: [Int?]) {
        self.counts = counts.map { $0 ?? 0 }
        pointers = counts.map { c in c.map { UnsafeMutablePointer<UInt16>.allocate(capacity: max($0, 1)) } }
    }

    deinit { for p in pointers { p?.deallocate() } }

    /// The number of bytes held.
    var bytes: Int { counts.reduce(0, +) * 2 }
}

extension Qwen3Model {
    /// Where a BF16 model's emptied Float32 matrices point (never read).
    nonisolated(unsafe) static let noWeights = UnsafePointer(UnsafeMutablePointer<Float>.allocate(capacity: 1))

    /// The storage of the weight matrices.
    public var weightStorage: WeightStorage { bf16Store == nil ? .f32 : .bf16 }

    /// A model with deterministic random weights (the same values as `init(config:seed:)`) kept
    /// in `storage`; with `.bf16` each matrix is drawn in chunks and rounded to nearest even, so
    /// the Float32 matrices never exist all at once.
    public convenience init(config: Qwen3Config, seed: UInt64, storage: WeightStorage) {
        if storage == .f32 { self.init(config: config, seed: seed); return }
        precondition((try? config.validate()) != nil, "invalid config: \(config)")
        let layout = Self.parameterLayout(config)
        var rng = SeededGenerator(seed: seed)
        let store = BF16Matrices(counts: layout.map { $0.shape.count == 2 ? $0.shape.reduce(1, *) : nil })
        let chunk = 1 << 16   // even: fillNormal draws pairs, so chunks continue one stream exactly
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
        defer { scratch.deallocate() }
        var tensors: [Tensor] = []
        for (i, (name, shape)) in layout.enumerated() {
            let n = shape.reduce(1, *)
            if shape.count == 1 { tensors.append(Tensor(name: name, shape: shape, data: [Float](repeating: 1, count: n))); continue }
            let dst = store.pointers[i]!
            var done = 0
            while done < n {
                let m = min(chunk, n - done)
                rng.fillNormal(scratch, count: m, std: 0.02)
                for j in 0..<m { dst[done + j] = bf16Bits(scratch[j]) }
                done += m
            }
            tensors.append(Tensor(emptyMatrix: name, shape: shape))
        }
        self.init(config: config, parameters: tensors)
        bf16Store = store
    }

    /// Converts the weight matrices in place to `storage` (BF16: round to nearest even, each
    /// matrix's Float32 copy freed as soon as it is converted; F32: widened exactly). Gradients
    /// are dropped by neither; converting to BF16 makes the model inference-only.
    public func convertWeights(to storage: WeightStorage) {
        switch (storage, bf16Store) {
        case (.bf16, nil):
            let store = BF16Matrices(counts: parameters.map { $0.shape.count == 2 ? $0.count : nil })
            for (i, t) in parameters.enumerated() where t.shape.count == 2 {
                let dst = store.pointers[i]!
                t.data.withUnsafeBufferPointer { src in for j in 0..<src.count { dst[j] = bf16Bits(src[j]) } }
                t.data = []
            }
            bf16Store = store
        case (.f32, let store?):
            for (i, t) in parameters.enumerated() where t.shape.count == 2 {
                let src = store.pointers[i]!
                t.data = [Float](unsafeUninitializedCapacity: t.count) { buf, count in
                    SkinnyLinear.widen(buf.baseAddress!, src, count: t.count)
                    count = t.count
                }
            }
            bf16Store = nil
        default:
            break
        }
    }

    /// Bytes held by the weights (Float32 parameters plus BF16 matrices).
    public var weightBytes: Int {
        parameters.reduce(0) { $0 + $1.data.count * 4 } + (bf16Store?.bytes ?? 0)
    }

    /// out (n, outDim) = x · Wᵀ for parameter `index`, whichever its storage.
    @inline(__always)
    func linear(out: FPtr, x: CFPtr, _ w: [CFPtr], _ index: Int, n: Int, inDim: Int, outDim: Int) {
        if let b = bf16Store?.pointers[index] {
            SkinnyLinear.bf16(out: out, x: x, w: b, n: n, inDim: inDim, outDim: outDim)
        } else {
            linearForward(out: out, x: x, w: w[index], n: n, inDim: inDim, outDim: outDim)
        }
    }

    /// The token embedding (parameter 0), whichever its storage.
    func embed(out: FPtr, tokens: UnsafePointer<Int32>, _ w: [CFPtr], n: Int, c: Int) {
        if let b = bf16Store?.pointers[0] {
            for i in 0..<n { SkinnyLinear.widen(out + i * c, b + Int(tokens[i]) * c, count: c) }
        } else {
            embeddingForward(out: out, tokens: tokens, wte: w[0], n: n, c: c)
        }
    }

    /// Loads a Hugging Face folder (see `load(directory:)`) into `storage`. With `.bf16`, BF16
    /// matrices are copied bit for bit from the file (F32 and F16 ones rounded to nearest even),
    /// never through a Float32 copy of the model.
    public static func load(directory: URL, storage: WeightStorage) throws -> Qwen3Model {
        if storage == .f32 { return try load(directory: directory) }
        let (config, source) = try openWeights(directory: directory)
        let layout = parameterLayout(config)
        let store = BF16Matrices(counts: layout.map { $0.shape.count == 2 ? $0.shape.reduce(1, *) : nil })
        var tensors: [Tensor] = []
        for (i, (name, shape)) in layout.enumerated() {
            let f = try source(name)
            if shape.count == 2 {
                try f.readBF16(name, shape: shape, into: store.pointers[i]!)
                tensors.append(Tensor(emptyMatrix: name, shape: shape))
            } else {
                tensors.append(try f.tensor(name, shape: shape))
            }
        }
        let model = Qwen3Model(config: config, parameters: tensors)
        model.bf16Store = store
        return model
    }
}
