import Foundation
import StrictJSON

/// The Qwen3 decoder's hyper-parameters, read from and written to a Hugging Face `config.json`
/// (snake_case keys; unknown keys are ignored).
///
/// Shapes used in comments across this module:
/// B batch, T sequence length, C `hiddenSize`, H `numAttentionHeads`, KV `numKeyValueHeads`,
/// D `headDim`, I `intermediateSize`, V `vocabSize`, L `numHiddenLayers`. Note H·D need not equal C
/// (Qwen3-0.6B: 16·128 = 2048 ≠ 1024), and H must be a multiple of KV (grouped-query attention:
/// query head h reads key/value head h / (H/KV)).
public struct Qwen3Config: Codable, Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var ropeTheta: Double
    public var rmsNormEps: Double
    public var tieWordEmbeddings: Bool
    public var maxPositionEmbeddings: Int

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
                numAttentionHeads: Int, numKeyValueHeads: Int, headDim: Int,
                ropeTheta: Double = 1_000_000, rmsNormEps: Double = 1e-6,
                tieWordEmbeddings: Bool = true, maxPositionEmbeddings: Int = 40_960) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.headDim = headDim
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.tieWordEmbeddings = tieWordEmbeddings
        self.maxPositionEmbeddings = maxPositionEmbeddings
    }

    /// A CPU-scale model with Qwen3's shape: V 128, C 64, I 192, L 2, H 4 / KV 2 (GQA),
    /// D 32 (H·D = 128 ≠ C), RoPE θ 1e6, eps 1e-6, tied embeddings, 1,024 positions.
    /// 131,520 parameters (8,192 in the embedding, 61,632 per layer).
    public static let tiny = Qwen3Config(
        vocabSize: 128, hiddenSize: 64, intermediateSize: 192, numHiddenLayers: 2,
        numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32,
        ropeTheta: 1_000_000, rmsNormEps: 1e-6, tieWordEmbeddings: true, maxPositionEmbeddings: 1024)

    /// The benchmarks' mid-size model (`sftrl lm bench --preset small`), Qwen3's shape scaled
    /// down: V 1,024, C 256, I 768 (3·C, as Qwen3-0.6B and 1.7B), L 4, H 4 / KV 2 (GQA), D 64
    /// (H·D = C, as Qwen3-1.7B and 8B), RoPE θ 1e6, eps 1e-6, tied embeddings, 1,024 positions.
    /// 3,410,688 parameters (262,144 in the embedding, 787,072 per layer).
    public static let small = Qwen3Config(
        vocabSize: 1024, hiddenSize: 256, intermediateSize: 768, numHiddenLayers: 4,
        numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 64,
        ropeTheta: 1_000_000, rmsNormEps: 1e-6, tieWordEmbeddings: true, maxPositionEmbeddings: 1024)

    /// Qwen3-0.6B exactly (its Hugging Face config.json): 596,049,920 parameters.
    public static let qwen3_0_6b = Qwen3Config(
        vocabSize: 151_936, hiddenSize: 1024, intermediateSize: 3072, numHiddenLayers: 28,
        numAttentionHeads: 16, numKeyValueHeads: 8, headDim: 128,
        ropeTheta: 1_000_000, rmsNormEps: 1e-6, tieWordEmbeddings: true, maxPositionEmbeddings: 40_960)

    /// Parameters of one decoder layer: two RMSNorms (2C), q/k/v/o projections
    /// (C·H·D + 2·C·KV·D + H·D·C), the QK-norms (2D) and the SwiGLU MLP (3·C·I).
    public var parametersPerLayer: Int {
        let c = hiddenSize, d = headDim
        return 2 * c + c * numAttentionHeads * d * 2 + 2 * c * numKeyValueHeads * d + 2 * d
            + 3 * c * intermediateSize
    }

    /// Total parameters: embedding V·C, L layers, the final norm C, and V·C more when the
    /// LM head is not tied to the embedding.
    public var parameterCount: Int {
        vocabSize * hiddenSize + numHiddenLayers * parametersPerLayer + hiddenSize
            + (tieWordEmbeddings ? 0 : vocabSize * hiddenSize)
    }

    /// The largest vocabulary accepted (token ids are Int32 everywhere; 2^24 = 16,777,216).
    public static let maxVocabSize = 1 << 24
    /// The largest parameter count accepted, 2^40 (about 1.1 trillion).
    public static let maxParameters = 1 << 40

    /// Checks the invariants the model relies on; throws a message naming the key to change.
    public func validate() throws {
        func fail(_ s: String) -> ConfigError { .invalid(s) }
        for (name, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize),
                          ("intermediate_size", intermediateSize), ("num_hidden_layers", numHiddenLayers),
                          ("num_attention_heads", numAttentionHeads), ("num_key_value_heads", numKeyValueHeads),
                          ("head_dim", headDim), ("max_position_embeddings", maxPositionEmbeddings)] where v <= 0 {
            throw fail("\(name) is \(v), expected a positive integer")
        }
        // Upper limits far above any released Qwen3 (235B: C 4096, L 94, V 151,936), so that every
        // derived size (parameter count, KV cache L·T·KV·D, activations B·T·V) fits in an Int.
        for (name, v, limit) in [("vocab_size", vocabSize, Self.maxVocabSize), ("hidden_size", hiddenSize, 1 << 16),
                                 ("intermediate_size", intermediateSize, 1 << 20), ("num_hidden_layers", numHiddenLayers, 1 << 10),
                                 ("num_attention_heads", numAttentionHeads, 1 << 10), ("num_key_value_heads", numKeyValueHeads, 1 << 10),
                                 ("head_dim", headDim, 1 << 12), ("max_position_embeddings", maxPositionEmbeddings, 1 << 24)] where v > limit {
            throw fail("\(name) is \(v), above the limit of \(limit)")
        }
        if parameterCount > Self.maxParameters {
            throw fail("the configuration has \(parameterCount) parameters, above the limit of \(Self.maxParameters) (2^40); check hidden_size, intermediate_size, num_hidden_layers and vocab_size")
        }
        if numAttentionHeads % numKeyValueHeads != 0 {
            throw fail("num_attention_heads \(numAttentionHeads) is not a multiple of num_key_value_heads \(numKeyValueHeads)")
        }
        if headDim % 2 != 0 { throw fail("head_dim \(headDim) must be even (rotate-half RoPE)") }
        if !(ropeTheta > 0) { throw fail("rope_theta \(ropeTheta) must be positive") }
        if !(rmsNormEps >= 0) { throw fail("rms_norm_eps \(rmsNormEps) must be non-negative") }
    }

    /// Reads a Hugging Face `config.json` (a file, or a folder holding one).
    public static func load(from url: URL) throws -> Qwen3Config {
        var file = url
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            file = url.appendingPathComponent("config.json")
        }
        guard FileManager.default.fileExists(atPath: file.path) else { throw ConfigError.missingFile(file.path) }
        let data: Data
        do { data = try Data(contentsOf: file) } catch { throw ConfigError.unreadable(file.path, PlainError.unreadableFile(file.path)) }
        let config: Qwen3Config
        do {
            // Strict syntax first (line and column, duplicate keys, NaN and overflow named with their
            // key); a Hugging Face config has many keys sftrl does not use, so unknown keys stay allowed.
            let value = try JSONParser.parse(data)
            guard case .object = value else {
                throw ConfigError.unreadable(file.path, "expected a JSON object of hyper-parameters, found \(value.kindName)")
            }
            // Whole-number fields as JSON words (JSONDecoder says "not valid JSON" for 1.5 or 1e30).
            for key in ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                        "num_key_value_heads", "head_dim", "max_position_embeddings"] {
                if case let .number(x)? = value[key], !(x == x.rounded() && abs(x) <= 9_007_199_254_740_992) {
                    throw ConfigError.unreadable(file.path, "field '\(key)' is \(x); it must be a whole number")
                }
            }
            config = try JSONDecoder().decode(Qwen3Config.self, from: data)
        } catch let e as ConfigError {
            throw e
        } catch let e as StrictJSONError {
            throw ConfigError.unreadable(file.path, e.description)
        } catch let e as DecodingError {
            throw ConfigError.unreadable(file.path, PlainError.decoding(e))
        } catch {
            throw ConfigError.unreadable(file.path, "\(error)")
        }
        try config.validate()
        return config
    }

    /// The JSON text of a Hugging Face `config.json` for this configuration (sorted keys).
    public func jsonData() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(self)
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", ropeTheta = "rope_theta"
        case rmsNormEps = "rms_norm_eps", tieWordEmbeddings = "tie_word_embeddings"
        case maxPositionEmbeddings = "max_position_embeddings"
        // Read only to check them / written only so that transformers can load the folder.
        case ropeScaling = "rope_scaling", ropeParameters = "rope_parameters"
        case architectures, modelType = "model_type", hiddenAct = "hidden_act", torchDtype = "torch_dtype"
        case attentionBias = "attention_bias", useSlidingWindow = "use_sliding_window"
    }

    private struct RopeParameters: Codable { var rope_theta: Double?; var rope_type: String?; var type: String? }

    /// `rope_parameters` / `rope_scaling`: absent or null, or an object whose `rope_theta` is a
    /// number and whose `rope_type` / `type` are strings; anything else throws naming the field.
    private static func ropeParameters(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys, _ name: String) throws -> RopeParameters? {
        do {
            return try c.decodeIfPresent(RopeParameters.self, forKey: key)
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            let inner = context.codingPath.last.map { $0.stringValue }
            let field = inner.map { $0 == key.stringValue ? name : "\(name).\($0)" } ?? name
            let expected = field == name ? "an object (e.g. {\"rope_type\": \"default\", \"rope_theta\": 1000000})" : (type == Double.self ? "a number" : "a string")
            throw ConfigError.invalid("\(field) is malformed: expected \(expected)")
        } catch {
            throw ConfigError.invalid("\(name) is malformed: \(error)")
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? hiddenSize / max(numAttentionHeads, 1)
        // transformers ≥ 4.5x may move rope_theta into rope_parameters. A malformed one (not an
        // object, a string θ, a numeric type) is refused naming the field, never ignored whole.
        let params = try Self.ropeParameters(c, .ropeParameters, "rope_parameters")
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? params?.rope_theta ?? 10_000
        for p in [params, try Self.ropeParameters(c, .ropeScaling, "rope_scaling")] {
            if let kind = p?.rope_type ?? p?.type, kind != "default" {
                throw ConfigError.invalid("rope scaling type \"\(kind)\" is not supported (only the default RoPE)")
            }
        }
        if let bias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias), bias {
            throw ConfigError.invalid("attention_bias is true; Qwen3 (and this model) has no biases")
        }
        if let sliding = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow), sliding {
            throw ConfigError.invalid("use_sliding_window is true; only full causal attention is supported")
        }
        if let act = try c.decodeIfPresent(String.self, forKey: .hiddenAct), act != "silu" {
            throw ConfigError.invalid("hidden_act \"\(act)\" is not supported (only silu)")
        }
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 32_768
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(["Qwen3ForCausalLM"], forKey: .architectures)
        try c.encode("qwen3", forKey: .modelType)
        try c.encode("silu", forKey: .hiddenAct)
        try c.encode("float32", forKey: .torchDtype)
        try c.encode(false, forKey: .attentionBias)
    }
}

/// A `config.json` that cannot be used.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case unreadable(String, String)
    case invalid(String)

    public var description: String {
        switch self {
        case .missingFile(let p): return "config file not found: \(p)"
        case .unreadable(let p, let why): return "cannot read config \(p): \(why)"
        case .invalid(let why): return "invalid Qwen3 config: \(why)"
        }
    }
}

extension Qwen3Config {
    /// Floating-point operations of the matrix products of one forward over B sequences of T
    /// tokens, as this implementation computes them (attention scores over the full T×T square):
    /// per layer 2·N·(C·H·D + 2·C·KV·D + H·D·C + 3·C·I) + 4·B·H·T²·D, plus the head 2·N·C·V
    /// (N = B·T). A training step (forward + backward) is 3× this: each product has two
    /// products of the same size in the backward.
    public func forwardMatmulFlops(batch: Int, length: Int) -> Double {
        let n = Double(batch * length), c = Double(hiddenSize), d = Double(headDim)
        let hd = Double(numAttentionHeads) * d, kvd = Double(numKeyValueHeads) * d
        let proj = 2 * n * (c * hd + 2 * c * kvd + hd * c + 3 * c * Double(intermediateSize))
        let attn = 4 * Double(batch * numAttentionHeads) * Double(length * length) * d
        return Double(numHiddenLayers) * (proj + attn) + 2 * n * c * Double(vocabSize)
    }
}
