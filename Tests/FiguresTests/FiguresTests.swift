import Foundation
import Testing
@testable import Figures
import TestSupport

/// The repository root (…/Tests/FiguresTests/FiguresTests.swift → …).

private func temporaryDirectory(_ tag: String) throws -> URL { try makeTemporaryDirectory("figures-test-\(tag)") }

/// Every regular file under `dir`, by relative path (hidden entries included, so leftovers show).
private func files(under dir: URL) throws -> [String: Data] {
    var out: [String: Data] = [:]
    let fm = FileManager.default
    guard let e = fm.enumerator(atPath: dir.path) else { return out }
    while let rel = e.nextObject() as? String {
        var isDir: ObjCBool = false
        let path = dir.appendingPathComponent(rel).path
        if fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue { out[rel] = try Data(contentsOf: URL(fileURLWithPath: path)) }
    }
    return out
}

/// A file's bytes with a manifest's `"commit"` line taken out: the one field that names the
/// checkout (the committed manifests record the commit that regenerated them, a test run its own).
func withoutCommit(_ data: Data?) -> Data? {
    guard let data, let text = String(data: data, encoding: .utf8) else { return data }
    let kept = text.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("\"commit\" :") }
    return Data(kept.joined(separator: "\n").utf8)
}

/// What `sftrl figures --out OUT --only ONLY [--quick]` does: select, build and write each folder.
func writeFigures(out: URL, only: String, quick: Bool = false) throws {
    for key in try FigureCatalog.selection(only, includeTransformer: false) {
        try FigureCatalog.write(try FigureCatalog.build(key, quick: quick), into: out)
    }
}

@Suite("figures", .serialized)
struct FiguresTests {
    /// `figures --only b,d` twice gives the same bytes, and the same bytes as the committed
    /// notebooks-data (so a change in the code that moves a figure fails here until the data is
    /// regenerated with `sftrl figures`).
    @Test func subsetIsDeterministicAndMatchesCommittedData() throws {
        let one = try temporaryDirectory("one"), two = try temporaryDirectory("two")
        defer { try? FileManager.default.removeItem(at: one); try? FileManager.default.removeItem(at: two) }
        try writeFigures(out: one, only: "b,d")
        try writeFigures(out: two, only: "d,b")
        let a = try files(under: one), b = try files(under: two)
        #expect(Set(a.keys) == Set(b.keys))
        #expect(Set(a.keys) == ["b-c1-beta/c1.csv", "b-c1-beta/c1-beta.svg", "b-c1-beta/manifest.json",
                                "d-rl-duration/duration.csv", "d-rl-duration/duration.svg", "d-rl-duration/manifest.json"])
        for (k, v) in a { #expect(b[k] == v, "\(k) differs between two runs") }
        let committed = repositoryRoot.appendingPathComponent("notebooks-data")
        for (k, v) in a {
            let c = try? Data(contentsOf: committed.appendingPathComponent(k))
            #expect(withoutCommit(c) == withoutCommit(v), "notebooks-data/\(k) is stale: regenerate with `sftrl figures`")
        }
    }

    /// The sampled-algorithm figures (g: 64 seeded runs per pipeline; h: exact enumerations) match
    /// the committed data byte for byte.
    @Test func sampledFiguresMatchCommittedData() throws {
        let one = try temporaryDirectory("sampled")
        defer { try? FileManager.default.removeItem(at: one) }
        try writeFigures(out: one, only: "g,h")
        let a = try files(under: one)
        #expect(a.keys.contains("g-sampled-fig3/trace.csv") && a.keys.contains("h-update-bias/bias.csv"))
        let committed = repositoryRoot.appendingPathComponent("notebooks-data")
        for (k, v) in a {
            let c = try? Data(contentsOf: committed.appendingPathComponent(k))
            #expect(withoutCommit(c) == withoutCommit(v), "notebooks-data/\(k) is stale: regenerate with `sftrl figures --only g,h`")
        }
    }

    /// The quick versions of the flow figures are deterministic too, and their manifests name the
    /// regenerating command without paths or timestamps.
    @Test func quickFlowFiguresAreDeterministic() throws {
        let one = try temporaryDirectory("q1"), two = try temporaryDirectory("q2")
        defer { try? FileManager.default.removeItem(at: one); try? FileManager.default.removeItem(at: two) }
        try writeFigures(out: one, only: "a,e", quick: true)
        try writeFigures(out: two, only: "a-fig3-tabular,e-simplex", quick: true)
        let a = try files(under: one), b = try files(under: two)
        #expect(a == b)
        let manifest = try #require(a["a-fig3-tabular/manifest.json"])
        let text = String(decoding: manifest, as: UTF8.self)
        #expect(text.contains("\"--quick\""))
        #expect(!text.contains(one.path))
        #expect(!text.contains("started_at"))
        // Tidy CSV: a header and rows with as many fields.
        let csv = String(decoding: try #require(a["a-fig3-tabular/trace.csv"]), as: UTF8.self)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "pipeline,t,phase,phase_index,sft_loss,reward,reward_reg,kl_data_policy,kl_policy_ref")
        #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 9 })
    }

    /// A folder is replaced whole; a write that fails leaves the old folder and no temporary.
    @Test func foldersAreWrittenAtomically() throws {
        let out = try temporaryDirectory("atomic")
        defer { try? FileManager.default.removeItem(at: out) }
        var good = FigureFolder(key: "b", name: "x-test", files: [], seed: nil, extra: [:], quick: true)
        good.add("data.csv", "a\n1\n")
        try FigureCatalog.write(good, into: out)
        var newer = good
        newer.files = []
        newer.add("other.csv", "b\n2\n")
        try FigureCatalog.write(newer, into: out)
        #expect(Set(try files(under: out).keys) == ["x-test/other.csv", "x-test/manifest.json"])
        var bad = good
        bad.files = []
        bad.add("sub", "a file")
        bad.add("sub/inner.csv", "cannot be written: sub is a file")
        #expect(throws: (any Error).self) { try FigureCatalog.write(bad, into: out) }
        #expect(Set(try files(under: out).keys) == ["x-test/other.csv", "x-test/manifest.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["x-test"])
    }

    @Test func selection() throws {
        #expect(try FigureCatalog.selection(nil, includeTransformer: false) == ["a", "b", "c", "d", "e", "g", "h", "p", "q"])
        #expect(try FigureCatalog.selection("q-practical-limits", includeTransformer: false) == ["q"])
        #expect(try FigureCatalog.selection("p-pareto", includeTransformer: false) == ["p"])
        #expect(try FigureCatalog.selection("h-update-bias,g", includeTransformer: false) == ["g", "h"])
        #expect(try FigureCatalog.selection("d, b,b", includeTransformer: false) == ["b", "d"])
        #expect(try FigureCatalog.selection("c-threshold", includeTransformer: true) == ["c", "f"])
        #expect(throws: (any Error).self) { try FigureCatalog.selection("z", includeTransformer: false) }
        #expect(throws: (any Error).self) { try FigureCatalog.selection("f", includeTransformer: false) }
    }
}
