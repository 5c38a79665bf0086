import Foundation

/// Token-level cross-entropy statistics of a batch of logit rows.
public struct CrossEntropyResult: Sendable {
    /// Mean of −log p(target) over the counted rows (0 when none is counted).
    public var loss: Double
    /// d loss / d logits (N×V), zero on ignored rows; empty when not requested.
    public var dLogits: [Float]
    /// Fraction of counted rows whose target is the arg-max of the logits.
    public var accuracy: Double
    /// Mean entropy (nats) of softmax(logits) over the counted rows.
    public var entropy: Double
    /// Number of counted rows M.
    public var count: Int
}

/// The transformer path's one cross-entropy, on logits (N, V) and targets (N):
///   loss = (1/M) Σ_{n: target ≠ ignore} −log softmax(logits_n)[target_n],
/// M the number of counted positions (M = 0 gives loss 0 and zero gradients), and with
/// `withGradient` dLogits_n = (softmax(logits_n) − onehot(target_n)) / M for counted rows, 0 for
/// ignored rows. Also the arg-max accuracy and the mean entropy H_n = log Z_n − Σ_j p_nj x_nj.
/// Softmax and log-sum-exp are `Softmax`'s (max-shifted, Float32 exponentials summed in Double).
public func crossEntropy(logits: [Float], targets: [Int32], vocab V: Int,
                         ignoreIndex: Int32 = -100, withGradient: Bool = true) -> CrossEntropyResult {
    let N = targets.count
    precondition(logits.count == N * V, "crossEntropy: \(logits.count) logits for \(N) targets × \(V)")
    let counted = targets.filter { $0 != ignoreIndex }.count
    if counted == 0 {
        return CrossEntropyResult(loss: 0, dLogits: withGradient ? [Float](repeating: 0, count: N * V) : [],
                                  accuracy: 0, entropy: 0, count: 0)
    }
    // Every row of dLogits is written below (ignored rows with zeros), so it starts uninitialised.
    var dLogits = withGradient
        ? [Float](unsafeUninitializedCapacity: N * V) { _, count in count = N * V } : []
    let invM = 1 / Double(counted)
    var total = 0.0, entropy = 0.0, correct = 0
    var scratch = [Float](repeating: 0, count: withGradient ? 0 : V)
    logits.withUnsafeBufferPointer { lp in
        dLogits.withUnsafeMutableBufferPointer { dp in
            scratch.withUnsafeMutableBufferPointer { sp in
                for n in 0..<N {
                    if targets[n] == ignoreIndex {
                        if withGradient { (dp.baseAddress! + n * V).update(repeating: 0, count: V) }
                        continue
                    }
                    let y = Int(targets[n])
                    precondition(y >= 0 && y < V, "crossEntropy: target \(y) outside 0..<\(V)")
                    let row = lp.baseAddress! + n * V
                    let probs = withGradient ? dp.baseAddress! + n * V : sp.baseAddress!
                    let logZ = Softmax.softmax(row, count: V, into: probs)
                    total += logZ - Double(row[y])
                    var mean = 0.0
                    for j in 0..<V { mean += Double(probs[j]) * Double(row[j]) }
                    // The arg-max is the first position holding the maximum.
                    let mx = Softmax.maximum(row, count: V)
                    var arg = 0
                    while arg < V - 1 && !(row[arg] == mx) { arg += 1 }
                    entropy += logZ - mean
                    if arg == y { correct += 1 }
                    if withGradient {
                        Softmax.scale(probs, count: V, by: Float(invM))
                        probs[y] -= Float(invM)
                    }
                }
            }
        }
    }
    return CrossEntropyResult(loss: total * invM, dLogits: dLogits, accuracy: Double(correct) * invM,
                              entropy: entropy * invM, count: counted)
}
