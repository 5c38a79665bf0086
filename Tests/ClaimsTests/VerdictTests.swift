import Testing
import Foundation
import Linalg
import Policies
import Reports
@testable import Claims

/// A deliberately false variant of Pinsker's inequality: the factor ½ under the root dropped to ¼.
struct PinskerQuarter: Claim {
    let id = "test-pinsker-quarter"
    let reference = "test"
    let statement = "TV(p, q) ≤ √(¼ KL(p‖q)) (false)"
    let hypotheses: [Hypothesis] = []
    let families: [Family] = [.generic]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        EqPinsker().generate(&g, family: family, dropping: dropping)
    }
    func evaluate(_ ci: ClaimInstance) throws -> Evaluation { try rescale(EqPinsker().evaluate(ci)) }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { try rescale(EqPinsker().evaluateExtended(ci)) }
    func rescale(_ e: Evaluation) -> Evaluation {
        var e = e
        let rhs = (e.quantities["kl"]! / 4).squareRoot()
        e.conclusion = rhs.isInfinite ? 1 : rhs - e.quantities["tv"]!
        return e
    }
}

/// A claim whose hypothesis no instance meets.
struct NeverMet: Claim {
    let id = "test-never-met"
    let reference = "test"
    let statement = "vacuous"
    let hypotheses = [Hypothesis("impossible", "never true")]
    let families: [Family] = [.generic]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance { ClaimInstance(family: family) }
    func evaluate(_ ci: ClaimInstance) throws -> Evaluation { Evaluation(hypotheses: ["impossible": -1], conclusion: -1) }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { try evaluate(ci) }
}

@Suite struct VerdictTests {
    func options(_ n: Int, threads: Int = 2) -> CheckOptions {
        var o = CheckOptions()
        o.instances = n
        o.seed = 7
        o.threads = threads
        return o
    }

    @Test func trueClaimHolds() {
        for c in [EqPinsker() as any Claim, Thm31(), Prop1(), EqExpectationBound(reading: .twiceSup)] {
            let r = Runner.check(c, options: options(300))
            #expect(r.verdict == .holds, "\(c.id) should hold, got \(r.verdict)")
            #expect(r.instances == 300)
        }
    }

    @Test func falseVariantFailsWithAShrunkCertifiedCounterexample() throws {
        let r = Runner.check(PinskerQuarter(), options: options(300))
        #expect(r.verdict == .fails)
        let cx = try #require(r.counterexample)
        #expect(cx.certified && cx.shrunk)
        let inst = try #require(cx.instance.instance)
        #expect(inst.prompts.count == 1 && inst.prompts[0].data.count <= 3, "shrunk to \(inst.prompts[0].data.count) responses")
        // Replaying the counterexample fails again.
        #expect(try PinskerQuarter().evaluate(cx.instance).conclusion < 0)
    }

    @Test func printedEq5Fails() throws {
        let r = Runner.check(EqExpectationBound(reading: .printed), options: options(300))
        #expect(r.verdict == .fails)
        let cx = try #require(r.counterexample)
        #expect(cx.instance.instance!.prompts[0].data.count == 2)
        #expect(cx.extended.conclusion < -certificationTolerance)
    }

    @Test func vacuousWhenNoInstanceMeetsTheHypotheses() {
        var o = options(10)
        o.attemptFactor = 3
        let r = Runner.check(NeverMet(), options: o)
        #expect(r.verdict == .vacuous && r.instances == 0 && r.generated == 30)
        o.dropping = ["impossible"]
        #expect(Runner.check(NeverMet(), options: o).verdict == .fails)
    }

    /// Same seed, same bytes: one thread and two threads write identical JSON.
    @Test func deterministicAcrossThreadCounts() throws {
        BLASThreads.set(1)   // process-wide; `sftrl check` runs LAPACK single-threaded too
        for c in [Thm41() as any Claim, EqPinsker(), R5Spectral()] {
            let one = try encodeJSON(Runner.check(c, options: options(200, threads: 1)))
            let two = try encodeJSON(Runner.check(c, options: options(200, threads: 2)))
            #expect(one == two, "\(c.id) differs between thread counts")
        }
    }

    /// The parallel re-check of violators and the parallel shrinker read their results in order:
    /// failing claims with many violators, shrinking and round-off (and the per-prompt sampled
    /// expectations) give the same bytes with one, two and four threads.
    @Test func failingClaimsDeterministicAcrossThreadCounts() throws {
        BLASThreads.set(1)
        for c in [PinskerQuarter() as any Claim, EqExpectationBound(reading: .printed), GRPOExpectedAscent(scaling: .batch),
                  GRPOExpectedAscent(scaling: .group), SampledDescent()] {
            let runs = try [1, 2, 4].map { try encodeJSON(Runner.check(c, options: options(120, threads: $0))) }
            #expect(runs[0] == runs[1] && runs[0] == runs[2], "\(c.id) differs between thread counts")
        }
    }

    /// Shards partition the instance indices: together they evaluate what one run does.
    @Test func shardsCoverTheRun() {
        var a = options(100), b = options(100)
        a.shard = (0, 2); b.shard = (1, 2)
        let ra = Runner.check(EqPinsker(), options: a), rb = Runner.check(EqPinsker(), options: b)
        let whole = Runner.check(EqPinsker(), options: options(200))
        #expect(min(ra.minMargin!, rb.minMargin!) == whole.minMargin!)
    }

    @Test func registryIdsAreUniqueAndCoverPaperNotes() {
        let ids = Registry.ids
        #expect(Set(ids).count == ids.count)
        for id in ["lemma1", "eq3-tv", "eq4-triangle", "eq5", "eq6-pinsker", "eq8-gibbs", "thm3.1", "prop1", "thm4.1",
                   "r4-threshold", "r5-spectral"] {
            #expect(ids.contains(id), "missing \(id)")
        }
    }
}
