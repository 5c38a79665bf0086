import CKernels
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

/// The BF16 matrices of a model, by parameter index (nil for 1-D parameters), as BF16 panels
/// (`ck_bf16_pack_span`: blocks of 4 rows interleaved per 16 inputs, so that a one-row product
/// reads each matrix as one stream), in 64-byte aligned buffers that never move. Never written
/// after creation, so copies of a model share them.
final class BF16Matrices: @unchecked Sendable {
    let pointers: [UnsafeMutablePointer<UInt16>?]
    /// (rows, inputs) of each matrix: its parameter shape [out, in].
    let shapes: [(rows: Int, inputs: Int)?]

    init(shapes: [[Int]]) {
        self.shapes = shapes.map { $0.count == 2 ? ($0[0], $0[1]) : nil }
        pointers = self.shapes.map { s in
            s.map { s in
                let n = max(ck_bf16_packed_count(s.inputs, s.rows), 1)
                let p = UnsafeMutableRawPointer.allocate(byteCount: 2 * n, alignment: 64).bindMemory(to: UInt16.self, capacity: n)
                p.initialize(repeating: 0, count: n)
                return p
            }
        }
    }

    deinit { for p in pointers { p.map { UnsafeMutableRawPointer($0).deallocate() } } }

    /// The number of bytes held (padding included).
    var bytes: Int { shapes.reduce(0) { $0 + ($1.map { 2 * ck_bf16_packed_count($0.inputs, $0.rows) } ?? 0) } }

    /// Stores `count` row-major BF16 values of matrix `index` starting at flat index `start`.
    func store(_ index: Int, _ src: UnsafeRawPointer, start: Int, count: Int) {
        ck_bf16_pack_span(pointers[index]!, src, start, count, shapes[index]!.inputs)
    }

    /// Rows j0 ..< j0 + rows of matrix `index`, widened exactly to Float32, row-major into dst.
    func widenRows(_ index: Int, into dst: UnsafeMutablePointer<Float>, from j0: Int, rows: Int) {
        ck_bf16_packed_rows(dst, pointers[index]!, shapes[index]!.inputs, j0, rows)
    }

    /// Matrix `index` as row-major bfloat16 bits.
    func rowMajorBits(_ index: Int) -> [UInt16] {
        let (rows, inputs) = shapes[index]!
        var f = [Float](repeating: 0, count: rows * inputs)
        f.withUnsafeMutableBufferPointer { widenRows(index, into: $0.baseAddress!, from: 0, rows: rows) }
        return f.map { UInt16($0.bitPattern >> 16) }
    }
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
        let store = BF16Matrices(shapes: layout.map(\.shape))
        let chunk = 1 << 20   // even: fillNormal draws pairs, so chunks continue one stream exactly
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
        let bits = UnsafeMutablePointer<UInt16>.allocate(capacity: chunk)
        defer { scratch.deallocate(); bits.deallocate() }
        var tensors: [Tensor] = []
        for (i, (name, shape)) in layout.enumerated() {
            let n = shape.reduce(1, *)
            if shape.count == 1 { tensors.append(Tensor(name: name, shape: shape, data: [Float](repeating: 1, count: n))); continue }
            var done = 0
            while done < n {
                let m = min(chunk, n - done)
                rng.fillNormal(scratch, count: m, std: 0.02, threads: CPUs.available)
                for j in 0..<m { bits[j] = bf16Bits(scratch[j]) }
                store.store(i, bits, start: done, count: m)
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
            let store = BF16Matrices(shapes: parameters.map(\.shape))
            let chunk = 1 << 16
            let bits = UnsafeMutablePointer<UInt16>.allocate(capacity: chunk)
            defer { bits.deallocate() }
            for (i, t) in parameters.enumerated() where t.shape.count == 2 {
                t.data.withUnsafeBufferPointer { src in
                    for start in stride(from: 0, to: src.count, by: chunk) {
                        let m = min(chunk, src.count - start)
                        for j in 0..<m { bits[j] = bf16Bits(src[start + j]) }
                        store.store(i, bits, start: start, count: m)
                    }
                }
                t.data = []
            }
            bf16Store = store
        case (.f32, let store?):
            for (i, t) in parameters.enumerated() where t.shape.count == 2 {
                t.data = [Float](unsafeUninitializedCapacity: t.count) { buf, count in
                    store.widenRows(i, into: buf.baseAddress!, from: 0, rows: t.shape[0])
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
        if let store = bf16Store {
            for i in 0..<n { store.widenRows(0, into: out + i * c, from: Int(tokens[i]), rows: 1) }
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
        let store = BF16Matrices(shapes: layout.map(\.shape))
        var tensors: [Tensor] = []
        for (i, (name, shape)) in layout.enumerated() {
            let f = try source(name)
            if shape.count == 2 {
                try f.readBF16(name, shape: shape) { start, bits, count in store.store(i, bits, start: start, count: count) }
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
