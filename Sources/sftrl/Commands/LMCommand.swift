import ArgumentParser
import Foundation
import Reports
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
/// The model to use: a Hugging Face folder, or a preset with seeded random weights.
struct ModelSource: ParsableArguments {
    @Option(help: "A Hugging Face model folder (config.json + model.safetensors, or sharded with model.safetensors.index.json).")
    var model: String?
    @Option(help: "Random weights of a preset instead of --model: tiny, small or qwen3-0.6b.")
    var preset: String?
    @Option(help: "Seed of the random weights (with --preset).")
    var seed: UInt64 = 0

    static func config(ofPreset name: String) -> Qwen3Config? {
        switch name {
        case "tiny": return .tiny
        case "small": return .small
        case "qwen3-0.6b", "qwen3_0_6b": return .qwen3_0_6b
        default: return nil
        }
    }

    /// Applies `--threads` (≥ 1): OpenBLAS's thread count and the few-row products'
    /// (`SkinnyLinear.threads`), both process-wide.
    static func setThreads(_ n: Int) throws {
        guard n >= 1 else { throw ValidationError("--threads is \(n); expected a positive integer") }
        BLASThreads.set(n)
        SkinnyLinear.threads = n
    }


    func load(storage: WeightStorage = .f32) throws -> Qwen3Model {
        switch (model, preset) {
        case (nil, nil): throw ValidationError("give --model DIR or --preset tiny|qwen3-0.6b")
        case (.some, .some): throw ValidationError("give either --model or --preset, not both")
        case (let dir?, nil):
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("--model \(dir): no such folder (expected config.json and model.safetensors inside)")
            }
            do { return try Qwen3Model.load(directory: URL(fileURLWithPath: dir), storage: storage) } catch {
                throw ValidationError("--model \(dir): \(error)")
            }
        case (nil, let name?):
            guard let c = Self.config(ofPreset: name) else {
                throw ValidationError("--preset '\(name)' is unknown; use tiny, small or qwen3-0.6b")
            }
            return Qwen3Model(config: c, seed: seed, storage: storage)
        }
    }
}

extension LMCommand {
    /// `sftrl lm logits`: prints {"logits": [[…V…] × T]} (one sequence) or B × T × V (several).
    struct Logits: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logits",
            abstract: "Print a model's logits for token ids or text as JSON.",
            discussion: """
            --tokens "1 5 9 2" gives {"logits": [[...], ...]}: one row of V logits per position.
            Several sequences of equal length, separated by ';' ("1 5; 9 2"), give B × T × V.
            --text T encodes T with the folder's tokenizer.json and adds "ids" to the output;
            --text-file F encodes the whole UTF-8 file F ('-' for standard input) the same way.
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
        @Option(help: "A UTF-8 file whose whole content is the text ('-': standard input).") var textFile: String?
        @Flag(help: "Only the last position of each sequence.") var last = false
        @Option(help: "Print the K largest logits per row (id, logit) instead of every logit.") var topK: Int?
        @Option(help: "Weight storage: f32 or bf16 (inference only; see above).") var weights: WeightStorage = .f32
        @Option(help: "Threads for OpenBLAS and the few-row products; the default is the number of CPUs this process may use (its affinity mask).") var threads = CPUs.available

        /// Parses "1 5 9 2" or "1,5;9,2" into sequences; nil with a reason when malformed.
        static func parse(_ s: String) -> Result<[[Int32]], UserInputError> {
            var seqs: [[Int32]] = []
            for part in s.split(separator: ";", omittingEmptySubsequences: false) {
                let words = part.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\n" })
                if words.isEmpty { return .failure(UserInputError("empty sequence in --tokens \"\(s)\"")) }
                var seq: [Int32] = []
                for w in words {
                    guard let v = Int32(w), v >= 0 else {
                        return .failure(UserInputError("'\(w)' in --tokens is not a token id (a non-negative integer)"))
                    }
                    seq.append(v)
                }
                seqs.append(seq)
            }
            if Set(seqs.map(\.count)).count > 1 {
                return .failure(UserInputError("sequences in --tokens have different lengths \(seqs.map(\.count)); pad them to one length"))
            }
            return .success(seqs)
        }

        func validate() throws {
            try Bounds.check([("--top-k", topK, 1...Int(Int32.max)), ("--threads", threads, Bounds.threads)])
        }

        mutating func run() throws {
            var seqs: [[Int32]] = []
            if [tokens != nil, text != nil, textFile != nil].filter({ $0 }).count != 1 {
                throw UserInputError("give exactly one of --tokens, --text or --text-file")
            }
            if let textFile { text = try readTextInput(textFile, option: "--text-file") }
            let storage = try weights
            try ModelSource.setThreads(threads)
            if let tokens {
                switch Self.parse(tokens) {
                case .success(let s): seqs = s
                case .failure(let why): throw ValidationError(why.message)
                }
            }
            var encoded: [Int32]?
            if let text {
                let opt = textFile == nil ? "--text" : "--text-file"
                guard let dir = source.model else { throw UserInputError("\(opt) needs --model DIR (a folder with tokenizer.json)") }
                let ids = try loadTokenizer(dir).encode(text)
                if ids.isEmpty { throw UserInputError("\(opt) encodes to no tokens") }
                seqs = [ids]
                encoded = ids
            }
            let model = try source.load(storage: storage)
            let V = model.config.vocabSize
            if let bad = seqs.joined().first(where: { Int($0) >= V }) {
                throw ValidationError("\(text != nil ? "--text" : "--tokens"): token id \(bad) is not below the vocabulary size \(V); give ids from 0 to \(V - 1)")
            }
            let B = seqs.count, T = seqs[0].count
            if T > model.config.maxPositionEmbeddings {
                throw ValidationError("\(T) tokens per sequence exceed the model's max_position_embeddings "
                    + "(\(model.config.maxPositionEmbeddings)); give at most that many")
            }
            let flat = Array(seqs.joined())
            let logits = last ? model.lastLogits(tokens: flat, batch: B, length: T) : model.forward(tokens: flat, batch: B, length: T)
            let positions = last ? [T - 1] : Array(0..<T)
            let rowsPerSeq = last ? 1 : T
            if let i = logits.firstIndex(where: { !$0.isFinite }) {  // never a bare nan in the JSON
                throw RunFailure("the forward pass gave a non-finite logit (\(logits[i])) at row \(i / V), id \(i % V): the weights overflow Float32")
            }
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
            commandName: "init",
            abstract: "Write a preset with random weights as a Hugging Face model folder.",
            discussion: """
            Writes config.json and model.safetensors into --out (created). The folder loads with
            --model and with transformers' Qwen3ForCausalLM.from_pretrained.
            """)
        @Option(help: "tiny, small or qwen3-0.6b.") var preset = "tiny"
        @Option(help: "Seed of the random weights.") var seed: UInt64 = 0
        @Option(help: "Output folder.") var out: String
        @Option(help: "Storage dtype: F32, BF16 or F16.") var dtype = "F32"
        @Flag(help: "Write into a non-empty --out folder (its config.json and model.safetensors are replaced).") var overwrite = false

        func validate() throws {
            try validating { try OutputPaths.checkFolder(out, option: "--out") }
            if !overwrite, let items = try? FileManager.default.contentsOfDirectory(atPath: out), !items.isEmpty {
                throw ValidationError("--out \(out) is not empty; choose another folder or pass --overwrite")
            }
        }

        mutating func run() throws {
            guard let config = ModelSource.config(ofPreset: preset) else {
                throw ValidationError("--preset '\(preset)' is unknown; use tiny, small or qwen3-0.6b")
            }
            guard let dt = SafetensorsDType(rawValue: dtype.uppercased()) else {
                throw ValidationError("--dtype '\(dtype)' is unknown; use F32, BF16 or F16")
            }
            // The folder appears whole (staged, locked, renamed into place).
            try replaceFolderAtomically(at: URL(fileURLWithPath: out)) { try Qwen3Model(config: config, seed: seed).save(directory: $0, dtype: dt) }
        }
    }
}
