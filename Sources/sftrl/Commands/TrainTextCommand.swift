import Foundation
import Linalg
import Figures
import Reports
import Training
import Transformer

extension TrainCommand {
    /// `sftrl train --model DIR --data FILE`: the two pipelines on a real Qwen3 checkpoint and a
    /// text dataset, with the folder's tokenizer; no pretraining (the folder is the base).
    func runText(config base: PipelineConfig, modelDir: String) throws {
        var config = base
        let dir = URL(fileURLWithPath: modelDir)
        let tm: TextModel
        do { tm = try TextModel(directory: dir) } catch { throw UserInputError("--model \(modelDir): \(error)") }
        guard let eos = TextModel.primaryEosTokenId(directory: dir) else {
            throw UserInputError("--model \(modelDir): config.json and generation_config.json name no eos_token_id")
        }
        var train: [TextExample], test: [TextExample]
        do {
            train = try TextDataset.load(URL(fileURLWithPath: data!))
            if let testData {
                test = try TextDataset.load(URL(fileURLWithPath: testData))
            } else {
                let k = max(1, Int((Double(train.count) * testFraction).rounded()))
                if k >= train.count { throw UserInputError("--data has \(train.count) rows: too few to hold out \(k) for testing; give --test-data") }
                test = Array(train.suffix(k))
                train = Array(train.prefix(train.count - k))
            }
        } catch let e as DataError { throw UserInputError("\(e)") }
        guard case .success(let rewardSpec) = TextReward.parse(reward) else { throw UserInputError("--reward '\(reward)' is not a reward") }
        if config.grpo.steps > 0, let why = rewardSpec.unearnableReason(train, option: "--data") { throw UserInputError(why) }
        config.model = tm.model.config
        config.pretrain.steps = 0
        config.evalSampling.maxNewTokens = max(config.evalSampling.maxNewTokens, config.grpo.loss.maxCompletionLength)
        // Long rows are truncated as TRL does (TextTask: max_length 1024, max_prompt_length 512),
        // within the model's context; the held-out rows must give every eval metric a value.
        let ctx = tm.model.config.maxPositionEmbeddings, newTokens = config.evalSampling.maxNewTokens
        if newTokens >= ctx { throw UserInputError("--max-completion-length \(newTokens) leaves no room for a prompt in the model's max_position_embeddings (\(ctx))") }
        let text = TextTask(tokenizer: tm.tokenizer, stopTokens: tm.eosTokenIds, eos: eos, maxLength: min(1024, ctx), maxPromptLength: min(512, ctx - newTokens))
        let held = testData != nil ? "--test-data \(testData!)" : "the rows held out of --data (--test-fraction)"
        if config.sft.epochs > 0 && !test.contains(where: { $0.completion != nil }) { throw UserInputError("\(held) have no completion: eval_sft_loss would be undefined; give rows with a \"completion\"") }
        if !test.contains(where: rewardSpec.accepts) { throw UserInputError("\(held) have no row that --reward \(rewardSpec) can score: eval_reward would be undefined; give rows with a \"label\" (label words) or a \"completion\" (exact-match, regex)") }
        let pdata = text.pipelineData(train: train, test: test, evalPrompts: config.evalPrompts, sampling: config.evalSampling,
                                      seed: SeededGenerator.derivedSeed(config.seed, "eval"), reward: rewardSpec)
        if pdata.sftPairs.isEmpty && config.sft.epochs > 0 { throw UserInputError("--data has no SFT rows (no completion or CoLA label); use --sft-epochs 0 or other data") }
        if pdata.rl.prompts.isEmpty && config.grpo.steps > 0 { throw UserInputError("--data has no rows for RL under --reward \(rewardSpec); use --rl-steps 0, another --reward or other data") }
        BLASThreads.set(config.blasThreads)
        let pipeline = Pipeline(config: config, data: pdata)
        let stage1 = config.pipeline == .sftRL ? "sft" : "rl"
        let sftSteps = ((pdata.sftPairs.count + config.sft.batchSize - 1) / config.sft.batchSize) * config.sft.epochs
        let result = runWithProgress(pipeline, base: tm.model, total: sftSteps + config.grpo.steps + 1,
                                     label: "train \(config.pipeline.rawValue)", quiet: quiet)
        let counts = ["train": train.count, "test": test.count, "sft_pairs": pdata.sftPairs.count, "rl_prompts": pdata.rl.prompts.count,
                      "eval_reward_prompts": pdata.evaluator.rewardPrompts, "tokenizer_size": tm.tokenizer.size,
                      "vocab_size": tm.model.config.vocabSize, "parameters": tm.model.config.parameterCount]
        let design = [
            "Base: the checkpoint \(dir.path) (no pretraining). Data: \(data!)\(testData.map { ", test \($0)" } ?? " (last \(testFraction) held out)"), tokenized with its tokenizer.json.",
            "SFT: prompt then completion + eos (config.json's eos_token_id \(eos); <|im_end|> for conversational rows), loss on the completion tokens.",
            rewardSpec.explanation,
            "eval_sft_loss on every held-out SFT row; eval_reward: mean@1 at temperature \(config.evalSampling.temperature), top_p \(config.evalSampling.topP) on the first \(pdata.evaluator.rewardPrompts) held-out labelled prompts, the same sampler seed at every evaluation.",
        ]
        let outURL = try writeFolderAtomically(out) { staging in
            try TrainOutputs.write(result: result, config: config, stage1: stage1, to: staging,
                             save: { m, url in try TextModel.saveCheckpoint(m, to: url, source: dir) }, data: counts, design: design)
        }
        print("wrote \(outURL.path) (\(result.rows.count) rows, \(formatFixed(result.wallSeconds["total"] ?? 0, decimals: 1)) s)")
        for line in TrainOutputs.summary(result.rows, config: config).lines { print(line) }
    }
}
