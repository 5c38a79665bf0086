import Dispatch
import Foundation
import Linalg
import Policies

/// The flow field v(θ) = a·∇J_β(θ) − b·∇L_SFT(θ) of a tabular or log-linear (affine-logit) class
/// on contiguous storage: the fast right-hand side behind ``PolicyFlow/system``.
///
/// Every per-prompt quantity lives in one flat buffer indexed by the global response index
/// k ∈ offsets[x]..<offsets[x+1] (data, reward, log π_ref, the probabilities), allocated once;
/// an evaluation allocates nothing. With logits z (tabular: z = θ; affine class: z = c + Φθ, Φ
/// the stacked feature matrix), per prompt x with m = max z, s = Σ e^{z−m}:
///
///     p_k = e^{z_k − m} / s                      (one exp per logit, one log per prompt),
///     log p_k = z_k − m − log s,
///     ∇_{z_x} J_β = p ∘ (α − E_p α),  α = r − β(log p − log π_ref)   (α = r when β = 0),
///     ∇_{z_x} L_SFT = p − p_D,
///     g_x = q(x)·(a·∇_{z_x}J_β − b·∇_{z_x}L_SFT),        v = g (tabular) or Φᵀg (affine).
///
/// These are the formulas of `Instance.gradient` (Objective.swift) in the order of a fused loop;
/// log π_ref is taken once at construction. Prompts are split into chunks run concurrently
/// (`DispatchQueue.concurrentPerform`) when there are at least ``parallelThreshold`` logits; each
/// prompt is computed by one thread in a fixed order, so the result does not depend on the
/// thread count. The affine class is computed serially (its pull-back Φᵀg is a reduction).
///
/// The field is checked against the generic core (`PolicyFlow.velocity(at:)`) near θ₀ when built
/// (tabular instances above 2¹⁶ logits skip the check: the identity class is covered by tests)
/// (``make(instance:kind:)`` returns nil when they differ by more than 1e-9 relative, so a class
/// whose logits are not what this type assumes falls back to the generic path).
final class PackedFlowField: @unchecked Sendable {
    let total: Int
    let prompts: Int
    let dimension: Int
    let offsets: UnsafeMutableBufferPointer<Int>
    let q: UnsafeMutableBufferPointer<Double>
    let data: UnsafeMutableBufferPointer<Double>
    let reward: UnsafeMutableBufferPointer<Double>
    let logRef: UnsafeMutableBufferPointer<Double>
    /// Probabilities (scratch) and, for the affine class, logits and logit gradients.
    let probs: UnsafeMutableBufferPointer<Double>
    let logits: UnsafeMutableBufferPointer<Double>
    let logitGrad: UnsafeMutableBufferPointer<Double>
    /// Affine class: z = offset + Φθ, Φ row-major total × dimension (nil for tabular).
    let features: UnsafeMutableBufferPointer<Double>?
    let logitOffset: UnsafeMutableBufferPointer<Double>?
    let beta: Double
    let rlWeight: Double
    let sftWeight: Double
    /// Chunks of prompts for the parallel evaluation (prompt index bounds).
    let chunks: [Int]

    /// Logits per evaluation from which the tabular evaluation runs on several threads.
    static let parallelThreshold = 1 << 15

    /// A packed field for `instance` under `kind`, or nil when the class is not tabular or
    /// log-linear, or the packed field disagrees with the generic core at θ₀.
    static func make(instance: Instance, kind: PhaseKind, checked: Bool = true) -> PackedFlowField? {
        let field: PackedFlowField
        var affineProbe = false
        if case .tabular = instance.policy {
            field = PackedFlowField(instance: instance, kind: kind, affine: nil)
        } else if case .loglinear = instance.policy {
            // Φ and the offset c by probing the class's own logits: c = z(0), Φe_k = z(e_k) − c.
            let d = instance.policy.dimension
            let c = Array(instance.policy.logits([Double](repeating: 0, count: d)).joined())
            var phi = [Double](repeating: 0, count: c.count * d)
            for k in 0..<d {
                var e = [Double](repeating: 0, count: d)
                e[k] = 1
                let z = Array(instance.policy.logits(e).joined())
                for i in 0..<c.count { phi[i * d + k] = z[i] - c[i] }
            }
            field = PackedFlowField(instance: instance, kind: kind, affine: (phi, c))
            affineProbe = true
        } else {
            return nil
        }
        // The tabular field is the identity class (z = θ) and is tested against the generic core;
        // its run-time check is skipped on large instances, where it would cost two generic
        // evaluations per phase. An affine class is always checked (its Φ and offset are probed).
        if !checked || (affineProbe == false && instance.policy.dimension > 1 << 16) { return field }
        // Self-check against the generic core at a point near θ₀ (shifted so that no symmetry of
        // the start hides a missing term).
        guard let flow = try? PolicyFlow(instance: instance, kind: kind, packed: false) else { return nil }
        var probe = instance.start
        for i in probe.indices { probe[i] += 0.01 * Double((i * 7919) % 13) - 0.06 }
        for theta in [probe] {
            let reference = flow.velocity(at: theta)
            var mine = [Double](repeating: 0, count: reference.count)
            theta.withUnsafeBufferPointer { t in mine.withUnsafeMutableBufferPointer { field.evaluate(t.baseAddress!, $0.baseAddress!) } }
            let scale = max(1e-300, reference.map(abs).max() ?? 0)
            for i in reference.indices where !(abs(reference[i] - mine[i]) <= 1e-9 * scale + 1e-300) { return nil }
        }
        return field
    }

    private init(instance: Instance, kind: PhaseKind, affine: (phi: [Double], offset: [Double])?) {
        let sizes = instance.responseCounts
        prompts = sizes.count
        total = sizes.reduce(0, +)
        dimension = instance.policy.dimension
        func buffer<T: Numeric>(_ n: Int, _ v: T) -> UnsafeMutableBufferPointer<T> {
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(n, 1))
            b.initialize(repeating: v)
            return b
        }
        offsets = buffer(prompts + 1, 0)
        for x in 0..<prompts { offsets[x + 1] = offsets[x] + sizes[x] }
        q = buffer(prompts, 0.0)
        data = buffer(total, 0.0)
        reward = buffer(total, 0.0)
        logRef = buffer(total, 0.0)
        probs = buffer(total, 0.0)
        logits = buffer(total, 0.0)
        logitGrad = buffer(total, 0.0)
        for x in 0..<prompts {
            q[x] = instance.weights[x]
            for j in 0..<sizes[x] {
                let k = offsets[x] + j
                data[k] = instance.data[x][j]
                reward[k] = instance.reward[x][j]
                logRef[k] = Foundation.log(instance.reference[x][j])
            }
        }
        if let affine {
            let f = buffer(affine.phi.count, 0.0)
            _ = f.update(fromContentsOf: affine.phi)
            features = f
            let c = buffer(total, 0.0)
            _ = c.update(fromContentsOf: affine.offset)
            logitOffset = c
        } else {
            features = nil
            logitOffset = nil
        }
        beta = instance.beta
        (rlWeight, sftWeight) = kind.weights
        // About 2^13 logits per chunk, whole prompts.
        var bounds = [0]
        var acc = 0
        for x in 0..<prompts {
            acc += sizes[x]
            if acc >= 1 << 13 && x + 1 < prompts { bounds.append(x + 1); acc = 0 }
        }
        bounds.append(prompts)
        chunks = bounds
    }

    deinit {
        offsets.deallocate()
        for b in [q, data, reward, logRef, probs, logits, logitGrad] { b.deallocate() }
        features?.deallocate()
        logitOffset?.deallocate()
    }

    /// v(θ) into `out` (dimension entries).
    func evaluate(_ theta: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
        if let phi = features, let c = logitOffset {
            let d = dimension
            for i in 0..<total {
                var s = c[i]
                let row = i * d
                for k in 0..<d { s += phi[row + k] * theta[k] }
                logits[i] = s
            }
            logitGradients(UnsafePointer(logits.baseAddress!), logitGrad.baseAddress!, prompts: 0..<prompts)
            for k in 0..<d { out[k] = 0 }
            for i in 0..<total {
                let g = logitGrad[i]
                if g == 0 { continue }
                let row = i * d
                for k in 0..<d { out[k] += g * phi[row + k] }
            }
            return
        }
        if total >= PackedFlowField.parallelThreshold && chunks.count > 2 {
            let outAddress = UInt(bitPattern: out), thetaAddress = UInt(bitPattern: theta)
            DispatchQueue.concurrentPerform(iterations: chunks.count - 1) { c in
                let o = UnsafeMutablePointer<Double>(bitPattern: outAddress)!
                let t = UnsafePointer<Double>(bitPattern: thetaAddress)!
                self.logitGradients(t, o, prompts: self.chunks[c]..<self.chunks[c + 1])
            }
        } else {
            logitGradients(theta, out, prompts: 0..<prompts)
        }
    }

    /// g_x = q(x)(a·∇_z J_β − b·∇_z L_SFT) for the prompts in `range`, from logits z into g.
    @inline(__always)
    func logitGradients(_ z: UnsafePointer<Double>, _ g: UnsafeMutablePointer<Double>, prompts range: Range<Int>) {
        let a = rlWeight, b = sftWeight, beta = self.beta
        let p = probs.baseAddress!, d = data.baseAddress!, r = reward.baseAddress!, lr = logRef.baseAddress!
        for x in range {
            let lo = offsets[x], hi = offsets[x + 1]
            var m = -Double.infinity
            for k in lo..<hi where z[k] > m { m = z[k] }
            var s = 0.0
            for k in lo..<hi {
                let e = Foundation.exp(z[k] - m)
                p[k] = e
                s += e
            }
            let inv = 1 / s
            let shift = m + Foundation.log(s)
            let w = q[x]
            if a != 0 {
                var mean = 0.0
                if beta > 0 {
                    for k in lo..<hi {
                        p[k] *= inv
                        mean += p[k] * (r[k] - beta * (z[k] - shift - lr[k]))
                    }
                    for k in lo..<hi {
                        let adv = r[k] - beta * (z[k] - shift - lr[k])
                        var v = a * p[k] * (adv - mean)
                        if b != 0 { v -= b * (p[k] - d[k]) }
                        g[k] = w * v
                    }
                } else {
                    for k in lo..<hi {
                        p[k] *= inv
                        mean += p[k] * r[k]
                    }
                    for k in lo..<hi {
                        var v = a * p[k] * (r[k] - mean)
                        if b != 0 { v -= b * (p[k] - d[k]) }
                        g[k] = w * v
                    }
                }
            } else {
                for k in lo..<hi { g[k] = w * (-b * (p[k] * inv - d[k])) }
            }
        }
    }
}
