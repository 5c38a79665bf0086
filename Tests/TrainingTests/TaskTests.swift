import Testing
@testable import Training

@Suite struct TaskTests {
    static let task = AcceptabilityTask()

    @Test func rulelabelsMatchTheGrammar() {
        for ex in Self.task.train + Self.task.test {
            #expect(AcceptabilityTask.isAcceptable(ex.sentence) == ex.acceptable, "\(ex.sentence)")
        }
        #expect(AcceptabilityTask.isAcceptable("the dog near the cats runs") == true)
        #expect(AcceptabilityTask.isAcceptable("the dog near the cats run") == false)
        #expect(AcceptabilityTask.isAcceptable("the dogs with my red key sleep") == true)
        #expect(AcceptabilityTask.isAcceptable("my children sees the car") == false)
    }

    @Test func splitsAreDeterministicDisjointAndSized() {
        let again = AcceptabilityTask()
        #expect(again.train == Self.task.train)
        #expect(again.test == Self.task.test)
        #expect(again.pretrainText == Self.task.pretrainText)
        let c = Self.task.config
        #expect(Self.task.train.count == c.trainSize && Self.task.test.count == c.testSize)
        #expect(Self.task.pretrainExamples.count == c.pretrainExamples && Self.task.pretrainText.count == c.pretrainSentences)
        let train = Set(Self.task.train.map(\.sentence))
        let test = Set(Self.task.test.map(\.sentence))
        let pre = Set(Self.task.pretrainExamples.map(\.sentence))
        let text = Set(Self.task.pretrainText.map { Self.task.tokenizer.decode(Array($0.dropFirst().dropLast())) })
        #expect(train.count == c.trainSize && test.count == c.testSize)
        #expect(train.isDisjoint(with: test) && train.isDisjoint(with: pre) && test.isDisjoint(with: pre))
        #expect(text.isDisjoint(with: test) && text.isDisjoint(with: train))
        var other = AcceptabilityTask.Config(); other.dataSeed = 1
        #expect(AcceptabilityTask(config: other).test != Self.task.test)
    }

    @Test func labelStatisticsAreAsDesigned() {
        let all = Self.task.train + Self.task.test
        let pos = Double(all.filter(\.acceptable).count) / Double(all.count)
        let heuristic = Double(all.filter { $0.heuristicLabel == $0.acceptable }.count) / Double(all.count)
        let noise = Double(all.filter { $0.sftLabel != $0.acceptable }.count) / Double(all.count)
        #expect(abs(pos - 0.5) < 0.01)
        #expect(abs(heuristic - 0.7) < 0.05)
        #expect(abs(noise - Self.task.config.sftLabelNoise) < 0.03)
        // The heuristic is wrong exactly on misleading attractors.
        #expect(all.allSatisfy { ($0.heuristicLabel != $0.acceptable) == $0.hasMisleadingAttractor })
    }

    @Test func tokenizerRoundTrip() {
        let tok = Self.task.tokenizer
        for ex in Self.task.test.prefix(50) {
            #expect(tok.decode(tok.encode(ex.sentence)) == ex.sentence)
        }
        let p = Self.task.prompt("the dog runs")
        #expect(tok.decode(p) == "<bos> is this sentence acceptable ? <sep> the dog runs <sep> answer :")
        #expect(tok.encode("<eos> <pad>") == [WordTokenizer.eos, WordTokenizer.pad])
        #expect(tok.encode("the zebra") == [tok.id("the")!, WordTokenizer.unk])
        #expect(Set(tok.vocabulary).count == tok.count)
    }

    @Test func strictAndRobustParsers() {
        let t = Self.task
        let acc = t.positiveToken, un = t.negativeToken, eos = WordTokenizer.eos
        let the = t.tokenizer.id("the")!
        // Exactly a label word then <eos>.
        #expect(t.strictParse([acc, eos]) == true)
        #expect(t.strictParse([un, eos]) == false)
        #expect(t.robustParse([acc, eos]) == true)
        // Extra tokens: strict rejects, robust reads the last label word.
        #expect(t.strictParse([acc, un, eos]) == nil)
        #expect(t.robustParse([acc, un, eos]) == false)
        #expect(t.robustParse([un, the, acc, eos]) == true)
        #expect(t.strictParse([the, acc, eos]) == nil)
        #expect(t.strictParse([acc, eos, eos]) == nil)
        // Missing <eos> (truncated).
        #expect(t.strictParse([acc]) == nil)
        #expect(t.strictParse([acc, acc, acc, acc]) == nil)
        #expect(t.robustParse([acc, acc, acc, un]) == false)
        // No label word.
        #expect(t.strictParse([the, eos]) == nil)
        #expect(t.robustParse([the, eos]) == nil)
        #expect(t.robustParse([]) == nil)
        // Words after <eos> do not count.
        #expect(t.robustParse([acc, eos, un]) == true)
        // Rewards.
        #expect(t.reward([acc, eos], acceptable: true, strict: true) == 1)
        #expect(t.reward([acc, eos], acceptable: false, strict: true) == -1)
        #expect(t.reward([the, acc, eos], acceptable: true, strict: true) == -1)
        #expect(t.reward([the, acc, eos], acceptable: true, strict: false) == 1)
        #expect(t.reward([the, eos], acceptable: false, strict: false) == -1)
    }
}
