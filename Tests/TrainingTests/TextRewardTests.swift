import Foundation
import Testing
@testable import Training
import Transformer
import TestSupport

/// `--reward`: parsing, each reward's values (hand-derived), the up-front refusal when no
/// completion of the data can earn it, and the constant-reward warning.
@Suite struct TextRewardTests {
    let pc = [TextExample(prompt: "2+2=", completion: " 4", label: nil), TextExample(prompt: "3+3=", completion: " 6", label: nil)]
    let labelled = [TextExample(prompt: "ok?", completion: nil, label: true)]

    @Test func parsing() throws {
        #expect(try TextReward.parse("label-words").get() == .labelWordsDefault)
        #expect(try TextReward.parse("label-words:yes,no").get() == .labelWords(positive: "yes", negative: "no"))
        #expect(try TextReward.parse("exact-match").get() == .exactMatch)
        #expect(try TextReward.parse("regex:^\\s*\\d+$").get() == .regex("^\\s*\\d+$"))
        for bad in ["", "exact", "label-words:yes", "label-words:yes,yes", "regex:", "regex:(?<=a)b", "regex:(a"] {
            #expect(throws: TextRewardError.self, "\(bad)") { try TextReward.parse(bad).get() }
        }
    }

    @Test func values() {
        let row = TextExample(prompt: "p", completion: " 4", label: true)
        let lw = TextReward.labelWords(positive: "yes", negative: "no")
        #expect(lw.reward(text: " yes", ended: true, row: row, strict: true) == 1)
        #expect(lw.reward(text: " yes", ended: false, row: row, strict: true) == -1)      // strict needs the stop
        #expect(lw.reward(text: "no, I mean YES!", ended: false, row: row, strict: false) == 1)  // robust: last label word
        #expect(lw.reward(text: " no", ended: true, row: row, strict: true) == -1)
        #expect(TextReward.exactMatch.reward(text: "4 ", ended: true, row: row, strict: true) == 1)
        #expect(TextReward.exactMatch.reward(text: "4", ended: false, row: row, strict: true) == 0)
        #expect(TextReward.exactMatch.reward(text: "4", ended: false, row: row, strict: false) == 1)
        #expect(TextReward.exactMatch.reward(text: "44", ended: true, row: row, strict: true) == 0)
        let re = TextReward.regex("^\\s*\\d+$")
        #expect(re.reward(text: " 17", ended: true, row: row, strict: true) == 1)
        #expect(re.reward(text: " 17 apples", ended: true, row: row, strict: true) == 0)
        #expect(TextReward.regex("\\d").reward(text: "about 3", ended: true, row: row, strict: true) == 1)
    }

    @Test func unearnableDataIsRefusedUpFront() {
        // The case: prompt/completion data and the default (label-word) reward.
        let why = TextReward.labelWordsDefault.unearnableReason(pc, option: "--data")
        #expect(why?.contains("exact-match") == true && why?.contains("--data") == true)
        #expect(TextReward.exactMatch.unearnableReason(pc, option: "--data") == nil)
        #expect(TextReward.exactMatch.unearnableReason(labelled, option: "--data") != nil)
        #expect(TextReward.labelWordsDefault.unearnableReason(labelled, option: "--data") == nil)
        #expect(TextReward.regex("^\\s*\\d+$").unearnableReason(pc, option: "--data") == nil)
        #expect(TextReward.regex("^[a-z]+$").unearnableReason(pc, option: "--data")?.contains("regex") == true)
        #expect(TextReward.regex("x").unearnableReason(labelled, option: "--data") == nil)   // nothing to check against
    }

    @Test func constantRewardWarningAfterTheStatedSteps() {
        var w = ConstantRewardWatch(limit: 3)
        #expect(w.observe(["frac_reward_zero_std": 1]) == nil)
        #expect(w.observe(["frac_reward_zero_std": 1]) == nil)
        #expect(w.observe(["frac_reward_zero_std": 0.5]) == nil)                  // a learning step resets the count
        #expect(w.observe(["frac_reward_zero_std": 1]) == nil)
        #expect(w.observe(["frac_reward_zero_std": 1]) == nil)
        #expect(w.observe(["frac_reward_zero_std": 1])?.contains("3 consecutive RL steps") == true)
        #expect(w.observe(["frac_reward_zero_std": 1]) == nil)                    // once
        #expect(ConstantRewardWatch().limit == 10)
    }

    /// On a real tokenizer: the RL prompts of exact-match are the rows with completions, and the
    /// demonstrated completion (its ids then the stop token) earns 1.
    @Test func exactMatchOnTokens() throws {
        let fixture = repositoryRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/qwen3-text")
        let tm = try TextModel(directory: fixture)
        let text = TextTask(tokenizer: tm.tokenizer, stopTokens: tm.eosTokenIds, eos: TextModel.primaryEosTokenId(directory: fixture)!)
        let rows = pc + labelled
        let rl = text.rlPrompts(rows, strict: true, reward: .exactMatch)
        #expect(rl.prompts.count == 2)
        let good = text.completionIds(pc[1])!, bad = text.completionIds(pc[0])!
        #expect(rl.reward(1, good) == 1 && rl.reward(1, bad) == 0 && rl.reward(1, Array(good.dropLast())) == 0)
        #expect(text.rlPrompts(rows, strict: true).prompts.count == 1)   // label words: the labelled row only
    }
}
