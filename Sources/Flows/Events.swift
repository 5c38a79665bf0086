/// Which crossings of an event's level count, in the order of integration.
public enum EventDirection: String, Sendable, Codable, Equatable {
    /// g − level goes from < 0 to ≥ 0.
    case up
    /// g − level goes from > 0 to ≤ 0.
    case down
    /// Either of the two.
    case either
}

/// A scalar quantity g(t, y) watched during integration; a hit is a time where g crosses
/// `level`.
///
/// **Detection.** Let s(t) = g(t, y(t)) − level, taken in the order of integration. A crossing is a
/// change of s from < 0 to ≥ 0 (up) or from > 0 to ≤ 0 (down); touching the level from one side
/// and leaving it on the same side counts once, as the approach. s(t₀) = 0 is not a crossing.
/// In each accepted step [tₐ, t_b] the integrator evaluates s at the step ends (exact states) and
/// at `eventSamplesPerStep − 1` interior points of the step's cubic Hermite interpolant (built
/// from y and f at both ends), so two crossings inside one step are both seen as long as they
/// are more than about (t_b − tₐ)/eventSamplesPerStep apart; scipy's `solve_ivp` looks at step
/// ends only (scipy issue 9228).
///
/// **Location.** Each sign change between samples is confirmed and located on the exact
/// solution, not the interpolant: y(τ) for τ inside the step is obtained by re-integrating from
/// (tₐ, y(tₐ)) to τ with a one-step method at the same tolerances, and Brent's method brackets
/// the root of s to ``IntegratorOptions/eventTimeTolerance`` (plus 2 ulp of t). A sign change of
/// the interpolant that the exact solution does not confirm is dropped. If the exact step ends
/// show a crossing that the samples missed, it is located on [tₐ, t_b]. The located time is as
/// accurate as the state: about tolerance / |ds/dt|.
///
/// `quantity` must be a function of (t, y) only and finite; a NaN never counts as a crossing.
public struct Event {
    /// A label reported in ``EventHit/name``.
    public var name: String
    /// g(t, y).
    public var quantity: (_ t: Double, _ y: [Double]) -> Double
    /// The level L whose crossings are reported. Default 0.
    public var level: Double
    /// Which crossings count. Default ``EventDirection/either``.
    public var direction: EventDirection
    /// When true, the integration stops at this event's first hit: ``Trajectory/finalTime`` is
    /// the hit time and later output times are not recorded. Default false.
    public var isTerminal: Bool

    public init(name: String, level: Double = 0, direction: EventDirection = .either, isTerminal: Bool = false,
                quantity: @escaping (_ t: Double, _ y: [Double]) -> Double) {
        self.name = name
        self.quantity = quantity
        self.level = level
        self.direction = direction
        self.isTerminal = isTerminal
    }
}

/// One located crossing.
public struct EventHit: Sendable, Equatable {
    /// The event's name.
    public var name: String
    /// The event's position in the `events` argument.
    public var index: Int
    /// The crossing time.
    public var t: Double
    /// y(t), from the re-integration that located t.
    public var y: [Double]
    /// The crossing's direction, ``EventDirection/up`` or ``EventDirection/down``.
    public var direction: EventDirection
}

/// The crossing between two consecutive values of s = g − level, if it counts for `wanted`.
@inline(__always)
func crossing(_ a: Double, _ b: Double, _ wanted: EventDirection) -> EventDirection? {
    if a < 0 && b >= 0 && wanted != .down { return .up }
    if a > 0 && b <= 0 && wanted != .up { return .down }
    return nil
}

extension IntegrationRun {
    /// s_e = g_e(t, state) − level_e for every event, into `values`.
    func eventValues(_ t: Double, _ state: UnsafeMutableBufferPointer<Double>, into values: inout [Double]) {
        eventArgument.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: state) }
        for (e, event) in events.enumerated() { values[e] = event.quantity(t, eventArgument) - event.level }
    }

    /// Prepares f and s at the start of the integration.
    func beginEvents(at t0: Double) throws {
        try evaluateRHS(t0, y, into: fStart)
        eventValues(t0, y, into: &eventStart)
    }

    /// Writes the cubic Hermite interpolant of the step at t = tₐ + θ·h into `scratch`:
    /// y(θ) = (2θ³−3θ²+1)·yₐ + (θ³−2θ²+θ)·h·fₐ + (−2θ³+3θ²)·y_b + (θ³−θ²)·h·f_b.
    /// It matches y and f at both ends; its error is O(h⁴).
    func interpolate(_ theta: Double, h: Double) {
        let t2 = theta * theta, t3 = t2 * theta
        let a = 2 * t3 - 3 * t2 + 1, b = (t3 - 2 * t2 + theta) * h
        let c = -2 * t3 + 3 * t2, d = (t3 - t2) * h
        for i in 0..<n { scratch[i] = a * yStart[i] + b * fStart[i] + c * y[i] + d * fEnd[i] }
    }

    /// Crossings in (tₐ, t_b] of the step just accepted (whose start is in `yStart`, `fStart`,
    /// `eventStart` and end in `y`), in time order, ending at the first terminal one. Moves the
    /// end values to the start values for the next step.
    func locateEvents(from ta: Double, to tb: Double) throws -> [EventHit] {
        if let exact = main.exactDerivativeAtEnd {
            _ = fEnd.update(fromContentsOf: UnsafeBufferPointer(start: exact, count: n))
        } else {
            try evaluateRHS(tb, y, into: fEnd)
        }
        eventValues(tb, y, into: &eventEnd)
        defer {
            _ = fStart.update(fromContentsOf: fEnd)
            swap(&eventStart, &eventEnd)
        }
        let m = options.eventSamplesPerStep
        let h = tb - ta
        let count = events.count
        func time(_ k: Int) -> Double { k == m ? tb : ta + Double(k) / Double(m) * h }

        // Interpolant samples: row k holds s_e at θ = k/m (rows 0 and m are exact).
        var samples = [Double](repeating: 0, count: (m + 1) * count)
        var row = [Double](repeating: 0, count: count)
        for e in 0..<count {
            samples[e] = eventStart[e]
            samples[m * count + e] = eventEnd[e]
        }
        for k in stride(from: 1, to: m, by: 1) {
            interpolate(Double(k) / Double(m), h: h)
            eventValues(time(k), scratch, into: &row)
            for e in 0..<count { samples[k * count + e] = row[e] }
        }

        // Exact s at sample k, re-integrating at most once per sample.
        var exactRows = [[Double]?](repeating: nil, count: m + 1)
        func exact(_ k: Int) throws -> [Double] {
            if k == 0 { return Array(samples[0..<count]) }
            if k == m { return eventEnd }
            if let r = exactRows[k] { return r }
            try reintegrate(from: ta, to: time(k))
            var r = [Double](repeating: 0, count: count)
            eventValues(time(k), scratch, into: &r)
            exactRows[k] = r
            return r
        }
        func exactValue(_ e: Int, at tau: Double) throws -> Double {
            if tau == tb { return eventEnd[e] }
            try reintegrate(from: ta, to: tau)
            var r = row
            eventValues(tau, scratch, into: &r)
            return r[e]
        }

        var hits: [EventHit] = []
        for e in 0..<count {
            let wanted = events[e].direction
            var found = false
            for k in 0..<m where crossing(samples[k * count + e], samples[(k + 1) * count + e], wanted) != nil {
                var lo = time(k), hi = time(k + 1)
                var sLo = try exact(k)[e], sHi = try exact(k + 1)[e]
                if crossing(sLo, sHi, wanted) == nil {
                    // The interpolant's crossing is not bracketed by the exact samples: split at
                    // the interpolant's root and keep the half where the exact solution crosses.
                    let tau = findRoot(lo, hi, samples[k * count + e], samples[(k + 1) * count + e],
                                       tolerance: options.eventTimeTolerance) { tau in
                        interpolate((tau - ta) / h, h: h)
                        eventValues(tau, scratch, into: &row)
                        return row[e]
                    }
                    let sMid = try exactValue(e, at: tau)
                    if crossing(sLo, sMid, wanted) != nil {
                        hi = tau; sHi = sMid
                    } else if crossing(sMid, sHi, wanted) != nil {
                        lo = tau; sLo = sMid
                    } else {
                        continue  // not confirmed by the exact solution
                    }
                }
                hits.append(try locate(e, ta: ta, lo: lo, hi: hi, sLo: sLo, sHi: sHi))
                found = true
            }
            if !found && crossing(eventStart[e], eventEnd[e], wanted) != nil {
                hits.append(try locate(e, ta: ta, lo: ta, hi: tb, sLo: eventStart[e], sHi: eventEnd[e]))
            }
        }
        hits.sort { $0.t == $1.t ? $0.index < $1.index : ($0.t < $1.t) == (direction > 0) }
        if let first = hits.firstIndex(where: { events[$0.index].isTerminal }) {
            hits.removeSubrange((first + 1)...)
        }
        return hits
    }

    /// Brent's method on the exact s_e over a bracket [lo, hi] with a counted sign change,
    /// then y at the root.
    func locate(_ e: Int, ta: Double, lo: Double, hi: Double, sLo: Double, sHi: Double) throws -> EventHit {
        var values = [Double](repeating: 0, count: events.count)
        let root = try findRoot(lo, hi, sLo, sHi, tolerance: options.eventTimeTolerance) { tau in
            try reintegrate(from: ta, to: tau)
            eventValues(tau, scratch, into: &values)
            return values[e]
        }
        try reintegrate(from: ta, to: root)
        return EventHit(name: events[e].name, index: e, t: root, y: Array(scratch),
                        direction: crossing(sLo, sHi, .either) ?? .either)
    }
}

/// Brent's root finder (inverse quadratic interpolation, secant and bisection steps on a kept
/// bracket) for a sign change of f on [a, b], given f(a) and f(b) of opposite signs or one of
/// them zero. Stops when the bracket is below 2·(2ε|x| + tolerance/2) or after 200 iterations;
/// returns the best estimate.
func findRoot(_ a0: Double, _ b0: Double, _ fa0: Double, _ fb0: Double, tolerance: Double,
              _ f: (Double) throws -> Double) rethrows -> Double {
    if fb0 == 0 { return b0 }
    if fa0 == 0 { return a0 }
    var a = a0, b = b0, fa = fa0, fb = fb0
    var c = b, fc = fb
    var d = b - a, e = d
    for _ in 0..<200 {
        if (fb > 0) == (fc > 0) {  // keep the root between b and c
            c = a; fc = fa
            d = b - a; e = d
        }
        if abs(fc) < abs(fb) {  // b is the best estimate
            a = b; b = c; c = a
            fa = fb; fb = fc; fc = fa
        }
        let tol = 2 * Double.ulpOfOne * abs(b) + 0.5 * tolerance
        let half = 0.5 * (c - b)
        if abs(half) <= tol || fb == 0 { return b }
        if abs(e) >= tol && abs(fa) > abs(fb) {
            let s = fb / fa
            var p: Double, q: Double
            if a == c {  // secant
                p = 2 * half * s
                q = 1 - s
            } else {  // inverse quadratic interpolation
                let qa = fa / fc, r = fb / fc
                p = s * (2 * half * qa * (qa - r) - (b - a) * (r - 1))
                q = (qa - 1) * (r - 1) * (s - 1)
            }
            if p > 0 { q = -q } else { p = -p }
            if 2 * p < min(3 * half * q - abs(tol * q), abs(e * q)) {
                e = d; d = p / q
            } else {
                d = half; e = d
            }
        } else {
            d = half; e = d
        }
        a = b; fa = fb
        b += abs(d) > tol ? d : (half > 0 ? tol : -tol)
        fb = try f(b)
    }
    return b
}
