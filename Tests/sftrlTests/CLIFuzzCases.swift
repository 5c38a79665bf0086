import Foundation
import Linalg

/// The malformed invocations of the CLI fuzz suite (issue 13): every command and subcommand,
/// generated from one seed. Each case is refused by validation before any work, so a case that is
/// accepted runs into the per-invocation time limit and fails the suite.
struct CLIFuzzCase: CustomStringConvertible, Sendable {
    /// The arguments after `sftrl`; `@F` stands for the fixtures folder.
    var args: [String]
    /// Words of which stderr must contain at least one (the option or field at fault).
    var names: [String]
    var description: String { "sftrl " + args.map { $0.isEmpty ? "''" : $0 }.joined(separator: " ") }
}

/// The kinds of option value, each with values that every option of the kind refuses.
enum BadValues {
    /// Whole numbers ≥ 1.
    static let count = ["0", "-1", "-7", "1.5", "abc", "", "nan", "1e3", "99999999999999999999"]
    /// Whole numbers ≥ 0.
    static let countOrZero = ["-1", "-3", "2.5", "abc", "", "nan", "99999999999999999999"]
    /// Whole numbers ≥ 2.
    static let atLeastTwo = ["1", "0", "-2", "x", "", "3.5"]
    /// Finite numbers > 0.
    static let positive = ["0", "-1", "-1e-3", "-.5", "nan", "NaN", "inf", "1e400", "abc", "", "0x"]
    /// Finite numbers ≥ 0.
    static let nonNegative = ["-1", "-1e-9", "nan", "inf", "1e400", "abc", ""]
    /// Numbers in [0, 1].
    static let probability = ["-0.1", "1.5", "2", "nan", "inf", "abc", ""]
    /// Integration tolerances: ≥ 0, finite, below 1.
    static let tolerance = ["-1", "-1e-8", "nan", "inf", "1", "10", "1e400", "x", ""]
    /// Seeds (0 … 2⁶⁴ − 1).
    static let seed = ["-1", "abc", "", "1.5", "18446744073709551616", "nan"]
    /// Names of an enumeration.
    static let enumeration = ["bogus", "", "x y", "SFT-RL!"]
    /// A file to write (relative to the case's working folder: `adir` exists, `afile` is a file).
    static let outFile = ["", "adir", "afile/r.json", "missing/r.json", "."]
    /// A folder to create or fill.
    static let outFolder = ["", "afile", "afile/sub"]
}

/// A command line valid except for one option, and that option's kind.
struct OptionSpec {
    var base: [String]
    var option: String
    var values: [String]
}

enum CLIFuzzCases {
    static let inst = "@F/inst.json"

    /// The bases: a minimal valid (quick) command line per command.
    static let check = ["check", "--claim", "eq5", "--instances", "1", "--quiet", "--json", "o.json"]
    static let search = ["search", "--claim", "eq5", "--restarts", "1", "--quiet", "--json", "o.json"]
    static let explain = ["explain", "eq5", "--instances", "2"]
    static let flow = ["flow", "--instance", inst, "--schedule", "sft:1", "--out", "out", "--quiet"]
    static let flowGD = ["flow", "--instance", inst, "--schedule", "sft:1", "--method", "gd", "--out", "out", "--quiet"]
    static let sampled = ["flow", "--instance", inst, "--schedule", "grpo:2", "--eta", "0.1", "--out", "out", "--quiet"]
    static let chord = ["flow", "--instance", inst, "--method", "chord", "--schedule", "2", "--eta", "0.1", "--out", "out", "--quiet"]
    static let update = ["update", "--instance", inst, "--method", "grpo", "--json", "o.json"]
    static let updateSFT = ["update", "--instance", inst, "--method", "sft-sgd", "--json", "o.json"]
    static let updateChord = ["update", "--instance", inst, "--method", "chord", "--json", "o.json"]
    static let spectrum = ["spectrum", "--instance", inst]
    static let pareto = ["pareto", "--instance", inst, "--out", "out", "--quiet", "--points", "3"]
    static let figures = ["figures", "--out", "out", "--only", "e", "--quick", "--quiet"]
    static let train = ["train", "--pipeline", "sft-rl", "--out", "out", "--quiet"]
    static let taskExport = ["task", "export", "--out", "out", "--train-size", "64"]
    static let lmInit = ["lm", "init", "--out", "out"]
    static let lmLogits = ["lm", "logits", "--preset", "tiny", "--tokens", "1,2"]
    static let lmTokenize = ["lm", "tokenize", "--model", "@F/model"]
    static let lmGenerate = ["lm", "generate", "--model", "@F/model", "--prompt", "hi"]
    static let lmBench = ["lm", "bench", "--steps", "1", "--batch", "1", "--length", "4"]
    static let probe = ["probe", "--model", "@F/model", "--sft-data", "@F/sft.tsv", "--rl-data", "@F/rl.tsv"]
    static let merge = ["merge", "@F/report.json", "--out", "o.json"]

    /// Every option of every command with the values it refuses.
    static let options: [OptionSpec] = {
        typealias B = BadValues
        var o: [OptionSpec] = []
        func add(_ base: [String], _ option: String, _ values: [String]) { o.append(OptionSpec(base: base, option: option, values: values)) }
        // check
        add(check, "--instances", B.count + ["1000000000000"]); add(check, "--seed", B.seed); add(check, "--threads", B.count)
        add(check, "--shard", ["3/2", "0/0", "x/y", "1", "", "-1/2", "1/-2"]); add(check, "--claim", B.enumeration)
        add(check, "--drop", B.enumeration); add(check, "--json", B.outFile); add(check, "--markdown", B.outFile)
        // search
        add(search, "--restarts", B.count + ["1000000000000"]); add(search, "--budget-evals", B.count); add(search, "--budget-seconds", B.positive)
        add(search, "--candidates", B.count); add(search, "--seed", B.seed); add(search, "--threads", B.count)
        add(search, "--shard", ["5/5", "x", ""]); add(search, "--out", B.outFile); add(search, "--out-dir", B.outFolder)
        add(search, "--json", B.outFile); add(search, "--claim", B.enumeration); add(search, "--drop", B.enumeration)
        // explain
        add(explain, "--instances", B.count + ["1000000000000"]); add(explain, "--seed", B.seed)
        // flow (exact, gradient steps, sampled, chord)
        add(flow, "--samples", B.atLeastTwo); add(flow, "--rtol", B.tolerance); add(flow, "--atol", B.tolerance)
        add(flow, "--max-steps", B.count); add(flow, "--method", B.enumeration); add(flow, "--stepper", B.enumeration)
        add(flow, "--output-steps", B.enumeration); add(flow, "--norm", B.enumeration)
        add(flow, "--event", ["x", "sft_loss=abc", "nope=1", "=1", "sft_loss=nan", ""]); add(flow, "--out", B.outFolder)
        add(flow, "--eta", ["0.1"])   // --eta without --method gd
        add(flowGD, "--eta", B.positive)
        add(sampled, "--seeds", B.count); add(sampled, "--every", B.count); add(sampled, "--group-size", B.count)
        add(sampled, "--batch-size", B.count); add(sampled, "--optimizer", B.enumeration); add(sampled, "--scaling", B.enumeration)
        add(sampled, "--epsilon", B.nonNegative); add(sampled, "--epsilon-high", B.nonNegative); add(sampled, "--inner-iterations", B.count)
        add(sampled, "--kl-coef", B.nonNegative); add(sampled, "--kl-estimator", B.enumeration); add(sampled, "--aggregation", B.enumeration); add(sampled, "--kl-placement", B.enumeration)
        add(sampled, "--eta", B.positive); add(sampled, "--seed", B.seed); add(sampled, "--out", B.outFolder)
        add(chord, "--mix", B.probability)
        // update
        add(update, "--eta", B.positive); add(update, "--group-size", B.count); add(updateSFT, "--batch-size", B.count)
        add(update, "--optimizer", B.enumeration); add(update, "--scaling", B.enumeration); add(update, "--epsilon", B.nonNegative)
        add(update, "--epsilon-high", B.nonNegative); add(update, "--inner-iterations", B.count); add(update, "--kl-coef", B.nonNegative)
        add(update, "--kl-estimator", B.enumeration); add(update, "--aggregation", B.enumeration); add(update, "--kl-placement", B.enumeration); add(updateChord, "--mix", B.probability)
        add(update, "--monte-carlo", ["1", "0", "-1", "x", "", "1000000000000"]); add(update, "--seed", B.seed); add(update, "--json", B.outFile)
        add(update, "--method", B.enumeration)
        // spectrum, pareto, figures
        add(spectrum, "--at", B.enumeration)
        add(pareto, "--points", B.atLeastTwo); add(pareto, "--duration", B.positive); add(pareto, "--alternations", B.count + ["1000000000"])
        add(pareto, "--mix", ["2", "-0.5", "0.2,,0.3", "abc", "nan", ",", "0.5,"]); add(pareto, "--samples", B.atLeastTwo)
        add(pareto, "--rtol", B.tolerance); add(pareto, "--atol", B.tolerance); add(pareto, "--out", B.outFolder)
        add(figures, "--only", ["z", "", "a,,b", "aa", "y"]); add(figures, "--out", B.outFolder)
        // train (the synthetic pipeline)
        add(train, "--seed", B.seed); add(train, "--data-seed", B.seed); add(train, "--rl-steps", B.countOrZero)
        add(train, "--pretrain-steps", B.countOrZero); add(train, "--sft-epochs", B.countOrZero)
        add(train, "--sft-lr", B.positive); add(train, "--rl-lr", B.positive); add(train, "--pretrain-lr", B.positive)
        add(train, "--temperature", B.positive); add(train, "--top-p", ["0", "-0.5", "1.5", "nan", "x"])
        add(train, "--epsilon", ["0", "1", "-0.1", "nan", "x"]); add(train, "--beta", B.nonNegative)
        add(train, "--group-size", B.atLeastTwo); add(train, "--num-iterations", B.count)
        add(train, "--prompts-per-step", B.count); add(train, "--max-completion-length", B.count)
        add(train, "--train-size", B.count + ["100000000000"]); add(train, "--sft-label-noise", B.probability)
        add(train, "--pretrain-text-fraction", B.probability); add(train, "--sft-batch-size", B.count)
        add(train, "--eval-prompts", B.count + ["257"]); add(train, "--threads", B.count)
        add(train, "--pipeline", B.enumeration); add(train, "--preset", B.enumeration); add(train, "--kl-estimator", B.enumeration)
        add(train, "--aggregation", B.enumeration); add(train, "--scaling", B.enumeration); add(train, "--kl-placement", B.enumeration); add(train, "--lr-scheduler", B.enumeration)
        add(train, "--out", B.outFolder + ["full"]); add(train, "--base", ["@F/missing", "@F/inst.json", ""])
        // task export
        add(taskExport, "--train-size", B.count + ["100000000000"]); add(taskExport, "--sft-label-noise", B.probability)
        add(taskExport, "--data-seed", B.seed); add(taskExport, "--out", B.outFolder + ["full"])
        // lm
        add(lmInit, "--preset", B.enumeration); add(lmInit, "--dtype", B.enumeration + ["F64"]); add(lmInit, "--seed", B.seed)
        add(lmInit, "--out", B.outFolder + ["full"])
        add(lmLogits, "--tokens", ["", "x", "1,-2", "1;;2", "99999", "1.5", ";"]); add(lmLogits, "--top-k", B.count)
        add(lmLogits, "--seed", B.seed); add(lmLogits, "--preset", B.enumeration); add(lmLogits, "--threads", B.count)
        add(lmTokenize, "--decode", ["x", "-1", "1.5"]); add(lmTokenize, "--text-file", ["@F/missing.txt", "@F/adir"])
        add(lmGenerate, "--max-new-tokens", B.count); add(lmGenerate, "--temperature", B.nonNegative)
        add(lmGenerate, "--top-p", ["0", "1.5", "nan", "x"]); add(lmGenerate, "--seed", B.seed); add(lmGenerate, "--threads", B.count)
        add(lmBench, "--batch", B.count); add(lmBench, "--length", B.count); add(lmBench, "--steps", B.count)
        add(lmBench, "--threads", B.count); add(lmBench, "--forward-repeats", B.count); add(lmBench, "--peak-size", B.count)
        add(lmBench, "--forward-length", B.count); add(lmBench, "--decode-tokens", B.count); add(lmBench, "--warmup-steps", B.countOrZero)
        add(lmBench, "--weights", B.enumeration); add(lmBench, "--phases", B.enumeration)
        add(lmBench, "--preset", B.enumeration); add(lmBench, "--seed", B.seed)
        // probe
        add(probe, "--beta", B.nonNegative); add(probe, "--eta", B.positive); add(probe, "--batches", B.count)
        add(probe, "--prompts", B.count); add(probe, "--hessian-step", B.positive); add(probe, "--num-generations", B.atLeastTwo)
        add(probe, "--max-new-tokens", B.count); add(probe, "--threads", B.count); add(probe, "--sft-batch-size", B.count)
        add(probe, "--seed", B.seed); add(probe, "--micro-batch", B.countOrZero)
        add(probe, "--reward", ["", "exact", "regex:", "label-words:a", "label-words:a,a", "regex:(?<=a)b", "regex:(a"])
        add(train, "--reward", ["exact-match", "regex:x"])      // without --model: the synthetic task has its own reward
        add(lmGenerate, "--prompt-file", ["@F/missing.txt", "@F/adir"])
        // merge
        add(merge, "--out", B.outFile)
        return o
    }()

    /// Broken schedules for `flow --schedule` and `pareto --schedule`, and broken sampled ones.
    static func brokenSchedule(_ g: inout SeededGenerator) -> String {
        let kinds = ["sft", "rl", "mix", "grpo", "bogus", "", "SFT"]
        let numbers = ["-1", "0", "nan", "inf", "1e400", "x", "", "-0", "2:3", "1,5"]
        switch g.int(0...7) {
        case 0: return "\(g.pick(["sft", "rl"])):\(g.pick(numbers))"
        case 1: return "mix:\(g.pick(["-0.5", "1.5", "nan", "x", ""])):\(g.pick(["1", "2"]))"
        case 2: return "mix:0.5:\(g.pick(numbers))"
        case 3: return "sft:1,\(g.pick(["", " ", ",", "rl"]))"
        case 4: return g.pick(["", ",", "sft", "rl:", ":1", "mix:0.5", "sft:1:2", "sft:1,,rl:1"])
        case 5: return "\(g.pick(kinds)):1:\(g.pick(numbers)):9"
        case 6: return "sft:1e308,rl:1e308"
        default: return "\(g.pick(["sft:1", "rl:2"])),\(g.pick(["grpo:2", "unknown:1", "mix:2:1"]))"
        }
    }

    static func brokenSampledSchedule(_ g: inout SeededGenerator) -> String {
        switch g.int(0...4) {
        case 0: return "\(g.pick(["grpo", "sft-sgd", "reinforce"])):\(g.pick(["0", "-1", "1.5", "x", "", "1e12"]))"
        case 1: return "chord:\(g.pick(["2", "-1", "nan", "x"])):3"
        case 2: return "chord:0.5"
        case 3: return "grpo:3,\(g.pick(["", "sft:1", "chord:0.5", "rl:2"]))"
        default: return "grpo:2,grpo"
        }
    }

    /// The malformed config.json variants of the tiny preset's config, with the key each names.
    static func brokenConfigs(valid: String) -> [(text: String, names: [String])] {
        func set(_ key: String, _ value: String) -> String {
            var lines = valid.components(separatedBy: "\n")
            for i in lines.indices where lines[i].contains("\"\(key)\"") {
                let comma = lines[i].hasSuffix(",") ? "," : ""
                lines[i] = "  \"\(key)\" : \(value)\(comma)"
            }
            return lines.joined(separator: "\n")
        }
        func drop(_ key: String) -> String {
            var lines = valid.components(separatedBy: "\n")
            guard let i = lines.firstIndex(where: { $0.contains("\"\(key)\"") }) else { return valid }
            // The last member has no comma: the one before it loses its own.
            if !lines[i].hasSuffix(","), i > 0, lines[i - 1].hasSuffix(",") { lines[i - 1].removeLast() }
            lines.remove(at: i)
            return lines.joined(separator: "\n")
        }
        var out: [(String, [String])] = []
        for key in ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"] {
            out.append((drop(key), [key]))
            out.append((set(key, "\"x\""), [key]))
            out.append((set(key, "1.5"), [key]))
            out.append((set(key, "-1"), [key]))
            out.append((set(key, "NaN"), [key]))
            out.append((set(key, "1e400"), [key]))
        }
        out.append((set("num_hidden_layers", "1000000000"), ["num_hidden_layers"]))
        out.append((set("vocab_size", "1000000000000"), ["vocab_size", "shape"]))
        out.append((set("head_dim", "3"), ["head_dim"]))
        out.append((set("num_key_value_heads", "3"), ["num_key_value_heads"]))
        out.append((set("rope_theta", "-1"), ["rope_theta"]))
        out.append((set("tie_word_embeddings", "\"yes\""), ["tie_word_embeddings"]))
        out.append((set("hidden_act", "\"gelu\""), ["hidden_act"]))
        out.append((valid.replacingOccurrences(of: "{", with: "{\n  \"vocab_size\" : 5,", options: [], range: valid.range(of: "{")), ["vocab_size"]))
        out.append(("", ["empty"]))
        out.append(("[1, 2]", ["object", "array"]))
        out.append(("null", ["object", "null"]))
        out.append((String(valid.prefix(valid.count / 2)), ["line"]))
        return out
    }

    /// Malformed data files (TRL JSONL, CoLA TSV), with the words their errors must contain.
    static let brokenData: [(name: String, names: [String])] = [
        ("dup.jsonl", ["duplicate"]), ("nan.jsonl", ["NaN"]), ("notjson.jsonl", ["line 1"]), ("nokeys.jsonl", ["prompt"]),
        ("badlabel.jsonl", ["label"]), ("short.tsv", ["columns"]), ("adir", ["folder"]), ("missing.jsonl", ["missing.jsonl"]),
    ]
    static let brokenDataTexts: [String: String] = [
        "dup.jsonl": #"{"prompt": "a", "completion": " b", "prompt": "c"}"# + "\n",
        "nan.jsonl": #"{"prompt": "a", "label": NaN}"# + "\n",
        "notjson.jsonl": "{\"prompt\": \"a\", \n",
        "nokeys.jsonl": #"{"text": "a"}"# + "\n",
        "badlabel.jsonl": #"{"prompt": "a", "label": "maybe"}"# + "\n",
        "short.tsv": "a\tb\n",
    ]

    /// Malformed tokenizer.json files (each in a folder with the text model's config and weights).
    static let brokenTokenizers: [(text: String, names: [String])] = [
        ("", ["tokenizer.json"]), (#"{"model": 1"#, ["line"]), ("[1, 2]", ["object"]), (#"{"model": {"type": "Unigram"}}"#, ["Unigram"]),
        (#"{"model": {"type": "BPE", "vocab": 5}}"#, ["vocab"]), (#"{"x": 1, "x": 2}"#, ["tokenizer.json"]),
    ]

    /// Malformed instance files, each with the words its error must contain (the file's name at least).
    static let brokenInstances: [(name: String, text: String, names: [String])] = [
        ("unknown-key.json", #"{"beta": 0.3, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0], "refernce": [0.5, 0.5]}]}"#, ["refernce"]),
        ("nan.json", #"{"beta": NaN, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0]}]}"#, ["beta"]),
        ("overflow.json", #"{"beta": 0.3, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1e400, 0]}]}"#, ["reward"]),
        ("duplicate.json", #"{"beta": 0.3, "beta": 1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0]}]}"#, ["beta"]),
        ("truncated.json", #"{"beta": 0.3, "policy": {"kind": "tab"#, ["line"]),
        ("empty.json", "", ["empty"]),
        ("not-simplex.json", #"{"beta": 0.3, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.7, 0.7], "reward": [1, 0]}]}"#, ["data"]),
        ("negative-beta.json", #"{"beta": -1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0]}]}"#, ["beta"]),
        ("no-prompts.json", #"{"beta": 0.3, "policy": {"kind": "tabular"}, "prompts": []}"#, ["prompt"]),
        ("wrong-type.json", #"{"beta": "x", "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0]}]}"#, ["beta"]),
        ("bare-report.json", #"{"version": "0.1.0", "seed": 1, "claims": []}"#, ["bare-report.json"]),
    ]

    /// Replay files of the right shape naming a family that is not one of `Family.all`: the error
    /// names the file, the bad id and the known families.
    static let brokenReplays: [(name: String, text: String, names: [String])] = [
        ("unknown-family.json", #"{"family": "tabular-mult", "instance": {"beta": 1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0]}]}, "parameters": {}}"#,
         ["unknown-family.json", "tabular-mult", "tabular-multi", "quadratic-isotropic"]),
    ]

    /// Every case of one run: the option table (each option with a few of its bad values, chosen by
    /// the seed), broken schedules, configs, instances, output-path clashes and unknown options.
    static func all(seed: UInt64, validConfig: String) -> (cases: [CLIFuzzCase], configs: [(text: String, names: [String])]) {
        var g = SeededGenerator.derived(seed: seed, label: "cli-fuzz")
        var cases: [CLIFuzzCase] = []
        func add(_ args: [String], _ names: [String]) { cases.append(CLIFuzzCase(args: args, names: names)) }
        for spec in options {
            // Up to three distinct values per option, in a seeded order (every value over a few seeds).
            var values = spec.values
            g.shuffle(&values)
            for v in values.prefix(3) {
                var args = spec.base
                if let i = args.firstIndex(of: spec.option) { args.remove(at: i); args.remove(at: i) }
                args += [spec.option, v]
                add(args, [spec.option])
            }
        }
        for _ in 0..<24 { add(["flow", "--instance", inst, "--schedule", brokenSchedule(&g), "--out", "out", "--quiet"], ["--schedule"]) }
        for _ in 0..<8 { add(["pareto", "--instance", inst, "--schedule", brokenSchedule(&g), "--out", "out", "--quiet"], ["--schedule"]) }
        for _ in 0..<12 { add(["flow", "--instance", inst, "--schedule", brokenSampledSchedule(&g), "--eta", "0.1", "--out", "out", "--quiet"], ["--schedule"]) }
        add(["flow", "--instance", inst, "--schedule", "grpo:100000000", "--eta", "0.1", "--out", "out"], ["--max-steps"])
        add(["flow", "--instance", inst, "--schedule", "grpo:1000", "--seeds", "5000", "--eta", "0.1", "--out", "out"], ["--max-steps"])
        add(["flow", "--instance", inst, "--method", "reinforce", "--schedule", "2000000", "--eta", "0.1", "--out", "out"], ["--max-steps"])
        for (k, v) in [("grpo", "x"), ("chord", "0"), ("sft-sgd", "-3"), ("reinforce", "1.5")] {
            add(["flow", "--instance", inst, "--method", k, "--schedule", v, "--eta", "0.1", "--out", "out"], ["--schedule"])
        }
        // Broken instances, given to every command that reads one.
        for b in brokenInstances {
            let path = "@F/\(b.name)"
            let names = b.names + [b.name]
            add(["flow", "--instance", path, "--schedule", "sft:1", "--out", "out"], names)
            add(["update", "--instance", path, "--method", "grpo", "--json", "o.json"], names)
            add(["spectrum", "--instance", path], names)
            add(["pareto", "--instance", path, "--out", "out"], names)
            add(["check", "--claim", "eq5", "--replay", path], [b.name])
        }
        for b in brokenReplays { add(["check", "--claim", "eq5", "--replay", "@F/\(b.name)"], b.names) }
        for cmd in [flow, update, spectrum, pareto] {
            var args = cmd
            let i = args.firstIndex(of: "--instance")!
            args[i + 1] = g.pick(["@F/missing.json", "@F/adir", ""])
            add(args, ["--instance", "instance"])
        }
        add(["merge", "@F/missing.json", "--out", "o.json"], ["missing.json"])
        add(["merge", "@F/inst.json", "--out", "o.json"], ["inst.json"])
        add(["merge", "@F/adir", "--out", "o.json"], ["adir"])
        add(["merge", "@F/report.json", "--out", "@F/report.json"], ["--out"])
        // Broken config.json files (each folder also holds the tiny model's weights).
        let configs = brokenConfigs(valid: validConfig)
        for (k, c) in configs.enumerated() {
            let cmd = g.pick([["lm", "logits", "--model", "@F/cfg-\(k)", "--tokens", "1"],
                              ["train", "--pipeline", "sft-rl", "--out", "out", "--base", "@F/cfg-\(k)"]])
            add(cmd, c.names)
        }
        // Broken data files for the text path, and broken tokenizer.json files.
        for (name, words) in brokenData {
            add(["train", "--pipeline", "sft-rl", "--model", "@F/model", "--data", "@F/\(name)", "--out", "out"], words + [name])
            add(["probe", "--model", "@F/model", "--sft-data", "@F/\(name)", "--rl-data", "@F/rl.tsv"], words + [name])
        }
        for (k, t) in brokenTokenizers.enumerated() {
            add(["lm", "tokenize", "--model", "@F/tok-\(k)", "--text", "hi"], t.names)
        }
        // Two options naming the same file; unknown options and subcommands.
        add(check + ["--markdown", "./o.json"], ["--json", "--markdown"])
        add(search + ["--out", "o.json"], ["--out", "--json"])
        for base in [check, search, explain, flow, update, spectrum, pareto, figures, train, taskExport, lmInit, lmLogits, lmBench, probe, merge] {
            let unknown = g.pick(["--bogus", "--instnace", "--out-file", "--Seed", "-z"])
            add(base + [unknown], [unknown])
        }
        add(["bogus"], ["bogus"])
        add(["lm", "bogus"], ["bogus"])
        add(["task", "bogus"], ["bogus"])
        add(["train", "--out", "out"], ["--pipeline"])
        add(["flow", "--instance", inst, "--out", "out"], ["--schedule"])
        return (cases, configs)
    }
}
