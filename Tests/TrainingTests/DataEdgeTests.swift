import Foundation
import Testing
import TestSupport
@testable import Training
import Transformer

/// Data rows that used to be read wrong (issue 24): a label must be exactly 0/1, true/false or a
/// label word (1.7 is refused, not read as "acceptable"); a completion that is not a string and an
/// empty prompt are refused naming the field. A planted `intValue == 1` label test fails the first.
@Suite struct DataEdgeTests {
    func load(_ line: String) throws -> [TextExample] {
        let url = try makeTemporaryDirectory("data-edge").appendingPathComponent("d.jsonl")
        try Data((line + "\n").utf8).write(to: url)
        return try TextDataset.load(url)
    }

    @Test(arguments: [
        (#"{"prompt": "p", "label": 1.7}"#, "\"label\""),
        (#"{"prompt": "p", "label": 0.5}"#, "\"label\""),
        (#"{"prompt": "p", "label": -1}"#, "\"label\""),
        (#"{"prompt": "p", "label": 2}"#, "\"label\""),
        (#"{"prompt": "p", "completion": 5}"#, "\"completion\""),
        (#"{"prompt": "p", "completion": ["a"], "label": 1}"#, "\"completion\""),
        (#"{"prompt": "", "completion": " acceptable"}"#, "\"prompt\""),
        (#"{"prompt": 3, "completion": " acceptable"}"#, "\"prompt\""),
        (#"{"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "acceptable"}]}"#, "content"),
    ])
    func badRowsAreRefusedNamingTheField(line: String, field: String) throws {
        do {
            let rows = try load(line)
            Issue.record("\(line) was read as \(rows)")
        } catch let e as DataError {
            #expect("\(e)".contains(field), "\(e)")
        }
    }

    @Test(arguments: [(#"1"#, true), (#"0"#, false), (#"1.0"#, true), (#"true"#, true), (#"false"#, false), (#""acceptable""#, true), (#""0""#, false)])
    func validLabelsRead(label: String, expected: Bool) throws {
        #expect(try load(#"{"prompt": "p", "label": \#(label)}"#).first?.label == expected)
    }

    @Test func longRowsAreTruncatedAsTRL() throws {
        // max_length keeps the start of prompt + completion; max_prompt_length keeps the prompt's end.
        let tok = try BPETokenizer(url: repositoryRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/qwen3-text/tokenizer.json"))
        let task = TextTask(tokenizer: tok, stopTokens: [], eos: 0, maxLength: 16, maxPromptLength: 8)
        let long = String(repeating: "word ", count: 200)
        let x = TextExample(prompt: long, completion: " acceptable", label: true)
        let pairs = task.sftPairs([x, TextExample(prompt: "short", completion: " acceptable", label: true)])
        #expect(pairs.count == 1, "a pair whose prompt fills max_length is dropped")
        #expect(pairs.allSatisfy { $0.prompt.count + $0.completion.count <= 16 })
        let rl = task.rlPrompts([x], strict: true)
        #expect(rl.prompts[0].count == 8 && rl.prompts[0] == Array(task.promptIds(x).suffix(8)))
    }
}
