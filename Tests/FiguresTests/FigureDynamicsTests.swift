import Foundation
import Testing
import TestSupport
@testable import Figures

/// The flow figures a and e checked against the mathematics, not only against another run of the
/// same code (issue 13: a sign flip in the RL gradient left the determinism test green).
/// Along the RL flow of J_β on a tabular policy, J_β = β(log Z − KL(p‖p*)) rises, so KL(p_t‖p*) falls,
/// with p* = π_ref·e^{r/β}/Z computed here from the figure's instance; along the SFT flow
/// L_SFT = H(p_D) + KL(p_D‖p_t) falls.
@Suite("figure dynamics", .serialized)
struct FigureDynamicsTests {
    static func table(_ data: Data) -> (header: [String], rows: [[String]]) {
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (lines[0], Array(lines.dropFirst()))
    }

    static func kl(_ p: [Double], _ q: [Double]) -> Double {
        p.indices.reduce(0.0) { $0 + (p[$1] > 0 ? p[$1] * log(p[$1] / q[$1]) : 0) }
    }

    @Test func flowsClimbAndDescendTheRightObjectives() throws {
        let out = try makeTemporaryDirectory("figdyn")
        defer { removeTemporaryDirectory(out) }
        try writeFigures(out: out, only: "a,e", quick: true)

        // The instance, and its Gibbs optimum by the closed form.
        let inst = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("a-fig3-tabular/instance.json"))) as! [String: Any]
        let beta = inst["beta"] as! Double
        let prompt = (inst["prompts"] as! [[String: Any]])[0]
        let ref = prompt["reference"] as! [Double], r = prompt["reward"] as! [Double], data = prompt["data"] as! [Double]
        let tilt = ref.indices.map { ref[$0] * exp(r[$0] / beta) }
        let z = tilt.reduce(0, +)
        let gibbs = tilt.map { $0 / z }

        // e: the plotted Gibbs point is the closed form.
        let points = Self.table(try Data(contentsOf: out.appendingPathComponent("e-simplex/points.csv")))
        let star = try #require(points.rows.first { $0[0].hasPrefix("p*") }).dropFirst().map { Double($0)! }
        for k in 0..<3 { #expect(abs(star[k] - gibbs[k]) < 1e-12) }

        // e: KL(p_t‖p*) falls along RL phases, KL(p_D‖p_t) along SFT phases.
        let traj = Self.table(try Data(contentsOf: out.appendingPathComponent("e-simplex/trajectories.csv")))
        #expect(traj.header == ["pipeline", "t", "phase", "phase_index", "p0", "p1", "p2"])
        var checked = 0
        for (prev, row) in zip(traj.rows, traj.rows.dropFirst()) where prev[0] == row[0] && prev[3] == row[3] {
            let p0 = prev[4...6].map { Double($0)! }, p1 = row[4...6].map { Double($0)! }
            if row[2] == "rl" { #expect(Self.kl(p1, gibbs) <= Self.kl(p0, gibbs) + 1e-12, "RL step \(prev[1])→\(row[1]) of \(row[0])") }
            if row[2] == "sft" { #expect(Self.kl(data, p1) <= Self.kl(data, p0) + 1e-12, "SFT step \(prev[1])→\(row[1]) of \(row[0])") }
            checked += 1
        }
        #expect(checked > 40)

        // a: J_β rises along RL phases and L_SFT falls along SFT phases.
        let trace = Self.table(try Data(contentsOf: out.appendingPathComponent("a-fig3-tabular/trace.csv")))
        let col = { (name: String) in trace.header.firstIndex(of: name)! }
        let (phase, index, sft, reg) = (col("phase"), col("phase_index"), col("sft_loss"), col("reward_reg"))
        for (prev, row) in zip(trace.rows, trace.rows.dropFirst()) where prev[0] == row[0] && prev[index] == row[index] {
            if row[phase] == "rl" { #expect(Double(row[reg])! >= Double(prev[reg])! - 1e-12) }
            if row[phase] == "sft" { #expect(Double(row[sft])! <= Double(prev[sft])! + 1e-12) }
        }
        // J_β never exceeds its maximum β·log Z (Eq. 8).
        let lastRL = try #require(trace.rows.last { $0[0] == "sft-then-rl" && $0[phase] == "rl" })
        #expect(Double(lastRL[reg])! <= beta * log(z) + 1e-12)
    }
}
