import Foundation
import Linalg
import Policies
import Testing
@testable import Flows

@Suite("Trace evaluator (fused tabular trace rows)")
struct TraceEvaluatorTests {
    /// The fused pass against the general code (`TraceValues(_:at:)`, Instance.value/gradient) on
    /// random instances and random θ: within 1e-12 relative, and in fact bit for bit.
    @Test("fused trace values equal the general code's", arguments: [
        (3, 5, 0.0, UInt64(1)), (4, 16, 0.3, 2), (16, 64, 0.0, 3), (7, 33, 2.5, 4), (40, 1_024, 0.1, 5),
    ])
    func equalsGeneral(_ c: (Int, Int, Double, UInt64)) throws {
        let inst = try PFFixture.random(prompts: c.0, responses: c.1, beta: c.2, seed: c.3)
        let ev = try #require(TraceEvaluator.make(inst))
        var g = SeededGenerator(seed: c.3 + 100)
        for _ in 0..<3 {
            let theta = inst.start.map { $0 + 3 * g.normal() }
            let fused = ev.values(at: theta), general = TraceValues(inst, at: theta)
            for q in TraceQuantity.allCases {
                let a = fused[q], b = general[q]
                #expect(abs(a - b) <= 1e-12 * max(abs(b), 1e-300), "\(q.rawValue): fused \(a), general \(b)")
                #expect(a.bitPattern == b.bitPattern, "\(q.rawValue) not bit-identical: \(a) vs \(b)")
            }
        }
    }

    /// Above the parallel threshold the prompts run on several threads: the same bytes as one thread.
    @Test("same bytes on one thread and on several")
    func threadInvariant() throws {
        let inst = try PFFixture.random(prompts: 48, responses: 1_024, beta: 0.2, seed: 9)
        #expect(inst.responseCounts.reduce(0, +) >= TraceEvaluator.parallelThreshold)
        let parallel = try #require(TraceEvaluator.make(inst)), serial = try #require(TraceEvaluator.make(inst))
        serial.serial = true
        var g = SeededGenerator(seed: 10)
        let theta = inst.start.map { $0 + g.normal() }
        let a = parallel.values(at: theta), b = serial.values(at: theta)
        for q in TraceQuantity.allCases { #expect(a[q].bitPattern == b[q].bitPattern, "\(q.rawValue)") }
    }

    /// A prompt with a zero of π_ref (KL(p‖π_ref) = +∞ at β > 0) and a prompt of weight 0: as the general code.
    @Test("infinite KL and zero weight as the general code")
    func edgeCases() throws {
        let file = InstanceFile(beta: 0.5, policy: .init(kind: "tabular"), prompts: [
            .init(weight: 1, data: [0.5, 0.5, 0], reward: [1, 0, -1], reference: [0.5, 0.5, 0]),
            .init(weight: 0, data: [0.2, 0.8], reward: [0, 1], reference: nil),
            .init(weight: 2, data: [0.1, 0.6, 0.3], reward: [0.5, -0.5, 2], reference: nil),
        ])
        let inst = try Instance(file: file)
        let ev = try #require(TraceEvaluator.make(inst))
        let theta = inst.start.enumerated().map { $0.element + 0.1 * Double($0.offset) }
        let fused = ev.values(at: theta), general = TraceValues(inst, at: theta)
        for q in TraceQuantity.allCases {
            #expect(fused[q].bitPattern == general[q].bitPattern || (fused[q].isNaN && general[q].isNaN),
                    "\(q.rawValue): fused \(fused[q]), general \(general[q])")
        }
    }

    /// Only tabular instances get the fused pass.
    @Test("non-tabular classes use the general code")
    func tabularOnly() throws {
        #expect(TraceEvaluator.make(try PFFixture.loglinear()) == nil)
    }
}
