import ArgumentParser
import Foundation
import Reports
import Training

/// `sftrl task`: the synthetic acceptability task in the formats other trainers read.
struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "The synthetic acceptability task as data files (CoLA TSV, TRL JSONL).",
        subcommands: [Export.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write the synthetic task's train and test splits as CoLA TSV and TRL JSONL files.",
            discussion: """
            Writes into --out (created; must not exist or be empty):
              train.tsv, test.tsv              CoLA's four columns (source, label, original mark, sentence); the rule's label
              sft-train.jsonl, sft-test.jsonl  TRL prompt-completion rows with the SFT labels (the rule's label flipped
                                               with probability --sft-label-noise, as in `sftrl train`)
              sft-train-messages.jsonl         the same rows in TRL's conversational format
              rl-train.jsonl, rl-test.jsonl    TRL prompt-only rows with the verifier's label column
            Prompts use the text path's wording (CoLA.prompt); the same sentences and labels as
            `sftrl train --data-seed S --train-size N`, so TRL or verl can run the same experiment.
            The TSV holds the verifier's label: SFT label noise is only in the sft-*.jsonl files.
            """)
        @Option(help: "Output folder.") var out: String
        @Option(help: "Seed of the task's data.") var dataSeed: UInt64 = 7389
        @Option(help: "Training examples.") var trainSize = 4096
        @Option(help: "Probability that an SFT label is flipped.") var sftLabelNoise = 0.1

        func validate() throws { try Bounds.check("--train-size", trainSize, Bounds.steps) }

        mutating func run() throws {
            try SizeLimits.checkTrainSize(trainSize)
            if !(sftLabelNoise >= 0 && sftLabelNoise <= 1) { throw UserInputError("--sft-label-noise is \(sftLabelNoise); expected a probability in [0, 1]") }
            try validating { try OutputPaths.checkCreatableFolder(out, option: "--out") }
            try validating { try OutputPaths.checkEmptyFolder(out, option: "--out", overwriteFlag: nil) }
            var c = AcceptabilityTask.Config()
            c.dataSeed = dataSeed; c.trainSize = trainSize; c.sftLabelNoise = sftLabelNoise
            let task = AcceptabilityTask(config: c)
            func sft(_ xs: [AcceptabilityTask.Example]) -> [TextExample] {
                xs.map { TextExample(prompt: CoLA.prompt($0.sentence), completion: CoLA.completion($0.sftLabel), label: nil) }
            }
            func rl(_ xs: [AcceptabilityTask.Example]) -> [TextExample] {
                xs.map { TextExample(prompt: CoLA.prompt($0.sentence), completion: nil, label: $0.acceptable) }
            }
            let files: [(String, String)] = [
                ("train.tsv", TextDataset.colaTSV(task.train.map { ($0.sentence, $0.acceptable) })),
                ("test.tsv", TextDataset.colaTSV(task.test.map { ($0.sentence, $0.acceptable) })),
                ("sft-train.jsonl", try TextDataset.promptCompletionJSONL(sft(task.train))),
                ("sft-test.jsonl", try TextDataset.promptCompletionJSONL(sft(task.test))),
                ("sft-train-messages.jsonl", try TextDataset.messagesJSONL(sft(task.train))),
                ("rl-train.jsonl", try TextDataset.promptLabelJSONL(rl(task.train))),
                ("rl-test.jsonl", try TextDataset.promptLabelJSONL(rl(task.test))),
            ]
            let outURL = URL(fileURLWithPath: out).standardizedFileURL
            try replaceFolderAtomically(at: outURL) { staging in
                for (name, text) in files { try writeAtomically(text, to: staging.appendingPathComponent(name)) }
            }
            print("wrote \(outURL.path): \(files.map(\.0).joined(separator: ", ")) (\(task.train.count) train, \(task.test.count) test)")
        }
    }
}
