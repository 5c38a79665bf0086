import Foundation

/// The second round's fuzz classes (issue 24), generated from the first round's option table:
/// every integer option of every command at the extremes a hostile user types, and the derived
/// sizes built from them. Each case must exit 2 naming the option, at once, with no output.
enum HardeningFuzzCases {
    /// 2³¹, 2⁵³, 2⁶³ − 1 and a large negative number: above every bound, or below every one.
    static let extremes = ["2147483648", "9007199254740992", "9223372036854775807", "-9223372036854775807"]

    /// The options whose refused values are those of a count (whole numbers ≥ 0, 1 or 2).
    static var integerOptions: [OptionSpec] {
        let kinds = [BadValues.count, BadValues.countOrZero, BadValues.atLeastTwo]
        var specs = CLIFuzzCases.options.filter { spec in kinds.contains { spec.values.starts(with: $0) } }
        let c = CLIFuzzCases.self
        specs.append(OptionSpec(base: c.update, option: "--monte-carlo", values: []))
        specs.append(OptionSpec(base: c.pareto, option: "--points", values: []))
        return specs
    }

    /// Every integer option at every extreme, and the derived sizes.
    static func all() -> [CLIFuzzCase] {
        var cases: [CLIFuzzCase] = []
        for spec in integerOptions {
            for v in extremes {
                var args = spec.base
                if let i = args.firstIndex(of: spec.option) { args.remove(at: i); args.remove(at: i) }
                args += [spec.option, v]
                cases.append(CLIFuzzCase(args: args, names: [spec.option]))
            }
        }
        let c = CLIFuzzCases.self
        // Shard counts: K/N with N = 2^63 − 1 (a sharded run and its merge walk N shards).
        for n in ["9223372036854775807", "2147483648"] {
            cases.append(CLIFuzzCase(args: c.check + ["--shard", "0/\(n)"], names: ["--shard"]))
            cases.append(CLIFuzzCase(args: c.search + ["--shard", "0/\(n)"], names: ["--shard"]))
        }
        // Sampled schedules whose step counts overflow when summed.
        let huge = "9223372036854775807"
        for s in ["grpo:\(huge),sft-sgd:\(huge)", "grpo:\(huge)"] {
            cases.append(CLIFuzzCase(args: ["flow", "--instance", c.inst, "--schedule", s, "--eta", "0.1", "--out", "out"], names: ["--schedule", "--max-steps"]))
        }
        cases.append(CLIFuzzCase(args: ["flow", "--instance", c.inst, "--method", "grpo", "--schedule", huge, "--eta", "0.1", "--out", "out"], names: ["--schedule", "--max-steps"]))
        // Products of bounded options: a GRPO step of prompts × completions.
        cases.append(CLIFuzzCase(args: c.train + ["--prompts-per-step", "100000", "--num-generations", "100000"], names: ["--prompts-per-step"]))
        return cases
    }
}
