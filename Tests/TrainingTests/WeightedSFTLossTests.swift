import Foundation
import Testing
import Linalg
import PostTraining
import Transformer
@testable import Training

/// The transformer's weighted SFT losses (DFT, CHORD-φ): loss and logit gradient against a loss
/// written here in Double (weights held at the unperturbed logits, the sg(·) of the definition) and
/// central differences; nll is the plain cross-entropy, bit for bit.
@Suite struct WeightedSFTLossTests {
    @Test(arguments: SFTTokenWeight.allCases)
    func matchesIndependentLossAndFiniteDifferences(_ weight: SFTTokenWeight) {
        let V = 5, N = 4
        var rng = SeededGenerator(seed: 9)
        let z0 = (0..<(N * V)).map { _ in Float(3 * rng.uniform() - 1.5) }
        let targets: [Int32] = [2, -100, 0, 4]
        let ce = crossEntropy(logits: z0, targets: targets, vocab: V)
        let r = weightedSFTLoss(ce, logits: z0, targets: targets, vocab: V, weight: weight)
        func logp(_ z: [Double], _ n: Int, _ y: Int) -> Double {
            let row = Array(z[(n * V)..<(n * V + V)]); let m = row.max()!
            return row[y] - m - log(row.map { exp($0 - m) }.reduce(0, +))
        }
        let zd = z0.map(Double.init)
        func w(_ n: Int) -> Double {
            let p = exp(logp(zd, n, Int(targets[n])))
            switch weight { case .plain: return 1; case .dft: return p; case .phi: return p * (1 - p) }
        }
        func loss(_ z: [Double]) -> Double {
            var s = 0.0
            for n in 0..<N where targets[n] != -100 { s -= w(n) * logp(z, n, Int(targets[n])) }
            return s / 3
        }
        #expect(abs(r.loss - loss(zd)) <= 1e-6, "\(weight): loss \(r.loss) vs \(loss(zd))")
        var worst = 0.0
        for i in zd.indices {
            var a = zd, b = zd; a[i] += 1e-5; b[i] -= 1e-5
            worst = max(worst, abs((loss(a) - loss(b)) / 2e-5 - Double(r.dLogits[i])))
        }
        #expect(worst <= 1e-6, "\(weight): largest |analytic − finite difference| \(worst)")
        if weight == .plain { #expect(r.dLogits == ce.dLogits && r.loss == ce.loss) }
        if weight != .plain { #expect(zip(r.dLogits, ce.dLogits).map { abs($0 - $1) }.max()! > 1e-3) }
    }
}
