import Foundation
import ArgumentParser
import Linalg
import TestSupport
import Testing
import Transformer
@testable import sftrl

/// Parsing of the `lm` and text commands (`lm bench`, `task`, `train`-side text options).

// MARK: - LMBenchCommandTests

/// `sftrl lm bench`: bad input exits with status 2 before any work and writes no file; a small
/// run writes one flat JSON object (one pandas row) with the documented keys.
@Suite("lm bench command")
struct LMBenchCommandTests {
    /// The exit status `SFTRL.main` gives an error (usage and input errors 2, others 1).
    static func status(_ error: Error) -> Int32 { SFTRL.exitStatus(for: error) }

    /// The exit status of running `body` (0 when it returns).
    static func exitStatus(_ body: () throws -> Void) -> Int32 {
        do { try body(); return 0 } catch { return SFTRL.exitStatus(for: error) }
    }

    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sftrl-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Options small enough for a test (a run of well under a second).
    static let quick = ["--batch", "2", "--length", "8", "--steps", "1", "--warmup-steps", "0",
                        "--forward-length", "4", "--forward-repeats", "1", "--decode-tokens", "2",
                        "--peak-size", "64", "--threads", "\(BLASThreads.current)"]

    @Test func badInputExitsWithStatus2AndWritesNothing() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("bench.json").path
        let bad = dir.appendingPathComponent("bad.json")
        try #"{"vocab_size": 10, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 3, "num_key_value_heads": 2}"#
            .write(to: bad, atomically: true, encoding: .utf8)
        let broken = dir.appendingPathComponent("broken.json")
        try #"{"vocab_size": 10,"#.write(to: broken, atomically: true, encoding: .utf8)
        let cases: [(args: [String], mentions: String)] = [
            (["--preset", "huge"], "--preset 'huge' is unknown"),
            (["--preset", "tiny", "--config", bad.path], "either --preset or --config"),
            (["--config", dir.appendingPathComponent("missing.json").path], "not found"),
            (["--config", bad.path], "num_attention_heads"),
            (["--config", broken.path], "--config"),
            (["--batch", "0"], "--batch 0 is out of range"),
            (["--length", "-3"], "--length -3 is out of range"),
            (["--steps", "0"], "--steps 0 is out of range"),
            (["--warmup-steps", "-1"], "--warmup-steps -1 is out of range"),
            (["--threads", "0"], "--threads 0 is out of range"),
            (["--peak-size", "0"], "--peak-size 0 is out of range"),
            (["--forward-repeats", "0"], "--forward-repeats 0 is out of range"),
            (["--decode-tokens", "0"], "--decode-tokens 0 is out of range"),
            (["--length", "2000"], "max_position_embeddings"),
            (["--phases", "train,sleep"], "'sleep' is not a phase"),
            (["--batch", "1000000000"], "--batch 1000000000 is out of range"),
            (["--batch", "1000000"], "needs about"),
            (["--weights", "int4"], "--weights"),
            (["--weights", "bf16", "--phases", "forward,train"], "inference only"),
        ]
        for c in cases {
            let args = joiningNegativeNumbers(["lm", "bench"] + c.args + ["--json", out])
            do {
                var cmd = try SFTRL.parseAsRoot(args)
                try cmd.run()
                Issue.record("accepted: \(c.args)")
            } catch {
                #expect(Self.status(error) == 2, "\(c.args): \(error)")
                let message = SFTRL.message(for: error)
                #expect(message.contains(c.mentions), "\(c.args): \(message)")
            }
            #expect(!FileManager.default.fileExists(atPath: out), "\(c.args) wrote \(out)")
        }
        // Output paths are checked before any work.
        for (path, mentions) in [(dir.appendingPathComponent("no/such/folder.json").path, "does not exist"),
                                 (dir.path, "is a folder"), ("", "empty")] {
            do {
                _ = try SFTRL.parseAsRoot(["lm", "bench", "--json", path])
                Issue.record("--json \(path) accepted")
            } catch {
                #expect(Self.status(error) == 2)
                #expect(SFTRL.message(for: error).contains(mentions), "\(SFTRL.message(for: error))")
            }
        }
    }

    @Test func aSmallRunWritesOneFlatRow() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("bench.json")
        var cmd = try SFTRL.parseAsRoot(["lm", "bench", "--preset", "tiny", "--json", out.path] + Self.quick)
        try cmd.run()
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any]
        let row = try #require(object)
        for key in ["train_tokens_per_second", "forward_tokens_per_second", "decode_tokens_per_second",
                    "sgemm_peak_gflops", "train_share_of_sgemm_peak", "forward_share_of_sgemm_peak",
                    "peak_rss_mib", "train_peak_rss_mib", "forward_peak_rss_mib", "decode_peak_rss_mib",
                    "read_bandwidth_gbs", "forward_share_of_read_bandwidth", "decode_share_of_read_bandwidth"] {
            let v = try #require(row[key] as? Double, "\(key) missing or not a number")
            #expect(v > 0 && v.isFinite, "\(key) = \(v)")
        }
        // Flat: no nested objects or arrays (one pandas row).
        #expect(row.values.allSatisfy { !($0 is [Any]) && !($0 is [String: Any]) })
        #expect(row["model"] as? String == "tiny" && row["parameters"] as? Int == Qwen3Config.tiny.parameterCount)
        #expect(row["train_batch"] as? Int == 2 && row["train_length"] as? Int == 8)
        // The kernel that ran and the load it ran under are recorded.
        #expect((row["blas_kernel"] as? String ?? "").contains("core "), "\(row["blas_kernel"] ?? "nil")")
        #expect(row["load_average_start"] is Double && row["load_average_end"] is Double)
    }

    @Test func aConfigFileAndSkippedPhases() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json")
        try Qwen3Config.tiny.jsonData().write(to: config)
        let out = dir.appendingPathComponent("bench.json")
        var cmd = try SFTRL.parseAsRoot(["lm", "bench", "--threads", "1", "--config", dir.path, "--phases", "forward",
                                         "--json", out.path] + Self.quick)
        try cmd.run()
        let row = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any])
        #expect((row["forward_tokens_per_second"] as? Double ?? 0) > 0)
        #expect(row["train_tokens_per_second"] is NSNull && row["decode_tokens_per_second"] is NSNull)
        #expect(row["model"] as? String == dir.path)
    }

    /// BF16 storage: no train phase by default, half the weight bytes of f32 for the matrices.
    @Test func bf16WeightsRunForwardAndDecodeOnly() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rows: [String: [String: Any]] = [:]
        for w in ["f32", "bf16"] {
            let out = dir.appendingPathComponent("\(w).json")
            var cmd = try SFTRL.parseAsRoot(["lm", "bench", "--preset", "tiny", "--weights", w, "--json", out.path] + Self.quick)
            try cmd.run()
            rows[w] = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any])
        }
        let f = try #require(rows["f32"]), b = try #require(rows["bf16"])
        #expect(f["weights"] as? String == "f32" && b["weights"] as? String == "bf16")
        #expect(f["skinny_kernel_vectorised"] as? Bool == SkinnyLinear.vectorised)
        #expect((b["decode_tokens_per_second"] as? Double ?? 0) > 0 && (b["forward_tokens_per_second"] as? Double ?? 0) > 0)
        #expect(b["train_tokens_per_second"] is NSNull && (f["train_tokens_per_second"] as? Double ?? 0) > 0)
        let wf = try #require(f["weight_mib"] as? Double), wb = try #require(b["weight_mib"] as? Double)
        #expect(wb < 0.55 * wf && wb > 0.45 * wf, "bf16 \(wb) MiB against f32 \(wf) MiB")
    }

    @Test func presetsAndDefaults() throws {
        #expect(Qwen3Config.small.parameterCount == 3_410_688)
        let big = LMBenchmarkSettings.defaults(for: .qwen3_0_6b)
        #expect(big.batch == 1 && big.length == 16 && big.steps == 2)
        let small = LMBenchmarkSettings.defaults(for: .small)
        #expect(small.batch == 8 && small.length == 128 && small.steps == 20 && small.warmupSteps == 2)
    }
}

// MARK: - TextCommandTests

/// A path that does not exist yet, in a fresh temporary folder.
private func scratch(_ tag: String) throws -> URL { try makeTemporaryDirectory("textcmd-\(tag)").appendingPathComponent("out") }

@Suite struct TextCommandTests {
    @Test func taskExportWritesEveryFormat() throws {
        let out = try scratch("export")
        var cmd = try TaskCommand.Export.parse(["--out", out.path, "--train-size", "20"])
        try cmd.run()
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["rl-test.jsonl", "rl-train.jsonl", "sft-test.jsonl", "sft-train-messages.jsonl", "sft-train.jsonl", "test.tsv", "train.tsv"])
        let tsv = try String(contentsOf: out.appendingPathComponent("train.tsv"), encoding: .utf8)
        #expect(tsv.split(separator: "\n").count == 20 && tsv.split(separator: "\n").allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 4 })
        // A second export into the now non-empty folder is refused with status 2.
        var again = try TaskCommand.Export.parse(["--out", out.path])
        #expect(LMBenchCommandTests.exitStatus { try again.run() } == 2)
    }

    @Test func badOptionsExitTwoAndWriteNothing() throws {
        let out = try scratch("bad")
        var cmd = try TaskCommand.Export.parse(["--out", out.path, "--sft-label-noise", "1.5"])
        #expect(LMBenchCommandTests.exitStatus { try cmd.run() } == 2)
        #expect(!FileManager.default.fileExists(atPath: out.path))
        var gen = try LMCommand.Generate.parse(["--model", "/nonexistent", "--prompt", "x", "--temperature", "0", "--threads", "1"])
        #expect(LMBenchCommandTests.exitStatus { try gen.run() } == 2)
        var tok = try LMCommand.Tokenize.parse(["--model", "/nonexistent", "--text", "x", "--decode", "1"])
        #expect(LMBenchCommandTests.exitStatus { try tok.run() } == 2)
    }
}
