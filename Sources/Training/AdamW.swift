import Foundation
import Transformer

/// AdamW hyper-parameters (Loshchilov and Hutter's decoupled weight decay).
public struct AdamWConfig: Codable, Sendable, Equatable {
    public var learningRate: Double
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var epsilon: Double = 1e-8
    /// Decoupled decay, applied to tensors of rank ≥ 2 only (not to RMSNorm gains), as in the
    /// usual "no decay for norms and biases" grouping.
    public var weightDecay: Double = 0.0
    /// Clip the global gradient norm to this value before the update (≤ 0 or ∞: no clipping).
    public var maxGradNorm: Double = 1.0
    public init(learningRate: Double, weightDecay: Double = 0, maxGradNorm: Double = 1) {
        self.learningRate = learningRate; self.weightDecay = weightDecay; self.maxGradNorm = maxGradNorm
    }
}

/// AdamW with bias correction and global-norm gradient clipping.
///
/// One step t (1-based), for every parameter θ with gradient g (after clipping):
///   g ← g · min(1, c / (‖G‖₂ + 1e-6))           ‖G‖₂ the norm over *all* gradient tensors, c = maxGradNorm
///   θ ← θ − η·λ·θ                                (decoupled weight decay, rank ≥ 2 tensors only)
///   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
///   θ ← θ − η · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
/// which is PyTorch's `torch.optim.AdamW` update order. `step` returns ‖G‖₂ before clipping
/// (the `grad_norm` metric). Moments are kept in Float; the squared norm is summed in Float lanes
/// flushed into a Double every 512 terms (`sumOfSquares`).
public final class AdamW {
    public let config: AdamWConfig
    public private(set) var stepCount = 0
    private var m: [[Float]]
    private var v: [[Float]]

    public init(parameters: [Tensor], config: AdamWConfig) {
        self.config = config
        m = parameters.map { [Float](repeating: 0, count: $0.data.count) }
        v = m
    }

    /// The global L2 norm of a list of gradient tensors.
    public static func globalNorm(_ gradients: [Tensor]) -> Double {
        var s = 0.0
        for g in gradients { s += sumOfSquares(g.data) }
        return s.squareRoot()
    }

    /// Applies one update in place and returns the pre-clipping gradient norm. `learningRate`
    /// overrides the configured rate for this step (a schedule).
    @discardableResult
    public func step(parameters: [Tensor], gradients: [Tensor], learningRate: Double? = nil) -> Double {
        precondition(parameters.count == gradients.count && parameters.count == m.count,
                     "AdamW: \(parameters.count) parameters, \(gradients.count) gradients, \(m.count) states")
        stepCount += 1
        let norm = AdamW.globalNorm(gradients)
        var scale: Float = 1
        if config.maxGradNorm > 0, config.maxGradNorm.isFinite, norm > config.maxGradNorm {
            scale = Float(config.maxGradNorm / (norm + 1e-6))
        }
        let lr = Float(learningRate ?? config.learningRate)
        let b1 = Float(config.beta1), b2 = Float(config.beta2), eps = Float(config.epsilon)
        let bc1 = Float(1 - pow(config.beta1, Double(stepCount)))
        let bc2 = Float(1 - pow(config.beta2, Double(stepCount)))
        for k in 0..<parameters.count {
            let p = parameters[k], g = gradients[k]
            precondition(p.data.count == g.data.count, "AdamW: tensor \(p.name) has \(p.data.count) values, gradient \(g.data.count)")
            let decay: Float = p.shape.count >= 2 ? 1 - lr * Float(config.weightDecay) : 1
            m[k].withUnsafeMutableBufferPointer { mk in
                v[k].withUnsafeMutableBufferPointer { vk in
                    g.data.withUnsafeBufferPointer { gk in
                        p.data.withUnsafeMutableBufferPointer { pk in
                            for i in 0..<pk.count {
                                let gi = gk[i] * scale
                                mk[i] = b1 * mk[i] + (1 - b1) * gi
                                vk[i] = b2 * vk[i] + (1 - b2) * gi * gi
                                let mh = mk[i] / bc1, vh = vk[i] / bc2
                                pk[i] = pk[i] * decay - lr * mh / (vh.squareRoot() + eps)
                            }
                        }
                    }
                }
            }
        }
        return norm
    }
}

/// A learning-rate schedule over a stage's optimiser steps (TRL's `lr_scheduler_type`).
///
/// `constant`: η at every step. `linear` (transformers' default, no warm-up): step s = 1…S uses
/// η·(S − (s − 1))/S, from η at the first step down to η/S at the last (0 after the stage).
public enum LRSchedule: String, Codable, Sendable, CaseIterable {
    case constant, linear

    /// The rate at step `s` (1-based) of `total` steps for peak rate `peak`.
    public func rate(peak: Double, step s: Int, total: Int) -> Double {
        switch self {
        case .constant: return peak
        case .linear: return peak * max(0, Double(total - (s - 1))) / Double(max(total, 1))
        }
    }
}
