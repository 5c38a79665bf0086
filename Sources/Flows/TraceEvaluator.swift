import Foundation
import Linalg
import Policies

/// Every ``TraceQuantity`` at θ for a tabular instance, computed prompt by prompt from one
/// softmax per prompt into buffers allocated once (the trace rows of `sftrl flow`).
///
/// Per prompt x with logits z = θ_x (+ log h_x), in the order of the general code
/// (`TraceValues.init(_:at:)` through `Instance.value`/`Instance.gradient`):
///
///     m = max z,  l = m + log Σ exp(z − m),  log p = z − l,  p = exp(log p)
///     L_SFT,x = −Σ_{p_D>0} p_D log p          KL(p_D‖p) = max(0, Σ_{p_D>0} p_D (log p_D − log p))
///     J_x = Σ_{p≠0} p r                       KL(p‖π_ref) = max(0, Σ_{p>0} p (log p − log π_ref))
///     J_β,x = J_x − β KL(p‖π_ref)  (J_x when β = 0)
///     H_x = −Σ_{p>0} p log p                  TV_x = ½ Σ |p − p_D|
///     g_S = q(x)(p − p_D),  g_R = q(x) p∘(a − E_p a),  a = r − β(log p − log π_ref)  (a = r when β = 0)
///
/// every value summed over prompts with q(x) > 0 as q(x)·v in prompt order, ‖g_S‖, ‖g_R‖ and
/// g_S·g_R as running sums over the concatenated gradients in prompt order, the cosine by
/// ``TraceQuantity/cosine(dot:sftNorm:rlNorm:)``. Every sum runs in the general code's order, so
/// the values are its values bit for bit (a test compares them on random instances); log p_D and
/// log π_ref are taken once here. Prompts run on several threads from ``parallelThreshold``
/// logits; each prompt is computed by one thread and the reductions are serial, so the bytes do
/// not depend on the thread count. A prompt whose logits are not all finite sends the whole row
/// to the general code.
final class TraceEvaluator: @unchecked Sendable {
    let instance: Instance
    let total: Int
    let prompts: Int
    let offsets: [Int]
    let beta: Double
    /// Flat per-logit buffers: inputs (log p_D, log π_ref, the base measure) and scratch.
    let logData: UnsafeMutableBufferPointer<Double>
    let logRef: UnsafeMutableBufferPointer<Double>
    let data: UnsafeMutableBufferPointer<Double>
    let reward: UnsafeMutableBufferPointer<Double>
    let reference: UnsafeMutableBufferPointer<Double>
    let base: UnsafeMutableBufferPointer<Double>?
    let logP: UnsafeMutableBufferPointer<Double>
    let p: UnsafeMutableBufferPointer<Double>
    let gradSFT: UnsafeMutableBufferPointer<Double>
    let gradRL: UnsafeMutableBufferPointer<Double>
    /// Per-prompt values, 7 a prompt (sft, reward, reward_reg, kl_data, kl_ref, entropy, tv), and a
    /// flag per prompt (1: logits not all finite).
    let perPrompt: UnsafeMutableBufferPointer<Double>
    let bad: UnsafeMutableBufferPointer<UInt8>
    let chunks: [Int]
    /// Every prompt on the calling thread (tests: the bytes must not change).
    var serial = false

    /// Logits per row from which prompts run concurrently.
    static let parallelThreshold = 1 << 15

    /// An evaluator for `instance`, or nil when its class is not tabular.
    static func make(_ instance: Instance) -> TraceEvaluator? {
        guard case .tabular = instance.policy else { return nil }
        return TraceEvaluator(instance)
    }

    private init(_ instance: Instance) {
        self.instance = instance
        offsets = instance.policy.offsets
        prompts = offsets.count - 1
        let total = offsets[prompts]
        self.total = total
        beta = instance.beta
        func buffer() -> UnsafeMutableBufferPointer<Double> {
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(total, 1))
            b.initialize(repeating: 0)
            return b
        }
        logData = buffer(); logRef = buffer(); data = buffer(); reward = buffer(); reference = buffer()
        logP = buffer(); p = buffer(); gradSFT = buffer(); gradRL = buffer()
        base = instance.logBase == nil ? nil : buffer()
        let prompts = self.prompts, offsets = self.offsets
        perPrompt = .allocate(capacity: 7 * max(prompts, 1))
        perPrompt.initialize(repeating: 0)
        bad = .allocate(capacity: max(prompts, 1))
        bad.initialize(repeating: 0)
        // About equal numbers of logits per chunk, two chunks a core.
        let parts = max(1, min(prompts, 2 * ProcessInfo.processInfo.activeProcessorCount))
        var bounds = [0]
        for c in 1..<parts {
            let target = total * c / parts
            var x = bounds.last!
            while x < prompts && offsets[x] < target { x += 1 }
            if x > bounds.last! && x < prompts { bounds.append(x) }
        }
        bounds.append(prompts)
        chunks = bounds
        for x in 0..<prompts {
            for (j, i) in (offsets[x]..<offsets[x + 1]).enumerated() {
                data[i] = instance.data[x][j]
                logData[i] = Foundation.log(instance.data[x][j])
                reward[i] = instance.reward[x][j]
                reference[i] = instance.reference[x][j]
                logRef[i] = Foundation.log(instance.reference[x][j])
                if let h = instance.logBase { base![i] = h[x][j] }
            }
        }
    }

    deinit {
        for b in [logData, logRef, data, reward, reference, logP, p, gradSFT, gradRL, perPrompt] { b.deallocate() }
        base?.deallocate()
        bad.deallocate()
    }

    /// Every traced quantity at θ (equal, bit for bit, to `TraceValues(instance, at: theta)`).
    func values(at theta: [Double]) -> TraceValues {
        precondition(theta.count == total)
        theta.withUnsafeBufferPointer { t in
            let tAddress = UInt(bitPattern: t.baseAddress!)
            if !serial && total >= TraceEvaluator.parallelThreshold && chunks.count > 2 {
                DispatchQueue.concurrentPerform(iterations: chunks.count - 1) { c in
                    self.promptPass(UnsafePointer<Double>(bitPattern: tAddress)!, prompts: self.chunks[c]..<self.chunks[c + 1])
                }
            } else {
                promptPass(t.baseAddress!, prompts: 0..<prompts)
            }
        }
        if bad.contains(where: { $0 != 0 }) { return TraceValues(instance, at: theta) }
        // Values: Σ_x q(x) v_x over prompts with q(x) > 0, in prompt order.
        var sums = [Double](repeating: 0, count: 7)
        for x in 0..<prompts where instance.weights[x] > 0 {
            let q = instance.weights[x]
            for k in 0..<7 { sums[k] += q * perPrompt[7 * x + k] }
        }
        // Gradients: running sums over the concatenated vectors, as dot(_:_:) does.
        var ss = 0.0, rr = 0.0, sr = 0.0
        for i in 0..<total {
            let a = gradSFT[i], b = gradRL[i]
            ss += a * a
            rr += b * b
            sr += a * b
        }
        let ns = ss.squareRoot(), nr = rr.squareRoot()
        var v: [TraceQuantity: Double] = [:]
        v.reserveCapacity(TraceQuantity.allCases.count)
        v[.sftLoss] = sums[0]
        v[.reward] = sums[1]
        v[.rewardReg] = sums[2]
        v[.klDataPolicy] = sums[3]
        v[.klPolicyRef] = sums[4]
        v[.entropy] = sums[5]
        v[.tvDataPolicy] = sums[6]
        v[.gradSFTNorm] = ns
        v[.gradRLNorm] = nr
        v[.cosSFTRL] = TraceQuantity.cosine(dot: sr, sftNorm: ns, rlNorm: nr)
        return TraceValues(values: v)
    }

    /// The per-prompt values and weighted logit gradients for the prompts in `range`.
    private func promptPass(_ theta: UnsafePointer<Double>, prompts range: Range<Int>) {
        let beta = self.beta
        let lp = logP.baseAddress!, pp = p.baseAddress!, d = data.baseAddress!, ld = logData.baseAddress!
        let r = reward.baseAddress!, lr = logRef.baseAddress!, gs = gradSFT.baseAddress!, gr = gradRL.baseAddress!
        let h = base?.baseAddress
        for x in range {
            let lo = offsets[x], hi = offsets[x + 1]
            // z (into log p), max, log-sum-exp: Dist.logSumExp.
            var m = -Double.infinity
            var finite = true
            for i in lo..<hi {
                let z = h == nil ? theta[i] : theta[i] + h![i]
                lp[i] = z
                if !z.isFinite { finite = false }
                if z > m { m = z }
            }
            guard finite, hi > lo else { bad[x] = 1; continue }
            bad[x] = 0
            var s = 0.0
            for i in lo..<hi { s += Foundation.exp(lp[i] - m) }
            let l = m + Foundation.log(s)
            for i in lo..<hi { lp[i] -= l; pp[i] = Foundation.exp(lp[i]) }
            // Values, each in its own loop (Distributions.swift's loops and early returns).
            var ce = 0.0
            for i in lo..<hi where d[i] > 0 {
                if lp[i] == -.infinity { ce = .infinity; break }
                ce -= d[i] * lp[i]
            }
            var j = 0.0
            for i in lo..<hi where pp[i] != 0 { j += pp[i] * r[i] }
            var klData = 0.0
            for i in lo..<hi where d[i] > 0 {
                if lp[i] == -.infinity { klData = .infinity; break }
                klData += d[i] * (ld[i] - lp[i])
            }
            klData = Swift.max(klData, 0)
            var klRef = 0.0
            for i in lo..<hi where pp[i] > 0 {
                if lr[i] == -.infinity { klRef = .infinity; break }
                klRef += pp[i] * (lp[i] - lr[i])
            }
            klRef = Swift.max(klRef, 0)
            var ent = 0.0
            for i in lo..<hi where pp[i] > 0 { ent -= pp[i] * lp[i] }
            var tv = 0.0
            for i in lo..<hi { tv += abs(pp[i] - d[i]) }
            tv /= 2
            let o = 7 * x
            perPrompt[o] = ce
            perPrompt[o + 1] = j
            perPrompt[o + 2] = beta == 0 ? j : j - beta * klRef
            perPrompt[o + 3] = klData
            perPrompt[o + 4] = klRef
            perPrompt[o + 5] = ent
            perPrompt[o + 6] = tv
            // Weighted logit gradients: q(x)(p − p_D) and q(x)·p∘(a − E_p a) (SoftmaxCalculus.gradient).
            let q = instance.weights[x]
            for i in lo..<hi { gs[i] = q * (pp[i] - d[i]) }
            var mean = 0.0
            if beta == 0 {
                for i in lo..<hi where pp[i] != 0 { mean += pp[i] * r[i] }
                for i in lo..<hi { gr[i] = q * (pp[i] != 0 ? pp[i] * (r[i] - mean) : 0) }
            } else {
                for i in lo..<hi where pp[i] != 0 { mean += pp[i] * (r[i] - beta * (lp[i] - lr[i])) }
                for i in lo..<hi { gr[i] = q * (pp[i] != 0 ? pp[i] * ((r[i] - beta * (lp[i] - lr[i])) - mean) : 0) }
            }
        }
    }
}
