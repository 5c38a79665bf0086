/// A word-level tokenizer: one token per whitespace-separated word, plus special tokens.
///
/// Ids 0–4 are the specials (`<pad>`, `<bos>`, `<eos>`, `<sep>`, `<unk>`), then the words in
/// the order given to `init` (duplicates dropped). `decode(encode(s)) == s` for every text whose
/// words are all in the vocabulary and that is written with single spaces.
public struct WordTokenizer: Sendable, Equatable {
    public static let pad: Int32 = 0
    public static let bos: Int32 = 1
    public static let eos: Int32 = 2
    public static let sep: Int32 = 3
    public static let unk: Int32 = 4
    public static let specials = ["<pad>", "<bos>", "<eos>", "<sep>", "<unk>"]

    /// Every token's text, indexed by id.
    public let vocabulary: [String]
    private let index: [String: Int32]

    public init(words: [String]) {
        var vocab = WordTokenizer.specials
        var index: [String: Int32] = [:]
        for (i, s) in vocab.enumerated() { index[s] = Int32(i) }
        for w in words where index[w] == nil {
            precondition(!w.isEmpty && !w.contains(" "), "a token must be one non-empty word, got '\(w)'")
            index[w] = Int32(vocab.count)
            vocab.append(w)
        }
        self.vocabulary = vocab
        self.index = index
    }

    /// Number of tokens (the model's vocabSize).
    public var count: Int { vocabulary.count }

    /// The id of one word, or nil when it is not in the vocabulary.
    public func id(_ word: String) -> Int32? { index[word] }

    /// Splits on whitespace; a word not in the vocabulary becomes `<unk>`.
    public func encode(_ text: String) -> [Int32] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
            .map { index[String($0)] ?? WordTokenizer.unk }
    }

    /// Joins the tokens' texts with single spaces (padding included if present: strip it first).
    public func decode(_ ids: [Int32]) -> String {
        ids.map { i in (i >= 0 && Int(i) < vocabulary.count) ? vocabulary[Int(i)] : "<unk>" }
            .joined(separator: " ")
    }
}
