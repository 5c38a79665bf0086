import Foundation
import Transformer

/// A text dataset (CoLA TSV or TRL JSONL) on a real checkpoint's tokenizer: token ids for the SFT
/// and RL stages, the strict training reward and the robust evaluation reward.
///
/// Prompts are encoded as they are (a conversational row's prompt in Qwen3's chat layout); an SFT
/// completion is its encoded text followed by one stop token: `<|im_end|>` for a conversational
/// row, else `eos` (config.json's eos_token_id), as TRL appends the tokenizer's eos. Prompt and
/// completion are encoded separately. A completion's text is its tokens up to the first stop
/// token, decoded without special tokens; it "ended" when that stop token was generated.
///
/// Long rows are truncated as TRL does, never allocated blindly: an SFT pair keeps the first
/// `maxLength` tokens of prompt + completion (TRL's `SFTConfig.max_length`, default 1024,
/// truncation keeping the start); a pair left with no completion token is dropped. An RL prompt
/// keeps its last `maxPromptLength` tokens (TRL's `GRPOConfig.max_prompt_length`, default 512,
/// truncated on the left).
public struct TextTask: Sendable {
    public let tokenizer: BPETokenizer
    public let stopTokens: Set<Int32>
    public let eos: Int32
    public let imEnd: Int32?
    /// Most tokens of an SFT sequence (prompt + completion); TRL's `max_length`.
    public let maxLength: Int
    /// Most tokens of an RL prompt; TRL's `max_prompt_length`.
    public let maxPromptLength: Int

    public init(tokenizer: BPETokenizer, stopTokens: [Int32], eos: Int32, maxLength: Int = 1024, maxPromptLength: Int = 512) {
        self.tokenizer = tokenizer
        self.stopTokens = Set(stopTokens).union([eos])
        self.eos = eos
        self.imEnd = tokenizer.id(of: "<|im_end|>")
        self.maxLength = max(2, maxLength)
        self.maxPromptLength = max(1, maxPromptLength)
    }

    public func promptIds(_ x: TextExample) -> [Int32] {
        tokenizer.encode(x.conversational ? TextModel.chatPrompt(user: x.prompt) : x.prompt)
    }

    /// An RL prompt's ids, its last `maxPromptLength` tokens.
    public func rlPromptIds(_ x: TextExample) -> [Int32] {
        Array(promptIds(x).suffix(maxPromptLength))
    }

    public func completionIds(_ x: TextExample) -> [Int32]? {
        guard let c = x.completion else { return nil }
        return tokenizer.encode(c) + [x.conversational ? (imEnd ?? eos) : eos]
    }

    /// The completion's text (up to its first stop token) and whether it stopped.
    public func text(of completion: [Int32]) -> (text: String, ended: Bool) {
        let cut = completion.firstIndex(where: { stopTokens.contains($0) })
        let body = Array(completion[..<(cut ?? completion.count)])
        return ((try? tokenizer.decode(body, skipSpecialTokens: true)) ?? "", cut != nil)
    }

    /// SFT pairs of the examples that have a completion, truncated to `maxLength` tokens.
    public func sftPairs(_ xs: [TextExample]) -> [(prompt: [Int32], completion: [Int32])] {
        xs.compactMap { x in
            guard let c = completionIds(x) else { return nil }
            let p = promptIds(x)
            guard p.count < maxLength else { return nil }
            return (p, Array(c.prefix(maxLength - p.count)))
        }
    }

    /// RL prompts of the examples `reward` accepts (`TextReward.accepts`: labelled rows for
    /// label words), with the strict (training) or robust (evaluation) form of the reward.
    public func rlPrompts(_ xs: [TextExample], strict: Bool, reward: TextReward = .labelWordsDefault) -> RLPrompts {
        let rows = xs.filter(reward.accepts)
        let me = self
        var compiled: SplitRegex?
        if case .regex(let p) = reward { compiled = try? SplitRegex(p) }
        let re = compiled
        return RLPrompts(prompts: rows.map(rlPromptIds),
                         reward: { i, c in
                             let (t, ended) = me.text(of: c)
                             return reward.reward(text: t, ended: ended, row: rows[i], strict: strict, compiled: re)
                         },
                         stopTokens: stopTokens, vocabLimit: tokenizer.size)
    }

    /// Both stages' data: train for SFT and RL, test for the evaluator (its first `evalPrompts`
    /// rows that `reward` accepts for the reward).
    public func pipelineData(train: [TextExample], test: [TextExample], evalPrompts: Int,
                             sampling: SamplingConfig, seed: UInt64, reward: TextReward = .labelWordsDefault) -> PipelineData {
        let evalRL = rlPrompts(Array(test.filter(reward.accepts).prefix(evalPrompts)), strict: false, reward: reward)
        let me = self
        let format: @Sendable (Int, [Int32]) -> Bool
        if case .labelWords(let p, let n) = reward {
            format = { _, c in let (t, e) = me.text(of: c); return TextReward.strictParse(t, ended: e, positive: p, negative: n) != nil }
        } else {
            format = { _, c in me.text(of: c).ended }
        }
        let evaluator = Evaluator(sftPairs: sftPairs(test), rl: evalRL, format: format, sampling: sampling, seed: seed)
        return PipelineData(sftPairs: sftPairs(train), rl: rlPrompts(train, strict: true, reward: reward), evaluator: evaluator)
    }
}
