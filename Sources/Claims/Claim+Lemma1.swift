import Foundation
import RealModule
import Linalg
import Policies

/// An autoregressive model over V tokens plus an end-of-sequence token, with responses of at most
/// L content tokens, stored in the instance schema: prompt k of the instance is the k-th prefix in
/// length-then-lexicographic order, and its `data` is p(next token | prefix) over V + 1 tokens (EOS
/// last). After L content tokens EOS is forced.
struct Autoregressive {
    let vocab: Int, maxLength: Int

    /// Number of prefixes of length < L: 1 + V + … + V^{L−1}.
    var prefixCount: Int { (0..<maxLength).reduce(0) { $0 + Int(Foundation.pow(Double(vocab), Double($1))) } }

    /// The index of a prefix (length-then-lexicographic).
    func index(of prefix: [Int]) -> Int {
        var base = 0
        for l in 0..<prefix.count { base += Int(Foundation.pow(Double(vocab), Double(l))) }
        return base + prefix.reduce(0) { $0 * vocab + $1 }
    }

    /// Every response: content sequences of length 0…L (each followed by EOS).
    func allResponses() -> [[Int]] {
        var out: [[Int]] = [[]]
        var layer: [[Int]] = [[]]
        for _ in 0..<maxLength {
            layer = layer.flatMap { s in (0..<vocab).map { s + [$0] } }
            out += layer
        }
        return out
    }
}

/// Lemma 1: the token-level SFT loss with the end-of-sequence factor equals the sequence-level
/// loss −log p(y|x), where p(y|x) = Π_j p(y_j|x, y_<j)·p(EOS|x, y) is a normalised distribution over
/// responses; summed over a dataset it is n_SFT times the empirical expectation.
struct Lemma1: PrecisionGenericClaim {
    let id = "lemma1"
    let reference = "Lemma 1"
    let statement = "The token-level SFT loss −Σ_j log p(y_j|x, y_<j) − log p(EOS|x, y) equals the sequence-level −log p(y|x) of a normalised distribution over whole responses; over a dataset of n responses it is n times the empirical expectation."
    let hypotheses: [Hypothesis] = []
    let families: [Family] = [.autoregressive]
    let shrinkable = false
    /// A deliberately false variant for tests: the EOS factor dropped.
    var dropEOS = false

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let v = g.int(2...4), l = g.int(1...3)
        let m = Autoregressive(vocab: v, maxLength: l)
        let data = (0..<m.prefixCount).map { _ in Generate.positiveSimplex(&g, v + 1) }
        let f = Generate.file(beta: 1, weights: [Double](repeating: 1, count: data.count), data: data,
                              reward: data.map { [Double](repeating: 0, count: $0.count) })
        return ClaimInstance(family: family, instance: f, parameters: ["vocab": Double(v), "max_length": Double(l),
                                                                      "n": Double(g.int(1...50)), "dataset_seed": Double(g.int(0...1_000_000))])
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let f = try ci.requireInstance()
        let m = Autoregressive(vocab: Int(try ci.parameter("vocab")), maxLength: Int(try ci.parameter("max_length")))
        guard m.vocab >= 1, m.maxLength >= 0, f.prompts.count == m.prefixCount,
              f.prompts.allSatisfy({ $0.data.count == m.vocab + 1 }) else {
            throw ClaimError.invalid("lemma1: expected \(m.prefixCount) prefixes with \(m.vocab + 1) next-token probabilities each")
        }
        let next = f.prompts.map { $0.data.map { T($0) } }
        // Token-level log-likelihood of a response, with or without the EOS factor.
        func tokenLogLik(_ y: [Int]) -> T {
            var s: T = 0
            for j in y.indices { s += T.log(next[m.index(of: Array(y[..<j]))][y[j]]) }
            if y.count < m.maxLength && !dropEOS { s += T.log(next[m.index(of: y)][m.vocab]) }
            return s
        }
        // Sequence level: the probability of each whole response, by enumeration of the chain rule.
        let responses = m.allResponses()
        let seqProb = responses.map { T.exp(tokenLogLik($0)) }
        let total = seqProb.reduce(0, +)
        // A dataset of n responses drawn from p(y|x) by inverse CDF with a seeded generator.
        var g = SeededGenerator(seed: UInt64(try ci.parameter("dataset_seed")))
        let n = Int(try ci.parameter("n"))
        var tokenLoss: T = 0
        var counts = [Int](repeating: 0, count: responses.count)
        for _ in 0..<n {
            var u = T(g.uniform()) * total, k = 0
            while k < responses.count - 1 && u >= seqProb[k] { u -= seqProb[k]; k += 1 }
            counts[k] += 1
            tokenLoss -= tokenLogLik(responses[k])
        }
        // n · E_empirical[−log p(y|x)] with p(y|x) the normalised sequence distribution.
        var empirical: T = 0
        for k in responses.indices where counts[k] > 0 { empirical -= T(counts[k]) / T(n) * T.log(seqProb[k] / total) }
        let conclusion = Swift.min(identityMargin(total, 1), identityMargin(tokenLoss, T(n) * empirical))
        return evaluation(conclusion: conclusion,
                          quantities: ["total_probability": total, "token_level_loss": tokenLoss, "n_times_empirical": T(n) * empirical, "responses": T(responses.count)])
    }
}

extension Lemma1 {
    var paperVersion: PaperVersion { .v1 }
    var workedExample: WorkedExample? {
        WorkedExample("V = 2 tokens plus EOS, responses of at most 1 token: p(next | empty prefix) = (0.5, 0.3, 0.2) (EOS last), a dataset of n = 5 responses",
                      ClaimInstance(family: .autoregressive, instance: Generate.file(beta: 1, weights: [1], data: [[0.5, 0.3, 0.2]], reward: [[0, 0, 0]]),
                                    parameters: ["vocab": 2, "max_length": 1, "n": 5, "dataset_seed": 7]))
    }
}
