import Foundation
import StrictJSON

/// One example of a text dataset: a prompt, and a completion (SFT) and/or a label (RL reward).
public struct TextExample: Sendable, Equatable {
    public var prompt: String
    /// The SFT target text (nil for a prompt-only RL row).
    public var completion: String?
    /// The verifier's label: true = acceptable (nil when the row has none).
    public var label: Bool?
    /// Whether `prompt`/`completion` are chat turns (the conversational format): the prompt is
    /// then wrapped in Qwen3's chat layout and the completion ends with `<|im_end|>`.
    public var conversational: Bool

    public init(prompt: String, completion: String?, label: Bool?, conversational: Bool = false) {
        self.prompt = prompt; self.completion = completion; self.label = label; self.conversational = conversational
    }
}

/// The paper's acceptability task on text: CoLA's TSV, the prompt, the two label words, and the
/// strict (training) and robust (evaluation) parsers.
///
/// The paper gives the prompt only in words ("an instruction asking whether the sentence is
/// acceptable; the response is the word acceptable or unacceptable"); this is its wording here:
///
///     Is the following sentence grammatically acceptable? Answer with one word, acceptable or unacceptable.
///     Sentence: {sentence}
///     Answer:
///
/// and the completion is " acceptable" or " unacceptable" (a leading space, then end of text).
public enum CoLA {
    public static let positive = "acceptable"
    public static let negative = "unacceptable"

    public static func prompt(_ sentence: String) -> String {
        "Is the following sentence grammatically acceptable? Answer with one word, acceptable or unacceptable.\nSentence: \(sentence)\nAnswer:"
    }

    /// " acceptable" or " unacceptable".
    public static func completion(_ acceptable: Bool) -> String { " " + (acceptable ? positive : negative) }

    /// Reads CoLA's TSV: four tab-separated columns, no header — source code, label (1
    /// acceptable, 0 unacceptable), the original annotation mark, the sentence. Blank lines are
    /// skipped; anything else that is not four columns with a 0/1 label is an error naming the line.
    public static func load(_ url: URL) throws -> [TextExample] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DataError.unreadable(url.path) }
        var out: [TextExample] = []
        for (k, raw) in String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let cols = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard cols.count == 4 else {
                throw DataError.badRow(url.path, k + 1, "expected 4 tab-separated columns (source, label, original label, sentence), found \(cols.count)")
            }
            guard cols[1] == "0" || cols[1] == "1" else {
                throw DataError.badRow(url.path, k + 1, "label (column 2) is '\(cols[1])'; expected 1 (acceptable) or 0 (unacceptable)")
            }
            let sentence = String(cols[3])
            let ok = cols[1] == "1"
            out.append(TextExample(prompt: prompt(sentence), completion: completion(ok), label: ok))
        }
        if out.isEmpty { throw DataError.empty(url.path) }
        return out
    }

    /// The lower-cased words (maximal runs of letters) of a text.
    static func words(_ text: String) -> [Substring] {
        text.lowercased().split(whereSeparator: { !$0.isLetter })
    }

    /// Strict parser (training): the completion text, trimmed of white space, is exactly one
    /// label word, and the completion ended with a stop token (`ended`). Otherwise nil.
    public static func strictParse(_ text: String, ended: Bool) -> Bool? {
        guard ended else { return nil }
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t == positive { return true }
        if t == negative { return false }
        return nil
    }

    /// Robust parser (evaluation, as in the paper): the last whole word, case-insensitive, that
    /// is either label word anywhere in the output; nil when neither occurs. ("unacceptable" is
    /// one word, so it never counts as "acceptable".)
    public static func robustParse(_ text: String) -> Bool? {
        for w in words(text).reversed() {
            if w == positive { return true }
            if w == negative { return false }
        }
        return nil
    }

    /// +1 when the parsed answer equals the label, −1 otherwise (also when unparsable).
    public static func reward(text: String, ended: Bool, label: Bool, strict: Bool) -> Double {
        (strict ? strictParse(text, ended: ended) : robustParse(text)) == label ? 1 : -1
    }

    /// The label of a label text ("acceptable"/"unacceptable", "1"/"0", true/false), nil otherwise.
    static func label(from any: Any?) -> Bool? {
        switch any {
        case let s as String:
            switch s.trimmingCharacters(in: .whitespaces).lowercased() {
            case positive, "1", "true": return true
            case negative, "0", "false": return false
            default: return nil
            }
        // Exactly 0 or 1 (true/false read as 1/0): 1.7 is not a label (intValue would say 1).
        case let n as NSNumber: return n.doubleValue == 1 ? true : (n.doubleValue == 0 ? false : nil)
        case let b as Bool: return b
        default: return nil
        }
    }
}

/// A dataset file that cannot be used.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case unreadable(String)
    case empty(String)
    case badRow(String, Int, String)

    public var description: String {
        switch self {
        case .unreadable(let p): return "\(p): cannot read the file (\(PlainError.unreadableFile(p)))"
        case .empty(let p): return "\(p): no examples"
        case .badRow(let p, let line, let why): return "\(p) line \(line): \(why)"
        }
    }
}

/// TRL's dataset files (JSON Lines, one object per line).
///
/// - prompt-completion (SFT): `{"prompt": "...", "completion": "..."}`
/// - conversational (SFT): `{"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}]}`
///   (one user turn then one assistant turn; a leading system turn is not supported)
/// - prompt-only with a label (RL): `{"prompt": "...", "label": "acceptable"}` (the extra column
///   reaches the reward function, as in TRL; "acceptable"/"unacceptable", 1/0 or true/false)
/// A row may carry both a completion and a label. `.tsv` files are read as CoLA.
public enum TextDataset {
    public static func load(_ url: URL) throws -> [TextExample] {
        if url.pathExtension.lowercased() == "tsv" { return try CoLA.load(url) }
        guard let data = InputFile.read(url) else { throw DataError.unreadable(url.path) }
        let source = InputFile.isStandardInput(url) ? "standard input" : url.path
        var out: [TextExample] = []
        for (k, line) in String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            if line.allSatisfy({ $0.isWhitespace }) { continue }
            func bad(_ why: String) -> DataError { .badRow(source, k + 1, why) }
            // Strict syntax first: a duplicated key ("prompt" twice) would silently keep one of its
            // values; NaN and malformed JSON are named with their position.
            do { _ = try JSONParser.parse(Data(line.utf8)) } catch { throw bad("\(error)") }
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw bad("not a JSON object")
            }
            var label: Bool?
            if obj["label"] != nil {
                guard let l = CoLA.label(from: obj["label"]) else { throw bad("\"label\" must be acceptable/unacceptable, 1/0 or true/false") }
                label = l
            }
            if let messages = obj["messages"] {
                guard let turns = messages as? [[String: Any]], turns.count == 2,
                      turns[0]["role"] as? String == "user", turns[1]["role"] as? String == "assistant",
                      let user = turns[0]["content"] as? String, let assistant = turns[1]["content"] as? String else {
                    throw bad("\"messages\" must be one user turn then one assistant turn, each with a string \"content\"")
                }
                if user.isEmpty { throw bad("the user turn's \"content\" is empty; give a prompt") }
                out.append(TextExample(prompt: user, completion: assistant, label: label ?? CoLA.robustParse(assistant), conversational: true))
            } else if let any = obj["prompt"] {
                guard let prompt = any as? String else { throw bad("\"prompt\" must be a string") }
                if prompt.isEmpty { throw bad("\"prompt\" is empty; give a prompt") }
                if let c = obj["completion"], !(c is String), !(c is NSNull) { throw bad("\"completion\" must be a string") }
                let completion = obj["completion"] as? String
                if completion == nil && label == nil { throw bad("a \"prompt\" row needs a \"completion\" (SFT) or a \"label\" (RL)") }
                out.append(TextExample(prompt: prompt, completion: completion, label: label ?? completion.flatMap(CoLA.robustParse)))
            } else {
                throw bad("expected \"prompt\" (with \"completion\" or \"label\") or \"messages\"")
            }
        }
        if out.isEmpty { throw DataError.empty(source) }
        return out
    }

    /// One JSON object per line, keys sorted.
    static func jsonl(_ rows: [[String: Any]]) throws -> String {
        try rows.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) }
            .joined(separator: "\n") + "\n"
    }

    /// prompt-completion JSONL of the examples that have a completion.
    public static func promptCompletionJSONL(_ xs: [TextExample]) throws -> String {
        try jsonl(xs.compactMap { x in x.completion.map { ["prompt": x.prompt, "completion": $0] } })
    }

    /// conversational JSONL (user prompt, assistant completion without the leading space).
    public static func messagesJSONL(_ xs: [TextExample]) throws -> String {
        try jsonl(xs.compactMap { x in
            x.completion.map { c in ["messages": [["role": "user", "content": x.prompt],
                                                  ["role": "assistant", "content": c.trimmingCharacters(in: .whitespaces)]]] }
        })
    }

    /// prompt-only JSONL with the label column, for RL.
    public static func promptLabelJSONL(_ xs: [TextExample]) throws -> String {
        try jsonl(xs.compactMap { x in x.label.map { ["prompt": x.prompt, "label": $0 ? CoLA.positive : CoLA.negative] } })
    }

    /// CoLA-format TSV lines (source "sftrl", label, original mark "*" for unacceptable, sentence).
    public static func colaTSV(_ rows: [(sentence: String, acceptable: Bool)]) -> String {
        rows.map { "sftrl\t\($0.acceptable ? 1 : 0)\t\($0.acceptable ? "" : "*")\t\($0.sentence)" }.joined(separator: "\n") + "\n"
    }
}
