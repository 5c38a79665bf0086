import Foundation
import Testing
import TestSupport
import Claims
import Reports
@testable import Figures

/// `sftrl check`'s table and `--replay`: one certification rule, recorded drops, reports as input.
@Suite("check replay and table")
struct CheckReplayTests {
    func run(_ id: String, instances: Int = 1000, seed: UInt64 = 1, dropping: Set<String> = []) throws -> ClaimResult {
        var o = CheckOptions()
        o.instances = instances
        o.seed = seed
        o.dropping = dropping
        return Runner.check(try Registry.claim(id), options: o)
    }

    func temporaryFile(_ data: Data) throws -> String {
        let url = try makeTemporaryDirectory("replay").appendingPathComponent("replay.json")
        try data.write(to: url)
        return url.path
    }

    /// A holding claim's negative smallest margin is round-off: the table says so, replay says so
    /// (the old replay called any negative-in-both-precisions margin "certified").
    @Test func roundoffIsNamedInTheTableAndOnReplay() throws {
        let r = try run("eq6-pinsker")
        #expect(r.verdict == .holds)
        let m = try #require(r.minMargin)
        try #require(m < 0, "seed 1 has a round-off margin (\(m))")
        let table = CheckReport.table([r])
        #expect(table.contains("(round-off)"))
        #expect(table.contains("roundoff") && table.contains("errors"))
        let j = try Judgement(claim: try Registry.claim("eq6-pinsker"), instance: try #require(r.minMarginInstance), dropping: [])
        #expect(j.outcome == .roundoff)
        #expect(j.sentence.contains("round-off"))
    }

    /// A failing claim shows its certified margin and why it fails.
    @Test func failureShowsCertifiedMarginAndReason() throws {
        let r = try run("eq5", instances: 200)
        let table = CheckReport.table([r])
        #expect(table.contains("(certified)"))
        #expect(table.contains("why: "))
        let md = CheckReport.markdown([r])
        #expect(md.contains("| roundoff | errors |") || md.contains("roundoff"))
        #expect(md.contains("(certified)"))
    }

    /// `--replay` of a `check --json` report takes the claim's counterexample and its recorded drop;
    /// without `--drop` the replay names the dropped hypothesis it misses.
    @Test func replayReportWithRecordedDrop() throws {
        let r = try run("thm4.1-reverse", instances: 300, seed: 3, dropping: ["unique-argmax"])
        try #require(r.verdict == .fails)
        let report = CheckReport(seed: 3, version: "test", instances: 300, shard: nil, claims: [r])
        let path = try temporaryFile(try encodeJSON(report))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try Replay.load(path, claim: "thm4.1-reverse")
        #expect(loaded.dropped == ["unique-argmax"])
        #expect(loaded.instance == r.counterexample!.instance)
        let claim = try Registry.claim("thm4.1-reverse")
        let without = try Judgement(claim: claim, instance: loaded.instance, dropping: [])
        #expect(without.outcome == .hypothesesNotMet)
        let notes = Replay.droppedNotes(judgement: without, recorded: loaded.dropped, given: [])
        #expect(notes.joined().contains("--drop unique-argmax"))
        let with = try Judgement(claim: claim, instance: loaded.instance, dropping: ["unique-argmax"])
        #expect(with.outcome == .certified)
        #expect(Replay.droppedNotes(judgement: with, recorded: loaded.dropped, given: ["unique-argmax"]).isEmpty)
        // A report needs --claim, and the claim must be in it.
        #expect(throws: (any Error).self) { _ = try Replay.load(path, claim: nil) }
        #expect(throws: (any Error).self) { _ = try Replay.load(path, claim: "eq5") }
    }
}
