import Foundation
import Testing
@testable import Policies

/// Numeric extremes of valid instances (issue 24): prompt weights at 1e308 (whose sum overflows)
/// and subnormal weights normalise to the right q; a planted `w / Σw` without the overflow branch
/// gives q = (0, 0) and fails the first case.
@Suite struct NumericExtremesTests {
    func instance(weights: [Double]) throws -> Instance {
        let prompts = weights.map { #"{"weight": \#($0), "data": [0.5, 0.5], "reward": [1, 0]}"# }.joined(separator: ", ")
        let json = #"{"beta": 0.1, "policy": {"kind": "tabular"}, "prompts": [\#(prompts)]}"#
        return try Instance(file: InstanceFile.decode(Data(json.utf8), path: "extreme.json"))
    }

    static let cases: [(weights: [Double], expected: [Double])] = [
        ([1e308, 1e308], [0.5, 0.5]),
        ([1.7976931348623157e308, 1.7976931348623157e308, 1.7976931348623157e308], [1.0 / 3, 1.0 / 3, 1.0 / 3]),
        ([1e308, 1e307], [1 / 1.1, 0.1 / 1.1]),
        ([5e-324, 5e-324], [0.5, 0.5]),
        ([1e-310, 3e-310], [0.25, 0.75]),
        ([1e-300, 1e300], [0.0, 1.0]),
    ]

    @Test(arguments: cases)
    func weightsNormaliseWithoutOverflow(c: (weights: [Double], expected: [Double])) throws {
        let (weights, expected) = c
        let q = try instance(weights: weights).weights
        let finite = q.allSatisfy { $0.isFinite }
        #expect(finite, "\(weights) → \(q)")
        #expect(abs(q.reduce(0, +) - 1) < 1e-15, "\(weights) → \(q)")
        for (a, b) in zip(q, expected) { #expect(abs(a - b) <= 1e-15, "\(weights) → \(q), expected \(expected)") }
    }

    @Test func rewardsWhoseDifferenceOverflowsAreRefusedNamingTheField() {
        let json = #"{"beta": 0.1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1e308, -1e308]}]}"#
        do {
            _ = try Instance(file: InstanceFile.decode(Data(json.utf8), path: "r.json"))
            Issue.record("rewards ±1e308 accepted")
        } catch {
            #expect("\(error)".contains("prompts[0].reward"), "\(error)")
        }
    }
}
