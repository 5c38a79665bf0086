import Foundation
import Linalg

/// A Hugging Face Qwen3 folder used on text: the model, its tokenizer.json and its stop tokens.
///
/// The stop (eos) ids are the union of `eos_token_id` in config.json and in
/// generation_config.json (each an integer or a list), as transformers' `generate` stops at
/// either. Generation never draws ids from `tokenizer.size` on (Qwen3 pads its vocabulary).
public final class TextModel {
    public let directory: URL
    public let model: Qwen3Model
    public let tokenizer: BPETokenizer
    public let eosTokenIds: [Int32]

    /// Loads the folder; `storage` picks the weight matrices' storage (`.bf16`: inference only).
    public init(directory: URL, storage: WeightStorage = .f32) throws {
        self.directory = directory
        model = try Qwen3Model.load(directory: directory, storage: storage)
        tokenizer = try BPETokenizer(url: directory.appendingPathComponent("tokenizer.json"))
        eosTokenIds = try Self.eosTokenIds(directory: directory)
        if tokenizer.size > model.config.vocabSize {
            throw TokenizerError.invalid(directory.appendingPathComponent("tokenizer.json").path,
                                         "the tokenizer has \(tokenizer.size) ids but config.json's vocab_size is \(model.config.vocabSize)")
        }
    }

    /// A model and tokenizer already in memory (stop ids given).
    public init(directory: URL, model: Qwen3Model, tokenizer: BPETokenizer, eosTokenIds: [Int32]) {
        self.directory = directory; self.model = model; self.tokenizer = tokenizer; self.eosTokenIds = eosTokenIds
    }

    /// The sorted union of `eos_token_id` (integer or list) in config.json and
    /// generation_config.json of `directory`; files or keys that are absent contribute nothing.
    public static func eosTokenIds(directory: URL) throws -> [Int32] {
        var ids = Set<Int32>()
        for name in ["config.json", "generation_config.json"] {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] else {
                throw ConfigError.unreadable(url.path, "not a JSON object")
            }
            switch obj["eos_token_id"] {
            case let n as NSNumber: ids.insert(n.int32Value)
            case let list as [NSNumber]: for n in list { ids.insert(n.int32Value) }
            case nil, is NSNull: break
            default: throw ConfigError.invalid("\(name): eos_token_id must be an integer or a list of integers")
            }
        }
        return ids.sorted()
    }

    /// config.json's `eos_token_id` (the first when a list), else the smallest stop id; what an
    /// SFT completion ends with.
    public static func primaryEosTokenId(directory: URL) -> Int32? {
        let url = directory.appendingPathComponent("config.json")
        if let obj = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] {
            if let n = obj["eos_token_id"] as? NSNumber { return n.int32Value }
            if let l = obj["eos_token_id"] as? [NSNumber], let f = l.first { return f.int32Value }
        }
        return (try? eosTokenIds(directory: directory))?.first
    }

    /// Writes `model` as a self-describing Hugging Face folder: config.json (with the source's
    /// bos/eos/pad ids and `dtype`/`torch_dtype` "float32", the stored type), model.safetensors
    /// (F32), and the source folder's tokenizer.json, tokenizer_config.json and
    /// generation_config.json when present. transformers' `from_pretrained` loads it.
    public static func saveCheckpoint(_ model: Qwen3Model, to directory: URL, source: URL) throws {
        try model.save(directory: directory, dtype: .f32)
        let fm = FileManager.default
        for name in ["tokenizer.json", "tokenizer_config.json", "generation_config.json", "special_tokens_map.json", "vocab.json", "merges.txt"] {
            let src = source.appendingPathComponent(name), dst = directory.appendingPathComponent(name)
            if fm.fileExists(atPath: src.path) {
                if fm.fileExists(atPath: dst.path) { try fm.removeItem(at: dst) }
                try fm.copyItem(at: src, to: dst)
            }
        }
        let cfgURL = directory.appendingPathComponent("config.json")
        var cfg = (try JSONSerialization.jsonObject(with: Data(contentsOf: cfgURL))) as? [String: Any] ?? [:]
        if let srcCfg = (try? JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json")))) as? [String: Any] {
            for key in ["bos_token_id", "eos_token_id", "pad_token_id"] where srcCfg[key] != nil { cfg[key] = srcCfg[key] }
        }
        cfg["dtype"] = "float32"
        cfg["torch_dtype"] = "float32"
        try JSONSerialization.data(withJSONObject: cfg, options: [.prettyPrinted, .sortedKeys]).write(to: cfgURL, options: .atomic)
    }

    /// Qwen3's chat layout for one user turn and the start of the assistant's turn with an
    /// empty think block (what Qwen3's chat template renders with `add_generation_prompt` and
    /// thinking disabled). A fixed layout, not a template engine:
    ///
    ///     <|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n
    public static func chatPrompt(user prompt: String) -> String {
        "<|im_start|>user\n\(prompt)<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    }

    /// Completion ids and text for one prompt. `temperature == 0` is greedy; stops after an eos
    /// id (kept in `ids`, left out of `text` when it is a special token) or `maxNewTokens`.
    public func generate(prompt: String, sampling: SamplingConfig, seed: UInt64) -> (ids: [Int32], text: String) {
        let ids = tokenizer.encode(prompt)
        precondition(!ids.isEmpty, "the prompt is empty")
        var rng = SeededGenerator(seed: seed)
        let out = Transformer.generate(model: model, prompts: [ids], samplesPerPrompt: 1, sampling: sampling,
                                       stopTokens: Set(eosTokenIds), vocabLimit: tokenizer.size, rng: &rng)[0][0]
        let text = (try? tokenizer.decode(out, skipSpecialTokens: true)) ?? ""
        return (out, text)
    }
}
