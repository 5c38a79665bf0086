import Foundation
import Testing
import TestSupport

/// Documentation that disagrees with the program is a bug (issue 13, item 7). The README and
/// docs/*.md are read as a user reads them: every option they give to a command must be in that
/// command's `--help`, every default they state next to an option must be the one `--help`
/// states, and every exit status they name must be one the program uses for that reason.
@Suite("README and docs agree with --help")
struct DocsAgreementTests {
    /// The commands, longest first (so `lm logits` is matched before `lm`).
    static let commands = ["lm tokenize", "lm logits", "lm generate", "lm init", "lm bench", "task export",
                           "check", "search", "merge", "verify", "power", "explain", "flow", "update", "spectrum", "pareto", "figures", "train", "probe", "fixedpoint"]

    /// Each command's `--help` text, from the built binary.
    static func helpTexts() throws -> [String: String] {
        try withTemporaryDirectory("docs-help") { dir in
            var out: [String: String] = [:]
            for c in commands {
                let r = try SFTRLBinary.run(c.split(separator: " ").map(String.init) + ["--help"], in: dir, timeout: 30)
                out[c] = r.stdout
            }
            return out
        }
    }

    /// The options a help text lists (`--name`), with the default it states for each, if any.
    static func options(inHelp help: String) -> [String: String?] {
        var out: [String: String?] = ["--help": nil, "--version": nil]
        // An option's entry runs from its line to the next line that starts another entry.
        var current: String?
        var text = ""
        func flush() {
            guard let c = current else { return }
            let flat = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: " ")
            var value: String? = nil
            if let r = flat.range(of: "(default: ") {
                let rest = flat[r.upperBound...]
                value = String(rest.prefix { $0 != ")" }).trimmingCharacters(in: .whitespaces)
            }
            out[c] = value
        }
        for line in help.components(separatedBy: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("--") || t.hasPrefix("-h,") {
                flush()
                current = t.hasPrefix("-h,") ? "--help" : String(t.prefix { $0 != " " && $0 != "," && $0 != "=" })
                text = t
            } else if current != nil {
                text += " " + t
            }
        }
        flush()
        return out
    }

    /// One mention of a command in the docs with the option words that follow it.
    struct Mention: CustomStringConvertible {
        var file: String, line: Int, command: String, options: [String], text: String
        var description: String { "\(file):\(line): \(text.prefix(160))" }
    }

    /// The mentions of `sftrl COMMAND …` in a Markdown text: in code blocks the rest of the
    /// (backslash-joined) line up to a comment; in prose the rest of the inline code span.
    static func mentions(in markdown: String, file: String) -> [Mention] {
        var out: [Mention] = []
        var inBlock = false
        var pending = "", pendingLine = 0
        let lines = markdown.components(separatedBy: "\n")
        func scan(_ segment: String, line: Int) {
            var rest = Substring(segment)
            while let r = rest.range(of: "sftrl ") {
                let after = rest[r.upperBound...]
                guard let cmd = commands.first(where: { after.hasPrefix($0 + " ") || after == Substring($0) || after.hasPrefix($0 + "`") }) else {
                    rest = after; continue
                }
                var tail = after.dropFirst(cmd.count)
                if let next = tail.range(of: "sftrl ") { tail = tail[..<next.lowerBound] }
                let opts = matches(of: "--[a-z][a-z0-9-]*", in: String(tail))
                out.append(Mention(file: file, line: line, command: cmd, options: opts, text: String(after)))
                rest = after
            }
        }
        for (i, raw) in lines.enumerated() {
            if raw.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inBlock.toggle(); continue }
            if inBlock {
                var line = raw
                if let hash = line.range(of: " #") { line = String(line[..<hash.lowerBound]) }
                if pending.isEmpty { pendingLine = i + 1 }
                if line.hasSuffix("\\") { pending += line.dropLast() + " "; continue }
                scan(pending + line, line: pendingLine)
                pending = ""
            } else {
                // Inline code spans: `…`.
                let parts = raw.components(separatedBy: "`")
                for k in stride(from: 1, to: parts.count, by: 2) { scan(parts[k], line: i + 1) }
            }
        }
        return out
    }

    static func matches(of pattern: String, in s: String) -> [String] {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
        return re.matches(in: s, range: NSRange(s.startIndex..., in: s)).compactMap { Range($0.range, in: s).map { String(s[$0]) } }
    }

    static func documents() throws -> [(String, String)] {
        var docs = [("README.md", try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8))]
        let dir = repositoryRoot.appendingPathComponent("docs")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".md") {
            docs.append(("docs/\(name)", try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)))
        }
        return docs
    }

    /// The disagreements between the docs and the help texts (empty when they agree).
    static func disagreements(docs: [(String, String)], help: [String: String]) -> [String] {
        var problems: [String] = []
        let known = help.mapValues { options(inHelp: $0) }
        for (file, text) in docs {
            for m in mentions(in: text, file: file) {
                guard let opts = known[m.command] else { continue }
                for o in m.options where opts[o] == nil {
                    problems.append("\(m): `sftrl \(m.command)` has no option \(o) (see `sftrl \(m.command) --help`)")
                }
            }
            // "--option (default X)" / "--option defaults to X" in prose: the option belongs to the
            // command mentioned on the line, else to the command of the section (a heading naming
            // exactly one command, e.g. "### `sftrl check`").
            var sectionCommands: [String] = []
            var singleCommandSection = false
            var inBlock = false
            for (n, line) in text.components(separatedBy: "\n").enumerated() {
                if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inBlock.toggle(); continue }
                if !inBlock, line.hasPrefix("#") {
                    // The commands a heading names. Only a heading about one command ("### `sftrl
                    // check`", "### The figures: `sftrl figures`") makes its bare options that
                    // command's; a heading about more ("… and `sftrl update`") lends its commands'
                    // defaults only.
                    sectionCommands = Array(Set(mentions(in: line, file: file).map(\.command))).sorted()
                    singleCommandSection = sectionCommands.count == 1 && !line.contains(" and ") && !line.contains(",")
                    continue
                }
                var owners: [(String, [String])] = mentions(in: line, file: file).map { ($0.command, $0.options) }
                if owners.isEmpty, !sectionCommands.isEmpty, !inBlock {
                    let bare = line.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }
                        .flatMap { matches(of: "^--[a-z][a-z0-9-]*", in: $0.element) }
                    if singleCommandSection {
                        for o in bare where known[sectionCommands[0]]?[o] == nil {
                            problems.append("\(file):\(n + 1): `\(o)` in the section on `sftrl \(sectionCommands[0])` is not an option of that command")
                        }
                    }
                    owners = sectionCommands.map { c in (c, bare.filter { known[c]?[$0] != nil }) }
                }
                for (command, options) in owners {
                    guard let opts = known[command] else { continue }
                    let m = (command: command, options: options)
                    for o in m.options {
                        guard case let stated?? = opts[o] else { continue }
                        for pat in [NSRegularExpression.escapedPattern(for: o) + #"`?\s*\(default:?\s*(\d[\d,]*\d|[^)\s,;]+)"#,
                                    NSRegularExpression.escapedPattern(for: o) + #"`? defaults to `?([^\s,;`)]+)"#] {
                            for doc in captures(of: pat, in: line) where !sameDefault(doc, stated) {
                                problems.append("\(file):\(n + 1): \(o) of `sftrl \(m.command)` is documented with default \(doc), --help says \(stated)")
                            }
                        }
                    }
                }
            }
        }
        return problems
    }

    static func captures(of pattern: String, in s: String) -> [String] {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
        return re.matches(in: s, range: NSRange(s.startIndex..., in: s)).compactMap { Range($0.range(at: 1), in: s).map { String(s[$0]) } }
    }

    /// Two spellings of one default (1e-8 and 1.0e-08, 1000 and 1,000).
    static func sameDefault(_ a: String, _ b: String) -> Bool {
        let clean = { (s: String) in s.replacingOccurrences(of: ",", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "`'\".")) }
        let x = clean(a), y = clean(b)
        if let p = Double(x), let q = Double(y) { return p == q }
        return x == y
    }

    @Test func everyDocumentedOptionExistsWithItsDefault() throws {
        guard SFTRLBinary.url != nil else { Issue.record("the sftrl executable was not found beside the test bundle nor under .build/; build it or set SFTRL_BIN"); return }
        let help = try Self.helpTexts()
        for (c, h) in help { #expect(h.contains("USAGE:"), "no help text for \(c)") }
        let docs = try Self.documents()
        let mentions = docs.flatMap { Self.mentions(in: $0.1, file: $0.0) }
        #expect(mentions.count > 50, "only \(mentions.count) command mentions found in the docs")
        for p in Self.disagreements(docs: docs, help: help) { Issue.record("\(p)") }
    }

    /// A planted stale option and a planted wrong default are caught.
    @Test func aStaleOptionOrDefaultIsCaught() throws {
        guard SFTRLBinary.url != nil else { Issue.record("the sftrl executable was not found beside the test bundle nor under .build/; build it or set SFTRL_BIN"); return }
        let help = try Self.helpTexts()
        let planted = """
            Run `sftrl flow --instance i.json --schedule sft:1 --out o --tolerance 1e-6`.
            ```sh
            sftrl check --claim eq5 \\
              --instance-count 10
            ```
            `sftrl search --restarts` (default 99) restarts.
            ### `sftrl check`
            `--instances` (default 10) per claim, and `--no-such-flag`.
            """
        let found = Self.disagreements(docs: [("planted.md", planted)], help: help)
        #expect(found.contains { $0.contains("--tolerance") }, "\(found)")
        #expect(found.contains { $0.contains("--instance-count") }, "\(found)")
        #expect(found.contains { $0.contains("--restarts") && $0.contains("99") }, "\(found)")
        #expect(found.contains { $0.contains("--instances") && $0.contains("default 10") }, "\(found)")
        #expect(found.contains { $0.contains("--no-such-flag") }, "\(found)")
    }

    /// Exit statuses named in the docs and help texts are 0, 1 or 2, and a status named for bad
    /// input or bad arguments is 2 (the program's rule, `SFTRL.main`).
    @Test func exitStatusesAreTheProgramsOnes() throws {
        guard SFTRLBinary.url != nil else { Issue.record("the sftrl executable was not found beside the test bundle nor under .build/; build it or set SFTRL_BIN"); return }
        let help = try Self.helpTexts()
        let texts = try Self.documents() + help.map { ("sftrl \($0.key) --help", $0.value) }
        for (file, text) in texts {
            let flat = text.replacingOccurrences(of: "\n", with: " ")
            for sentence in flat.components(separatedBy: ". ") {
                for n in Self.captures(of: #"(?i)exit(?:s|ing)?(?: with)?(?: (?:status|code))? (\d+)"#, in: sentence) {
                    #expect(["0", "1", "2"].contains(n), "\(file): exit status \(n): \(sentence.prefix(200))")
                    let lower = sentence.lowercased()
                    if n == "1", lower.contains("invalid") || lower.contains("bad input") || lower.contains("unknown") {
                        Issue.record("\(file): bad input documented with exit 1: \(sentence.prefix(200))")
                    }
                }
            }
        }
    }
}
