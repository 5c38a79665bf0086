import Testing
import Foundation
import Linalg
@testable import Policies

/// Every objective's value against a plain formula written here from the definitions (issue 13):
/// the derivative tests only check value, gradient and Hessian against each other, so a consistently
/// wrong functional (KL in the wrong direction, a dropped β) would pass them; this test pins the values.
@Suite struct ObjectiveValueTests {
    /// p_θ(·|x) by a plain softmax of plainly computed logits.
    static func plainProbabilities(_ inst: Instance, _ theta: [Double]) -> [[Double]] {
        var logits: [[Double]] = []
        switch inst.policy {
        case let .tabular(sizes):
            var k = 0
            for n in sizes { logits.append(Array(theta[k..<(k + n)])); k += n }
        case let .loglinear(features):
            for f in features {
                logits.append((0..<f.rows).map { y in (0..<f.cols).reduce(0.0) { $0 + f[y, $1] * theta[$1] } })
            }
        case .autoregressive:
            Issue.record("randomInstance makes tabular and log-linear instances only")
        }
        return logits.map { z in
            let m = z.max()!
            let e = z.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        }
    }

    @Test func valuesMatchTheDefinitions() throws {
        for seed in 0..<40 {
            let (inst, theta) = try randomInstance(seed: UInt64(seed), loglinear: seed % 2 == 1, mode: .moderate)
            let p = Self.plainProbabilities(inst, theta)
            let pt = inst.point(theta)
            func sum(_ f: (Int) -> Double) -> Double { inst.weights.indices.reduce(0.0) { $0 + inst.weights[$1] * f($1) } }
            func klPlain(_ a: [Double], _ b: [Double]) -> Double { a.indices.reduce(0.0) { $0 + (a[$1] > 0 ? a[$1] * Foundation.log(a[$1] / b[$1]) : 0) } }
            let expected: [Objective: Double] = [
                .sft: sum { x in inst.data[x].indices.reduce(0.0) { $0 - inst.data[x][$1] * Foundation.log(p[x][$1]) } },
                .reward: sum { x in zip(p[x], inst.reward[x]).reduce(0.0) { $0 + $1.0 * $1.1 } },
                .klPolicyRef: sum { x in klPlain(p[x], inst.reference[x]) },
                .klDataPolicy: sum { x in klPlain(inst.data[x], p[x]) },
                .entropy: sum { x in -p[x].reduce(0.0) { $0 + $1 * Foundation.log($1) } },
                .tvDataPolicy: sum { x in 0.5 * zip(p[x], inst.data[x]).reduce(0.0) { $0 + abs($1.0 - $1.1) } },
                .rewardRegularized: sum { x in
                    zip(p[x], inst.reward[x]).reduce(0.0) { $0 + $1.0 * $1.1 } - inst.beta * klPlain(p[x], inst.reference[x])
                },
            ]
            for (objective, want) in expected {
                let got = inst.value(objective, at: pt)
                #expect(abs(got - want) <= 1e-11 * max(1, abs(want)), "seed \(seed) \(objective): \(got) vs \(want)")
            }
            #expect(expected.count == Objective.allCases.count)
        }
    }
}
