import ArgumentParser
import Foundation
import Reports
import Linalg
import StrictJSON
import Transformer

/// JSON text of a string (quoted, escaped as JSONSerialization does).
func jsonString(_ s: String) -> String {
    let d = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
    return String(String(decoding: d, as: UTF8.self).dropFirst().dropLast())
}

/// `[1, 2, 3]`
func jsonIds(_ ids: [Int32]) -> String { "[" + ids.map(String.init).joined(separator: ", ") + "]" }

/// Loads tokenizer.json of a model folder or exits with status 2.
func loadTokenizer(_ dir: String) throws -> BPETokenizer {
    do { return try BPETokenizer(url: URL(fileURLWithPath: dir)) } catch {
        throw UserInputError("--model \(dir): \(error)")
    }
}

/// The whole UTF-8 content of `path` ('-': standard input), or exit status 2 naming `option`.
func readTextInput(_ path: String, option: String) throws -> String {
    let data: Data?
    if path == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else { data = FileManager.default.contents(atPath: path) }
    guard let data else { throw UserInputError("\(option) \(path): cannot read the file") }
    guard let s = String(data: data, encoding: .utf8) else { throw UserInputError("\(option) \(path): not UTF-8 text") }
    return s
}

extension LMCommand {
    /// `sftrl lm tokenize`: text → ids, or ids → text, with a folder's tokenizer.json.
    struct Tokenize: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tokenize",
            abstract: "Encode text to token ids, or decode ids to text, with a model folder's tokenizer.json.",
            discussion: """
            Byte-level BPE tokenizer.json files (Qwen2/Qwen3, Qwen3.5/3.6, Llama 3, cl100k- and
            GPT-2-style; see docs/tokenizers.md): added tokens (<|im_start|>, <think>, …) matched
            before BPE; no special tokens are added around the text. Prints the ids separated by
            spaces (or {"ids": [...]} with --json); with --decode, the text (or {"text": ...});
            --decode "" gives "". --stats prints encoding speed on stderr.
            """)
        @Option(help: "A folder holding tokenizer.json (or the tokenizer.json file itself).") var model: String
        @Option(help: "Text to encode.") var text: String?
        @Option(help: "A UTF-8 file whose whole content is encoded ('-': standard input).") var textFile: String?
        @Option(help: "Token ids to decode, separated by spaces or commas.") var decode: String?
        @Flag(help: "Print JSON.") var json = false
        @Flag(help: "Leave out special added tokens when decoding.") var skipSpecialTokens = false
        @Flag(help: "Print tokens, seconds and tokens per second of the encoding (after loading) on stderr.") var stats = false

        mutating func run() throws {
            let given = [text != nil, textFile != nil, decode != nil].filter { $0 }.count
            if given != 1 { throw UserInputError("give exactly one of --text, --text-file or --decode") }
            let tok = try loadTokenizer(model)
            if let decode {
                var ids: [Int32] = []  // --decode "" (or only white space): no ids, the empty text
                if !decode.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) {
                    switch LMCommand.Logits.parse(decode) {
                    case .success(let s) where s.count == 1: ids = s[0]
                    case .success: throw UserInputError("--decode takes one sequence (no ';')")
                    case .failure(let e): throw UserInputError(e.message.replacingOccurrences(of: "--tokens", with: "--decode"))
                    }
                }
                let s: String
                do { s = try tok.decode(ids, skipSpecialTokens: skipSpecialTokens) } catch {
                    throw UserInputError("--decode: \(error)")
                }
                FileHandle.standardOutput.write(Data((json ? "{\"text\": \(jsonString(s))}\n" : s + "\n").utf8))
                return
            }
            var input = text ?? ""
            if let textFile { input = try readTextInput(textFile, option: "--text-file") }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let ids = tok.encode(input)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            if stats {
                FileHandle.standardError.write(Data("{\"tokens\": \(ids.count), \"bytes\": \(input.utf8.count), \"seconds\": \(dt), \"tokens_per_s\": \(Double(ids.count) / max(dt, 1e-9))}\n".utf8))
            }
            let out = json ? "{\"ids\": \(jsonIds(ids))}\n" : ids.map(String.init).joined(separator: " ") + "\n"
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }

    /// `sftrl lm generate`: a completion of a text prompt.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Generate a completion of a text prompt with a model folder (config.json, model.safetensors, tokenizer.json).",
            discussion: """
            Stops at the eos ids of config.json and generation_config.json (kept in "ids", left out
            of "text" when special) or after --max-new-tokens. Padded vocabulary ids (from the
            tokenizer's size on) are never drawn. --chat wraps the prompt in Qwen3's fixed chat
            layout: <|im_start|>user\\n PROMPT <|im_end|>\\n<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n
            (one user turn, thinking disabled; a fixed layout, not a template engine).
            Default decoding is greedy; --temperature T (> 0) samples with --top-p and --seed.
            --weights bf16 keeps the weight matrices in bfloat16 (half the memory and the bytes
            read per token; Float32 arithmetic), which may change a near-tied greedy choice.
            """)
        @Option(help: "The model folder.") var model: String
        @Option(help: "The prompt text.") var prompt: String?
        @Option(help: "A UTF-8 file whose whole content is the prompt ('-': standard input).") var promptFile: String?
        @Flag(help: "Wrap the prompt in Qwen3's chat layout (see above).") var chat = false
        @Option(help: "Most tokens to generate.") var maxNewTokens = 32
        @Flag(help: "Greedy decoding (the default when --temperature is not given).") var greedy = false
        @Option(help: "Sampling temperature (> 0; below 1e-6 decoding is greedy); leave out for greedy.") var temperature: Double?
        @Option(help: "Nucleus top_p in (0, 1] (with --temperature).") var topP = 1.0
        @Option(help: "Sampler seed (with --temperature).") var seed: UInt64 = 0
        @Flag(help: "Print {\"ids\": [...], \"text\": ...}.") var json = false
        @Option(help: "Weight storage: f32 or bf16 (see above).") var weights: WeightStorage = .f32
        @Option(help: "Threads for OpenBLAS and the few-row products; the default is the number of CPUs this process may use (its affinity mask).") var threads = CPUs.available

        func validate() throws {
            try Bounds.check([("--max-new-tokens", maxNewTokens, Bounds.tokens), ("--threads", threads, Bounds.threads)])
        }

        mutating func run() throws {
            if greedy && temperature != nil { throw UserInputError("give either --greedy or --temperature, not both") }
            if let t = temperature, !(t > 0 && t.isFinite) { throw UserInputError("--temperature is \(t); expected a positive number (leave it out for greedy)") }
            if !(topP > 0 && topP <= 1) { throw UserInputError("--top-p is \(topP); expected a number in (0, 1]") }
            if (prompt == nil) == (promptFile == nil) { throw UserInputError("give exactly one of --prompt or --prompt-file") }
            let user = try promptFile.map { try readTextInput($0, option: "--prompt-file") } ?? prompt!
            if user.isEmpty { throw UserInputError("\(promptFile == nil ? "--prompt" : "--prompt-file") is empty") }
            let text = chat ? TextModel.chatPrompt(user: user) : user
            let storage = try weights
            try ModelSource.setThreads(threads)
            let tm: TextModel
            do { tm = try TextModel(directory: URL(fileURLWithPath: model), storage: storage) } catch {
                throw UserInputError("--model \(model): \(error)")
            }
            let promptLength = tm.tokenizer.encode(text).count
            if promptLength + maxNewTokens > tm.model.config.maxPositionEmbeddings {
                throw UserInputError("the prompt's \(promptLength) tokens plus --max-new-tokens \(maxNewTokens) exceed the model's "
                    + "max_position_embeddings (\(tm.model.config.maxPositionEmbeddings)); shorten the prompt or lower --max-new-tokens")
            }
            let sampling = SamplingConfig(temperature: temperature ?? 0, topP: temperature == nil ? 1 : topP, maxNewTokens: maxNewTokens)
            let (ids, out) = tm.generate(prompt: text, sampling: sampling, seed: seed)
            let s = json ? "{\"ids\": \(jsonIds(ids)), \"text\": \(jsonString(out))}\n" : out + "\n"
            FileHandle.standardOutput.write(Data(s.utf8))
        }
    }
}
