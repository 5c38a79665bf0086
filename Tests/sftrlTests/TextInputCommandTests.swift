import Foundation
import Testing
import TestSupport

/// `lm tokenize/logits/generate` read their text from a file or standard input ('-'), `--decode ""`
/// is the empty text, and an unsupported tokenizer component exits 2 naming it.
@Suite struct TextInputCommandTests {
    static let model = repositoryRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/qwen3-text").path
    static let variants = repositoryRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/bpe-variants")
    static let text = "Hello world, it's 2026!\n中文 e\u{301}"

    /// Runs the binary through /bin/sh with `stdin` piped in.
    func runWithStdin(_ args: [String], stdin: String, in dir: URL) throws -> (status: Int32, stdout: String) {
        let bin = try #require(SFTRLBinary.url)
        let input = dir.appendingPathComponent("stdin.txt")
        try Data(stdin.utf8).write(to: input)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "exec \"$0\" \"$@\" < \"$STDIN_FILE\"", bin.path] + args
        p.environment = ["STDIN_FILE": input.path, "OPENBLAS_NUM_THREADS": "1"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func tokenizeReadsAFileAndStandardInput() throws {
        try withTemporaryDirectory("textin-tok") { dir in
            let f = dir.appendingPathComponent("t.txt")
            try Data(Self.text.utf8).write(to: f)
            let direct = try SFTRLBinary.run(["lm", "tokenize", "--model", Self.model, "--text", Self.text], in: dir)
            let file = try SFTRLBinary.run(["lm", "tokenize", "--model", Self.model, "--text-file", f.path], in: dir)
            let piped = try runWithStdin(["lm", "tokenize", "--model", Self.model, "--text-file", "-"], stdin: Self.text, in: dir)
            #expect(direct.status == 0 && file.status == 0 && piped.status == 0)
            #expect(!direct.stdout.isEmpty && file.stdout == direct.stdout && piped.stdout == direct.stdout)
        }
    }

    @Test func decodeOfNothingIsTheEmptyText() throws {
        try withTemporaryDirectory("textin-dec") { dir in
            let r = try SFTRLBinary.run(["lm", "tokenize", "--model", Self.model, "--decode", ""], in: dir)
            #expect(r.status == 0 && r.stdout == "\n", "\(r)")
            let j = try SFTRLBinary.run(["lm", "tokenize", "--model", Self.model, "--decode", "", "--json"], in: dir)
            #expect(j.status == 0 && j.stdout == "{\"text\": \"\"}\n", "\(j)")
        }
    }

    @Test func logitsAndGenerateTakeTextFiles() throws {
        try withTemporaryDirectory("textin-lm") { dir in
            let f = dir.appendingPathComponent("p.txt")
            try Data("the dog near".utf8).write(to: f)
            let a = try SFTRLBinary.run(["lm", "logits", "--model", Self.model, "--text", "the dog near", "--last", "--top-k", "3"], in: dir)
            let b = try SFTRLBinary.run(["lm", "logits", "--model", Self.model, "--text-file", f.path, "--last", "--top-k", "3"], in: dir)
            #expect(a.status == 0 && b.status == 0 && a.stdout == b.stdout && a.stdout.contains("\"ids\""), "\(a) \(b)")
            let g1 = try SFTRLBinary.run(["lm", "generate", "--model", Self.model, "--prompt", "the dog near", "--max-new-tokens", "3", "--json"], in: dir)
            let g2 = try runWithStdin(["lm", "generate", "--model", Self.model, "--prompt-file", "-", "--max-new-tokens", "3", "--json"], stdin: "the dog near", in: dir)
            #expect(g1.status == 0 && g2.status == 0 && g1.stdout == g2.stdout, "\(g1)")
            let both = try SFTRLBinary.run(["lm", "logits", "--model", Self.model, "--text", "a", "--text-file", f.path], in: dir)
            #expect(both.status == 2 && both.stderr.contains("--text-file"))
            let none = try SFTRLBinary.run(["lm", "generate", "--model", Self.model], in: dir)
            #expect(none.status == 2 && none.stderr.contains("--prompt-file"))
            let missing = try SFTRLBinary.run(["lm", "logits", "--model", Self.model, "--text-file", dir.appendingPathComponent("no.txt").path], in: dir)
            #expect(missing.status == 2 && missing.stderr.contains("--text-file"))
        }
    }

    @Test func otherTokenizersEncodeAndUnsupportedOnesAreNamed() throws {
        try withTemporaryDirectory("textin-variants") { dir in
            let ok = try SFTRLBinary.run(["lm", "tokenize", "--model", Self.variants.appendingPathComponent("cl100k.json").path, "--text", "12345 apples"], in: dir)
            #expect(ok.status == 0 && !ok.stdout.isEmpty, "\(ok)")
            var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.variants.appendingPathComponent("cl100k.json"))) as? [String: Any])
            root["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁"]
            let bad = dir.appendingPathComponent("tokenizer.json")
            try JSONSerialization.data(withJSONObject: root).write(to: bad)
            let r = try SFTRLBinary.run(["lm", "tokenize", "--model", bad.path, "--text", "hi"], in: dir)
            #expect(r.status == 2 && r.stderr.contains("Metaspace"), "\(r)")
        }
    }
}
