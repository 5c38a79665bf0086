import ArgumentParser
import Foundation
import Linalg
import Reports
import Training
import Transformer

/// `sftrl probe`: the paper's observables at a checkpoint (Training.Probe).
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Measure the paper's observables at a checkpoint: SFT loss, mean@1 reward, gradient cosine, curvature, and the predicted vs measured SFT-loss change of one RL step.",
        discussion: """
        For each of --batches batches: the token-mean SFT loss and the sequence NLL (Lemma 1), the
        mean@1 reward (temperature 0.6, top_p 0.95, robust parser), the SFT gradient g_S, a
        policy-gradient estimate g_J of ∇J (--num-generations samples per prompt, group-mean
        baseline), cos(−g_S, g_J), the curvature g_Jᵀ H_S g_J (central difference of g_S), and
        after the step θ + η g_J the predicted SFT-loss change η g_Sᵀ g_J (first order; plus
        ½η² g_Jᵀ H_S g_J, second order) against the measured one. Prints JSON: per-batch values
        and mean with a 95% interval over batches. --beta is recorded only: the KL term's
        gradient vanishes at the reference (the checkpoint itself).
        Memory: 4 parameter-sized vectors (weights, gradients, ĝ_J in Float32; θ in Float32, or bfloat16 when exactly bfloat16) plus one micro-batch's activations and logits (docs/text.md).
        """)
    @Option(help: "The Hugging Face Qwen3 folder (config.json, model.safetensors, tokenizer.json).") var model: String
    @Option(help: "SFT data: CoLA .tsv or TRL .jsonl with completions.") var sftData: String
    @Option(help: "RL data: CoLA .tsv or TRL .jsonl with labels.") var rlData: String
    @Option(help: "The RL reward: label-words[:POS,NEG], exact-match or regex:PATTERN (see sftrl train --help).") var reward = "label-words"
    @Option(help: "KL coefficient β (recorded; no effect at the reference).") var beta = 0.0
    @Option(help: "Step size η of the RL step.") var eta = 1e-2
    @Option(help: "Batches (the intervals are over these).") var batches = 4
    @Option(help: "SFT pairs per batch.") var sftBatchSize = 8
    @Option(help: "RL prompts per batch (also the mean@1 prompts).") var prompts = 4
    @Option(help: "Samples per RL prompt (G).") var numGenerations = 4
    @Option(help: "Most new tokens per sample.") var maxNewTokens = 4
    @Option(help: "Finite-difference step h of the Hessian-vector product (along the unit RL direction).") var hessianStep = 1e-3
    @Option(help: "Seed of the samples.") var seed: UInt64 = 0
    @Option(name: [.customLong("threads"), .customLong("blas-threads")], help: "BLAS threads (--blas-threads is an alias).") var blasThreads = 1
    @Option(help: "Rows per forward/backward pass, gradients accumulated over them (0: whole batches).") var microBatch = 2
    @Flag(help: "Print the wall time and peak resident memory (getrusage) on stderr at the end.") var stats = false

    func validate() throws {
        try Bounds.check([("--batches", batches, Bounds.items), ("--sft-batch-size", sftBatchSize, Bounds.items),
                          ("--prompts", prompts, Bounds.items), ("--num-generations", numGenerations, 2...Bounds.items.upperBound),
                          ("--max-new-tokens", maxNewTokens, Bounds.tokens), ("--threads", blasThreads, Bounds.threads),
                          ("--micro-batch", microBatch, 0...Bounds.items.upperBound)])
    }

    mutating func run() throws {
        let start = LMBenchmark.now()
        if !(eta > 0 && eta.isFinite) { throw UserInputError("--eta is \(eta); expected a positive number") }
        if !(hessianStep > 0 && hessianStep.isFinite) { throw UserInputError("--hessian-step is \(hessianStep); expected a positive number") }
        if !(beta >= 0 && beta.isFinite) { throw UserInputError("--beta is \(beta); expected β ≥ 0") }
        let rewardSpec: TextReward
        switch TextReward.parse(reward) {
        case .success(let r): rewardSpec = r
        case .failure(let e): throw UserInputError("--reward \(e)")
        }
        let dir = URL(fileURLWithPath: model)
        let tm: TextModel
        do { tm = try TextModel(directory: dir) } catch { throw UserInputError("--model \(model): \(error)") }
        guard let eos = TextModel.primaryEosTokenId(directory: dir) else { throw UserInputError("--model \(model): no eos_token_id") }
        let sftRows: [TextExample], rlRows: [TextExample]
        do {
            sftRows = try TextDataset.load(URL(fileURLWithPath: sftData))
            rlRows = try TextDataset.load(URL(fileURLWithPath: rlData))
        } catch let e as DataError { throw UserInputError("\(e)") }
        BLASThreads.set(blasThreads)
        let ctx = tm.model.config.maxPositionEmbeddings
        if maxNewTokens >= ctx { throw UserInputError("--max-new-tokens \(maxNewTokens) leaves no room for a prompt in the model's max_position_embeddings (\(ctx))") }
        let text = TextTask(tokenizer: tm.tokenizer, stopTokens: tm.eosTokenIds, eos: eos, maxLength: min(1024, ctx), maxPromptLength: min(512, ctx - maxNewTokens))
        let pairs = text.sftPairs(sftRows)
        if let why = rewardSpec.unearnableReason(rlRows, option: "--rl-data \(rlData)") { throw UserInputError(why) }
        let rl = text.rlPrompts(rlRows, strict: true, reward: rewardSpec), ev = text.rlPrompts(rlRows, strict: false, reward: rewardSpec)
        if pairs.isEmpty { throw UserInputError("--sft-data \(sftData) has no rows with a completion") }
        if rl.prompts.isEmpty { throw UserInputError("--rl-data \(rlData) has no rows for --reward \(rewardSpec)") }
        var c = ProbeConfig()
        c.batches = batches; c.sftBatchSize = sftBatchSize; c.promptsPerBatch = prompts
        c.numGenerations = numGenerations; c.maxNewTokens = maxNewTokens; c.eta = eta; c.beta = beta
        c.hessianStep = hessianStep; c.evalSampling.maxNewTokens = maxNewTokens; c.microBatch = microBatch
        let progress = ProgressReporter(total: batches, label: "probe", quiet: false)
        let report = Probe.run(tm.model, sftPairs: pairs, rl: rl, evaluation: ev, config: c, seed: seed) { _ in progress.advance(status: "") }
        progress.finish()
        // snake_case keys, like every other command's JSON (sft_loss, rl_grad_norm, predicted_first_order, …).
        let encoder = makeJSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        FileHandle.standardOutput.write(try encoder.encode(report) + Data([0x0A]))
        if stats { FileHandle.standardError.write(Data(String(format: "probe: %.1f s wall, peak RSS %.0f MiB\n", LMBenchmark.now() - start, LMBenchmark.peakRSSMiB()).utf8)) }
    }
}
