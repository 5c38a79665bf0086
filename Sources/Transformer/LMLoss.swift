import Foundation

/// Token-level cross-entropy on logits (N, V): loss = (1/M) Σ_{n: target ≠ ignore} −log softmax(logits_n)[target_n],
/// M the number of counted positions (M = 0 gives loss 0 and zero gradients).
/// dLogits_n = (softmax(logits_n) − onehot(target_n)) / M for counted rows, 0 for ignored rows.
/// Max-shifted log-sum-exp (sum in Double), so extreme logits do not overflow.
public func crossEntropy(logits: [Float], targets: [Int32], vocab V: Int,
                         ignoreIndex: Int32 = -100) -> (loss: Double, dLogits: [Float]) {
    let N = targets.count
    precondition(logits.count == N * V, "crossEntropy: \(logits.count) logits for \(N) targets × \(V)")
    var dLogits = [Float](repeating: 0, count: N * V)
    let counted = targets.filter { $0 != ignoreIndex }.count
    if counted == 0 { return (0, dLogits) }
    let invM = 1 / Double(counted)
    var total = 0.0
    logits.withUnsafeBufferPointer { lp in
        dLogits.withUnsafeMutableBufferPointer { dp in
            for n in 0..<N where targets[n] != ignoreIndex {
                let y = Int(targets[n])
                precondition(y >= 0 && y < V, "crossEntropy: target \(y) outside 0..<\(V)")
                let row = lp.baseAddress! + n * V, drow = dp.baseAddress! + n * V
                var mx = -Float.infinity
                for j in 0..<V where row[j] > mx { mx = row[j] }
                // e_j = exp(x_j − max) in Float (in (0, 1], no overflow), summed in Double.
                var sum = 0.0
                for j in 0..<V {
                    let e = expf(row[j] - mx)
                    drow[j] = e
                    sum += Double(e)
                }
                total += Double(mx) + Foundation.log(sum) - Double(row[y])
                let scale = Float(invM / sum)
                for j in 0..<V { drow[j] *= scale }
                drow[y] -= Float(invM)
            }
        }
    }
    return (total * invM, dLogits)
}
