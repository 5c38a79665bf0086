import Linalg

/// A synthetic, verifiable task in the shape of the paper's CoLA experiment (paper-notes §5).
///
/// **Language.** `Det [Adj] Noun [Prep Det [Adj] Noun] Verb [Det [Adj] Noun]`: a subject noun
/// phrase, an optional prepositional phrase whose noun is an *attractor*, an intransitive verb or
/// a transitive verb with an object. Nouns and verbs come in singular and plural forms.
///
/// **Rule.** A sentence is *acceptable* iff the verb agrees in number with the head noun of the
/// subject (the first noun). The attractor and the object never matter. A model that has only
/// learned the shallow heuristic "the verb agrees with the nearest preceding noun" is right
/// except when an attractor of the other number sits between subject and verb (about 30% of
/// sentences with the default probabilities), which gives a base model in the paper's range
/// (≈ 70% accuracy) while leaving room for SFT and RL to move.
///
/// **Data.** One seeded pool of distinct sentences (half acceptable) is cut into disjoint parts:
/// `test`, `train`, unlabeled pretraining text (acceptable sentences only, like edited text) and
/// formatted pretraining examples whose labels come from the nearest-noun heuristic plus noise
/// (a biased annotator). SFT labels (`Example.sftLabel`) are the rule's label flipped with
/// probability `sftLabelNoise` (fixed per example): the SFT data conditional p_D, which may
/// disagree with the verifier reward on some fraction (see docs/training.md for why).
///
/// **Format.** Prompt `<bos> is this sentence acceptable ? <sep> SENTENCE <sep> answer :`,
/// completion `acceptable <eos>` or `unacceptable <eos>`.
public struct AcceptabilityTask: Sendable {
    public struct Config: Codable, Sendable, Equatable {
        /// Seed of the data (splits, label noise); independent of the run seed.
        public var dataSeed: UInt64 = 7389
        public var trainSize = 4096
        public var testSize = 256
        public var pretrainSentences = 2048
        public var pretrainExamples = 1024
        /// Probability that a sentence has a prepositional phrase (an attractor noun).
        public var attractorProbability = 0.6
        /// Probability that a formatted pretraining example's heuristic label is also flipped.
        public var pretrainLabelNoise = 0.1
        /// Probability that an SFT label (train and test) is the opposite of the rule's label.
        public var sftLabelNoise = 0.1
        public init() {}
    }

    /// One labelled sentence.
    public struct Example: Sendable, Equatable {
        public let sentence: String
        /// The rule's label (what the reward verifies).
        public let acceptable: Bool
        /// The label in the SFT data (the rule's label, flipped with probability sftLabelNoise).
        public let sftLabel: Bool
        /// The nearest-noun heuristic's label.
        public let heuristicLabel: Bool
        public let hasMisleadingAttractor: Bool
    }

    public static let determiners = ["the", "my"]
    public static let adjectives = ["old", "small", "red", "happy", "quiet", "big"]
    public static let nouns: [(String, String)] = [
        ("dog", "dogs"), ("cat", "cats"), ("bird", "birds"), ("teacher", "teachers"),
        ("farmer", "farmers"), ("child", "children"), ("key", "keys"), ("house", "houses"),
        ("car", "cars"), ("friend", "friends"),
    ]
    public static let intransitiveVerbs: [(String, String)] = [
        ("runs", "run"), ("sleeps", "sleep"), ("sings", "sing"), ("waits", "wait"), ("falls", "fall"),
    ]
    public static let transitiveVerbs: [(String, String)] = [
        ("sees", "see"), ("likes", "like"), ("finds", "find"), ("helps", "help"),
    ]
    public static let prepositions = ["near", "behind", "with", "under", "beside"]
    public static let instruction = ["is", "this", "sentence", "acceptable", "?"]
    public static let answerCue = ["answer", ":"]
    public static let positiveWord = "acceptable"
    public static let negativeWord = "unacceptable"

    public let config: Config
    public let tokenizer: WordTokenizer
    public let train: [Example]
    public let test: [Example]
    /// Unlabeled pretraining text: `<bos> SENTENCE <eos>`, acceptable sentences only.
    public let pretrainText: [[Int32]]
    /// Formatted pretraining examples with biased labels.
    public let pretrainExamples: [Example]

    public init(config: Config = Config()) {
        self.config = config
        var words = AcceptabilityTask.instruction + AcceptabilityTask.answerCue
        words += [AcceptabilityTask.negativeWord]
        words += AcceptabilityTask.determiners + AcceptabilityTask.adjectives + AcceptabilityTask.prepositions
        for (s, p) in AcceptabilityTask.nouns { words += [s, p] }
        for (s, p) in AcceptabilityTask.intransitiveVerbs + AcceptabilityTask.transitiveVerbs { words += [s, p] }
        tokenizer = WordTokenizer(words: words)

        // Each part has its own stream, drawn in a fixed order (test, train, pretraining), each
        // half acceptable, skipping sentences already drawn: the test split does not depend on
        // the sizes of the other parts.
        var seen = Set<String>()
        func draw(_ count: Int, _ label: String) -> [Example] {
            var rng = SeededGenerator.derived(seed: config.dataSeed, label: label)
            var out: [Example] = []
            var attempts = 0
            while out.count < count {
                attempts += 1
                precondition(attempts < count * 1000 + 1000, "could not draw \(count) distinct sentences for \(label)")
                let ex = AcceptabilityTask.drawExample(rng: &rng, config: config, acceptable: out.count % 2 == 0)
                if seen.insert(ex.sentence).inserted { out.append(ex) }
            }
            rng.shuffle(&out)
            return out
        }
        test = draw(config.testSize, "test")
        train = draw(config.trainSize, "train")
        // Formatted pretraining examples: the heuristic label, flipped with pretrainLabelNoise.
        var rng = SeededGenerator.derived(seed: config.dataSeed, label: "pretrain")
        pretrainExamples = draw(config.pretrainExamples, "pretrain-examples").map { ex in
            let flip = rng.bernoulli(config.pretrainLabelNoise)
            return Example(sentence: ex.sentence, acceptable: ex.acceptable,
                           sftLabel: flip ? !ex.heuristicLabel : ex.heuristicLabel,
                           heuristicLabel: ex.heuristicLabel, hasMisleadingAttractor: ex.hasMisleadingAttractor)
        }
        // Unlabeled text: acceptable sentences not in the labelled pool.
        var text: [[Int32]] = []
        while text.count < config.pretrainSentences {
            let ex = AcceptabilityTask.drawExample(rng: &rng, config: config, acceptable: true)
            if seen.insert(ex.sentence).inserted {
                text.append([WordTokenizer.bos] + tokenizer.encode(ex.sentence) + [WordTokenizer.eos])
            }
        }
        pretrainText = text
    }

    /// Draws one sentence with the requested rule label; the SFT label carries `sftLabelNoise`.
    static func drawExample(rng: inout SeededGenerator, config: Config, acceptable: Bool) -> Example {
        func np(_ plural: Bool) -> [String] {
            var w = [rng.pick(determiners)]
            if rng.bernoulli(0.4) { w.append(rng.pick(adjectives)) }
            let n = rng.pick(nouns)
            w.append(plural ? n.1 : n.0)
            return w
        }
        let subjectPlural = rng.bernoulli(0.5)
        var words = np(subjectPlural)
        var nearestPlural = subjectPlural
        if rng.bernoulli(config.attractorProbability) {
            let attractorPlural = rng.bernoulli(0.5)
            words.append(rng.pick(prepositions))
            words += np(attractorPlural)
            nearestPlural = attractorPlural
        }
        let verbPlural = acceptable ? subjectPlural : !subjectPlural
        if rng.bernoulli(0.5) {
            let v = rng.pick(intransitiveVerbs)
            words.append(verbPlural ? v.1 : v.0)
        } else {
            let v = rng.pick(transitiveVerbs)
            words.append(verbPlural ? v.1 : v.0)
            words += np(rng.bernoulli(0.5))
        }
        let flip = rng.bernoulli(config.sftLabelNoise)
        return Example(sentence: words.joined(separator: " "), acceptable: acceptable,
                       sftLabel: flip ? !acceptable : acceptable,
                       heuristicLabel: nearestPlural == verbPlural,
                       hasMisleadingAttractor: nearestPlural != subjectPlural)
    }

    /// The rule itself, on a sentence of this language: true iff the first noun and the verb
    /// agree in number. Returns nil when the text is not a sentence of the language.
    public static func isAcceptable(_ sentence: String) -> Bool? {
        var subject: Bool?
        for w in sentence.split(separator: " ").map(String.init) {
            if subject == nil, let n = nouns.first(where: { $0.0 == w || $0.1 == w }) {
                subject = (n.1 == w)
            } else if let v = (intransitiveVerbs + transitiveVerbs).first(where: { $0.0 == w || $0.1 == w }) {
                guard let s = subject else { return nil }
                return s == (v.1 == w)
            }
        }
        return nil
    }

    /// `<bos> is this sentence acceptable ? <sep> SENTENCE <sep> answer :`
    public func prompt(_ sentence: String) -> [Int32] {
        [WordTokenizer.bos] + tokenizer.encode(AcceptabilityTask.instruction.joined(separator: " "))
            + [WordTokenizer.sep] + tokenizer.encode(sentence) + [WordTokenizer.sep]
            + tokenizer.encode(AcceptabilityTask.answerCue.joined(separator: " "))
    }

    /// `acceptable <eos>` or `unacceptable <eos>`.
    public func completion(label: Bool) -> [Int32] {
        [label ? positiveToken : negativeToken, WordTokenizer.eos]
    }

    public var positiveToken: Int32 { tokenizer.id(AcceptabilityTask.positiveWord)! }
    public var negativeToken: Int32 { tokenizer.id(AcceptabilityTask.negativeWord)! }

    /// Strict parser (training): the completion must be exactly two tokens, one label word then
    /// `<eos>`. Anything else (extra tokens, a missing `<eos>`, no label word) is nil.
    public func strictParse(_ completion: [Int32]) -> Bool? {
        guard completion.count == 2, completion[1] == WordTokenizer.eos else { return nil }
        if completion[0] == positiveToken { return true }
        if completion[0] == negativeToken { return false }
        return nil
    }

    /// Robust parser (evaluation, as in the paper): the last occurrence of either label word
    /// anywhere in the output (up to its first `<eos>`); nil when neither occurs.
    public func robustParse(_ completion: [Int32]) -> Bool? {
        var last: Bool?
        for t in completion {
            if t == WordTokenizer.eos { break }
            if t == positiveToken { last = true } else if t == negativeToken { last = false }
        }
        return last
    }

    /// Reward r ∈ {+1, −1}: +1 iff the parsed answer equals the rule's label; a completion the
    /// parser rejects gets −1. `strict` selects the training parser, else the robust one.
    public func reward(_ completion: [Int32], acceptable: Bool, strict: Bool) -> Double {
        let parsed = strict ? strictParse(completion) : robustParse(completion)
        return parsed == acceptable ? 1 : -1
    }
}
