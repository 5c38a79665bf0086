import Foundation

/// How a step's local error estimate is measured against the tolerance, with the scale
/// sc_i = atol + rtol·max(|y_i|, |y_i^new|).
///
/// - `max`: every component must meet its own tolerance, max_i |err_i|/sc_i ≤ 1 (GSL's standard
///   control does this with sc_i = atol + rtol·|y_i|; the GSL steppers offer only this norm).
/// - `rms`: the root mean square over the n components, (Σ_i (err_i/sc_i)²/n)^{1/2} ≤ 1
///   (Hairer's DOP853 and scipy's solve_ivp): one component may exceed its tolerance where others
///   are well inside it, so steps are longer for the same tolerance.
public enum ErrorNorm: String, CaseIterable, Sendable, Codable {
    case max, rms
}

/// The toolkit's own DOP853 (Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.10): Dormand and
/// Prince's explicit Runge–Kutta method of order 8 with 12 stages (f at the new point is the
/// next step's first stage, so an accepted step costs 12 evaluations, a rejected one 11), its
/// error estimate and step control, and its **continuous extension of order 7**
/// (``prepareDenseOutput()``, 3 more evaluations per step, then ``denseState(theta:into:)``).
///
/// Error estimate (Hairer's, as in dop853.f and scipy): with e5 = Σ_j E5_j k_j/sc and
/// e3 = Σ_j E3_j k_j/sc (componentwise), err = |h|·‖e5‖²/(‖e5‖² + 0.01‖e3‖²)^{1/2}, where for
/// ``ErrorNorm/rms`` ‖·‖² = Σ_i (·)_i²/n and for ``ErrorNorm/max`` the same ratio is taken per
/// component and maximised. A step is accepted when err < 1; the next step is h·min(10,
/// 0.9·err^{−1/8}) (no growth right after a rejection), a rejected one is retried with
/// h·max(0.2, 0.9·err^{−1/8}); a stage with a non-finite value counts as a rejection.
///
/// Buffers (18 + 7 vectors of n) are allocated once; a step allocates nothing.
final class DOP853Session {
    typealias C = DOP853Coefficients
    let context: CallbackContext
    let n: Int
    let rtol: Double
    let atol: Double
    let norm: ErrorNorm
    private(set) var rejectedSteps = 0

    /// Stages k_0 … k_15, n each, in one block.
    private let k: UnsafeMutablePointer<Double>
    private let yStage: UnsafeMutablePointer<Double>
    /// The last accepted step's start and end states.
    private let yOld: UnsafeMutablePointer<Double>
    private let yNew: UnsafeMutablePointer<Double>
    /// The interpolant's coefficients F_0 … F_6, n each.
    private let dense: UnsafeMutablePointer<Double>
    /// k_0 holds f at the current point.
    private var firstStageValid = false
    /// k_12 holds f at the current point (the last accepted step's end): copied to k_0 first.
    private var firstStageInLast = false
    /// The last accepted step (start, signed length) and whether its interpolant is built.
    private var lastStep: (t: Double, h: Double)?
    private var denseReady = false

    init(context: CallbackContext, rtol: Double, atol: Double, norm: ErrorNorm) {
        self.context = context
        n = context.dimension
        self.rtol = rtol
        self.atol = atol
        self.norm = norm
        k = .allocate(capacity: 16 * n)
        k.initialize(repeating: 0, count: 16 * n)
        func vector(_ count: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            return p
        }
        yStage = vector(n)
        yOld = vector(n)
        yNew = vector(n)
        dense = vector(7 * n)
    }

    deinit {
        for p in [k, yStage, yOld, yNew, dense] { p.deallocate() }
    }

    @inline(__always) private func stage(_ j: Int) -> UnsafeMutablePointer<Double> { k + j * n }

    var exactDerivativeAtEnd: UnsafePointer<Double>? {
        lastStep == nil ? nil : UnsafePointer(stage(12))
    }

    /// Takes f(t, y) at the point the next step starts from (already evaluated by the caller,
    /// e.g. for the initial step size), saving one evaluation.
    func setFirstStage(_ f: UnsafePointer<Double>) {
        stage(0).update(from: f, count: n)
        firstStageValid = true
        firstStageInLast = false
    }

    func reset() throws {
        firstStageValid = false
        firstStageInLast = false
        lastStep = nil
        denseReady = false
    }

    /// f(t, state) into `out`, counted; false when a component is not finite.
    private func evaluate(_ t: Double, _ state: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>) throws -> Bool {
        context.rhsEvaluations += 1
        let o = UnsafeMutableBufferPointer(start: out, count: n)
        do {
            try context.rhs(t, UnsafeBufferPointer(start: state, count: n), o)
        } catch {
            throw IntegrationError.userFunction(t: t, message: "f(t, y) threw: \(error)")
        }
        for i in 0..<n where !o[i].isFinite {
            context.nonFinite = (t, i)
            return false
        }
        return true
    }

    /// The nonzero weights of each row of `a` (rows 0–15), of b and of d, as (stage, weight).
    private static let sparseA: [[(Int, Double)]] = C.a.map(sparse)
    private static let sparseB: [(Int, Double)] = sparse(C.b)
    private static let sparseD: [[(Int, Double)]] = C.d.map(sparse)
    private static func sparse(_ w: [Double]) -> [(Int, Double)] {
        w.enumerated().filter { $0.element != 0 }.map { ($0.offset, $0.element) }
    }

    /// out = base + h·Σ_j w_j k_j over the nonzero weights (summed first, then scaled and added,
    /// so the increment keeps its own precision). Runs over blocks of 512 components so that the
    /// partial sums stay in the L1 cache while each stage streams through once.
    private func combine(into out: UnsafeMutablePointer<Double>, base: UnsafePointer<Double>, h: Double,
                         weights: [(Int, Double)]) {
        guard let (j0, w0) = weights.first else {
            out.update(from: base, count: n)
            return
        }
        var lo = 0
        while lo < n {
            let hi = Swift.min(lo + 512, n)
            let k0 = stage(j0)
            for i in lo..<hi { out[i] = w0 * k0[i] }
            for (j, w) in weights.dropFirst() {
                let kj = stage(j)
                for i in lo..<hi { out[i] += w * kj[i] }
            }
            for i in lo..<hi { out[i] = base[i] + h * out[i] }
            lo = hi
        }
    }

    /// The error measure of the step of length h from y to yNew (< 1: accept).
    private func errorMeasure(y: UnsafePointer<Double>, h: Double) -> Double {
        let e5 = C.e5, e3 = C.e3
        let k0 = stage(0), k5 = stage(5), k6 = stage(6), k7 = stage(7), k8 = stage(8)
        let k9 = stage(9), k10 = stage(10), k11 = stage(11)
        var s5 = 0.0, s3 = 0.0, largest = 0.0
        for i in 0..<n {
            let scale = Swift.max(atol + rtol * Swift.max(abs(y[i]), abs(yNew[i])), Double.leastNormalMagnitude)
            let a5 = e5[0] * k0[i] + e5[5] * k5[i] + e5[6] * k6[i] + e5[7] * k7[i] + e5[8] * k8[i]
                + e5[9] * k9[i] + e5[10] * k10[i] + e5[11] * k11[i]
            let a3 = e3[0] * k0[i] + e3[5] * k5[i] + e3[6] * k6[i] + e3[7] * k7[i] + e3[8] * k8[i]
                + e3[9] * k9[i] + e3[10] * k10[i] + e3[11] * k11[i]
            let r5 = a5 / scale, r3 = a3 / scale
            switch norm {
            case .rms:
                s5 += r5 * r5
                s3 += r3 * r3
            case .max:
                let d = r5 * r5 + 0.01 * r3 * r3
                if d > 0 { largest = Swift.max(largest, r5 * r5 / d.squareRoot()) }
            }
        }
        switch norm {
        case .rms:
            if s5 == 0 && s3 == 0 { return 0 }
            return abs(h) * s5 / ((s5 + 0.01 * s3) * Double(n)).squareRoot()
        case .max:
            return abs(h) * largest
        }
    }

    func step(t: inout Double, to end: Double, h: inout Double, y: UnsafeMutablePointer<Double>) throws {
        let start = t
        let direction: Double = end >= t ? 1 : -1
        if firstStageInLast {
            stage(0).update(from: stage(12), count: n)
            firstStageInLast = false
            firstStageValid = true
        }
        if !firstStageValid {
            guard try evaluate(t, y, into: stage(0)) else {
                throw IntegrationError.nonFinite(t: t, component: context.nonFinite?.component ?? 0)
            }
            firstStageValid = true
        }
        let exponent = -1.0 / 8.0
        var hAbs = abs(h)
        var rejectedHere = false
        let minStep = 10 * Swift.max(abs(t).ulp, Double.leastNonzeroMagnitude)
        while true {
            if hAbs < minStep {
                if let (tBad, component) = context.nonFinite { throw IntegrationError.nonFinite(t: tBad, component: component) }
                throw IntegrationError.noProgress(t: start, step: direction * hAbs)
            }
            var tNew = t + direction * hAbs
            let cut = direction * (tNew - end) >= 0
            if cut { tNew = end }
            let hh = tNew - t
            context.clearNonFinite()
            var finite = true
            for s in 1...11 {
                combine(into: yStage, base: y, h: hh, weights: Self.sparseA[s])
                if try !evaluate(t + C.c[s] * hh, yStage, into: stage(s)) { finite = false; break }
            }
            var err = Double.infinity
            if finite {
                combine(into: yNew, base: y, h: hh, weights: Self.sparseB)
                if (0..<n).allSatisfy({ yNew[$0].isFinite }) { err = errorMeasure(y: y, h: hh) }
            }
            if err < 1 {
                guard try evaluate(tNew, yNew, into: stage(12)) else {
                    throw IntegrationError.nonFinite(t: tNew, component: context.nonFinite?.component ?? 0)
                }
                var factor = err == 0 ? 10 : Swift.min(10, 0.9 * pow(err, exponent))
                if rejectedHere { factor = Swift.min(1, factor) }
                yOld.update(from: y, count: n)
                y.update(from: yNew, count: n)
                lastStep = (t, hh)
                denseReady = false
                firstStageInLast = true
                firstStageValid = false
                t = tNew
                if !(cut && !rejectedHere) { h = direction * abs(hh) * factor }
                return
            }
            rejectedSteps += 1
            rejectedHere = true
            let shrink = err.isFinite ? Swift.max(0.2, 0.9 * pow(err, exponent)) : 0.2
            hAbs = abs(hh) * shrink
        }
    }

    /// Builds the order-7 interpolant of the last accepted step (3 evaluations of f: the extra
    /// stages 13–15), once per step: with Δ = y₁ − y₀, F₀ = Δ, F₁ = h·k₀ − Δ,
    /// F₂ = 2Δ − h·(k₁₂ + k₀) and F₃₊ᵣ = h·Σ_j d_rj k_j (r = 0 … 3).
    func prepareDenseOutput() throws {
        guard let (t0, hh) = lastStep, !denseReady else { return }
        for s in 13...15 {
            combine(into: yStage, base: yOld, h: hh, weights: Self.sparseA[s])
            guard try evaluate(t0 + C.c[s] * hh, yStage, into: stage(s)) else {
                throw IntegrationError.nonFinite(t: t0 + C.c[s] * hh, component: context.nonFinite?.component ?? 0)
            }
        }
        let f0 = dense, f1 = dense + n, f2 = dense + 2 * n
        let k0 = stage(0), k12 = stage(12)
        for i in 0..<n {
            let delta = yNew[i] - yOld[i]
            f0[i] = delta
            f1[i] = hh * k0[i] - delta
            f2[i] = 2 * delta - hh * (k12[i] + k0[i])
        }
        let zero = UnsafePointer(yStage)
        for i in 0..<n { yStage[i] = 0 }
        for r in 0..<4 { combine(into: dense + (3 + r) * n, base: zero, h: hh, weights: Self.sparseD[r]) }
        denseReady = true
    }

    /// The interpolant at t₀ + θ·h of the last accepted step (after ``prepareDenseOutput()``):
    /// y₀ + θ(F₀ + (1−θ)(F₁ + θ(F₂ + (1−θ)(F₃ + θ(F₄ + (1−θ)(F₅ + θF₆)))))), which is y₀ at θ = 0
    /// and y₁ at θ = 1; its error is O(h⁸) (order 7) on top of the step's own.
    func denseState(theta x: Double, into out: UnsafeMutablePointer<Double>) {
        let u = 1 - x
        let f0 = dense, f1 = dense + n, f2 = dense + 2 * n, f3 = dense + 3 * n
        let f4 = dense + 4 * n, f5 = dense + 5 * n, f6 = dense + 6 * n
        for i in 0..<n {
            let inner = f3[i] + x * (f4[i] + u * (f5[i] + x * f6[i]))
            out[i] = yOld[i] + x * (f0[i] + u * (f1[i] + x * (f2[i] + u * inner)))
        }
    }
}

extension DOP853Session: StepSession {}
