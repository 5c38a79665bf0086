import Foundation

/// Every claim the toolkit checks, in paper order: the one place a statement is added. `sftrl
/// check`, `search`, `explain`, the proof pages and their tests all read this list.
public enum Registry {
    public static let all: [any Claim] = [
        Lemma1(),
        EqTV(),
        EqTriangle(),
        EqExpectationBound(reading: .printed),
        EqExpectationBound(reading: .twiceSup),
        EqExpectationBound(reading: .oscillation),
        EqPinsker(),
        EqGibbs(),
        Thm31(),
        Thm31Identity(),
        Thm31Gain(),
        Thm31Tradeoff(),
        Thm31LogLinear(),
        Prop1(),
        Thm41(),
        Thm41Regularised(),
        Thm41Gibbs(),
        Thm41Reverse(),
        Thm41Local(),
        Thm41LocalRegion(),
        R1Local(),
        R1Global(),
        R1GlobalKL(),
        R1Monotone(),
        R2(),
        R3Duration(),
        R3DurationActual(),
        R3Bound(),
        R4Threshold(),
        R4Step(),
        R4PLGap(),
        R5Spectral(),
        Lemma1Autoregressive(),
        SampledDescent(),
        GRPOExpectedAscent(scaling: .group),
        GRPOExpectedAscent(scaling: .batch),
        GRPOExpectedAscent(scaling: .none),
        GRPOExpectedAscent(scaling: .none, aggregation: .drGRPO, suffix: "-drgrpo"),
        GRPOExpectedAscent(scaling: .none, aggregation: .grpo, suffix: "-seqnorm", families: [.autoregressive], longFraction: 0.5),
        GRPOExpectedAscent(scaling: .none, aggregation: .dapo, suffix: "-dapo", families: [.autoregressive], longFraction: 0.5),
        GRPOStdPrompts(),
        GRPOFisherAscent(scaling: .group),
        GRPOFisherAscent(scaling: .batch),
        Thm31Sampled(),
        Prop1Sampled(),
        DFTIsPG(),
        ChordPhiSharpens(),
        RLOOUnbiased(),
        H10Seqnorm(),
        Thm31GRPOK3(),
        KLDescends.k3Forward,
        KLDescends.k2Reverse,
        KLDescends.biasCorrection,
        KLDescends.tokenPartial,
        PSRNSREqual(lengthNormalised: false),
        PSRNSREqual(lengthNormalised: true),
        GRPOBinaryArcsin(population: false),
        GRPOBinaryArcsin(population: true),
        RLRazor(natural: true),
        RLRazor(natural: false),
    ] + RLThenPracticalSFT.all.map { $0 as any Claim }

    /// The claim with this id.
    public static func claim(_ id: String) throws -> any Claim {
        guard let c = all.first(where: { $0.id == id }) else { throw ClaimError.unknownClaim(id) }
        return c
    }

    public static var ids: [String] { all.map(\.id) }

    /// The claims of paper-notes.md §3 as printed (`sftrl search --v1`).
    public static var v1: [any Claim] { all.filter { $0.paperVersion == .v1 } }

    /// The one-sentence reason a failing claim fails (nil for an unknown id or a claim without one).
    public static func explanation(of id: String) -> String? { (try? claim(id))?.failureExplanation }
}
