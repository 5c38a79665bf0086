import Foundation
import Linalg
@testable import Policies
import TestSupport

/// How the random test logits are drawn.
enum LogitMode: CaseIterable { case moderate, extreme, nearDeterministic }

/// A random instance for derivative tests: 1–3 prompts, 2–5 responses, random data, rewards with a
/// tie, β in [0, 2], and θ drawn per `mode` (extreme: entries ±50; near-deterministic: one logit +25).
func randomInstance(seed: UInt64, loglinear: Bool, mode: LogitMode) throws -> (Instance, [Double]) {
    var g = SeededGenerator(seed: seed)
    let prompts = g.int(1...3)
    let sizes = (0..<prompts).map { _ in g.int(2...5) }
    func simplex(_ n: Int) -> [Double] { uniformSimplex(n, using: &g) }
    let data = sizes.map(simplex)
    var reward = sizes.map { n in (0..<n).map { _ in g.uniform(-1, 1) } }
    reward[0][0] = reward[0][1]   // a tie
    let reference = sizes.map(simplex)
    let weights = (0..<prompts).map { _ in g.uniform(0.1, 1) }
    let beta = g.int(0...3) == 0 ? 0 : g.uniform(0.05, 2)
    var policy: PolicyClass? = nil
    var dim = sizes.reduce(0, +)
    if loglinear {
        let d = g.int(1...4)
        policy = .loglinear(features: sizes.map { n in Matrix(rows: n, cols: d, data: (0..<(n * d)).map { _ in g.normal() }) })
        dim = d
    }
    var theta = (0..<dim).map { _ in g.normal() }
    switch mode {
    case .moderate: break
    case .extreme: theta = theta.map { $0 >= 0 ? 50 : -50 }.enumerated().map { $0.offset % 3 == 0 ? $0.element * 0.3 : $0.element }
    case .nearDeterministic: theta[0] += 25
    }
    if loglinear, mode == .extreme { theta = theta.map { $0 / 5 } } // features ~N(0,1) so logits still reach ±50
    let inst = try Instance(beta: beta, weights: weights, data: data, reward: reward, reference: reference, policy: policy, start: theta)
    return (inst, theta)
}
