import Foundation
import Testing
import TestSupport

/// The allowed import directions of docs/ARCHITECTURE.md, enforced on every source file.
///
/// The page's table (`| Target | Owns | May import |`) is the one statement of the rule: this test
/// reads it, then every `import` line of `Sources/<Target>/**/*.swift`, and fails on an import
/// that the target's row does not allow, and on a target under Sources/ that has no row.
@Suite("architecture")
struct ImportDirectionTests {
    /// Modules of the platform, allowed everywhere.
    static let system: Set<String> = ["Foundation", "Dispatch", "Glibc", "Darwin", "Musl"]

    /// Target name → the modules it may import, read from the page's table.
    static func allowedImports() throws -> [String: Set<String>] {
        let page = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
        var rows: [String: Set<String>] = [:]
        for line in page.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5, cells[1] != "Target", !cells[1].hasPrefix("-") else { continue }
            let allowed = cells[3] == "—" ? [] : cells[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            rows[cells[1]] = Set(allowed)
        }
        return rows
    }

    /// Every `import M` (also `@testable import M`, `import struct M.T`) of a Swift source, with its line.
    static func imports(in text: String) -> [(line: Int, module: String)] {
        var out: [(Int, String)] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var words = raw.split(separator: " ").map(String.init)
            while let w = words.first, w.hasPrefix("@") || ["public", "internal", "private", "fileprivate", "package"].contains(w) { words.removeFirst() }
            guard words.first == "import", words.count >= 2 else { continue }
            let path = words.count >= 3 && ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"].contains(words[1]) ? words[2] : words[1]
            out.append((n + 1, String(path.split(separator: ".")[0])))
        }
        return out
    }

    /// The violations in `Sources/`: "path:line: Target imports Module".
    static func violations(sources: URL, allowed: [String: Set<String>]) throws -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        for target in try fm.contentsOfDirectory(atPath: sources.path).sorted() where !target.hasPrefix(".") {
            guard let rule = allowed[target] else { out.append("Sources/\(target): no row in docs/ARCHITECTURE.md"); continue }
            guard let walk = fm.enumerator(atPath: sources.appendingPathComponent(target).path) else { continue }
            while let rel = walk.nextObject() as? String {
                guard rel.hasSuffix(".swift") else { continue }
                let text = try String(contentsOf: sources.appendingPathComponent(target).appendingPathComponent(rel), encoding: .utf8)
                for (line, module) in imports(in: text) where module != target && !system.contains(module) && !rule.contains(module) {
                    out.append("Sources/\(target)/\(rel):\(line): \(target) imports \(module), which docs/ARCHITECTURE.md does not allow")
                }
            }
        }
        return out
    }

    @Test func everyTargetImportsOnlyWhatThePageAllows() throws {
        let allowed = try Self.allowedImports()
        #expect(allowed.count >= 16, "the table of docs/ARCHITECTURE.md was not read: \(allowed.keys.sorted())")
        #expect(allowed["sftrl"] != nil && allowed["Figures"] != nil)
        let found = try Self.violations(sources: repositoryRoot.appendingPathComponent("Sources"), allowed: allowed)
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    /// The rules the page states in words hold in its table: nothing imports sftrl, Claims never
    /// imports Reports, Transformer never imports Claims or Policies.
    @Test func thePageKeepsItsStatedRules() throws {
        let allowed = try Self.allowedImports()
        for (target, modules) in allowed { #expect(!modules.contains("sftrl"), "\(target) may import sftrl") }
        #expect(!(allowed["Claims"] ?? []).contains("Reports"))
        #expect((allowed["Transformer"] ?? []).isDisjoint(with: ["Claims", "Policies"]))
    }

    /// The checker catches what it is for: a planted forbidden import in a scratch Sources tree.
    @Test func aForbiddenImportIsCaught() throws {
        let root = try makeTemporaryDirectory("architecture")
        defer { try? FileManager.default.removeItem(at: root) }
        let claims = root.appendingPathComponent("Claims/Sub")
        try FileManager.default.createDirectory(at: claims, withIntermediateDirectories: true)
        try "import Foundation\nimport Flows\n@testable import Reports\n".write(to: claims.appendingPathComponent("X.swift"), atomically: true, encoding: .utf8)
        let found = try Self.violations(sources: root, allowed: ["Claims": ["Flows"]])
        #expect(found == ["Sources/Claims/Sub/X.swift:3: Claims imports Reports, which docs/ARCHITECTURE.md does not allow"])
        #expect(Self.imports(in: "import struct Linalg.Matrix\nimport Foundation").map(\.module) == ["Linalg", "Foundation"])
    }
}
