import Foundation
import Claims
import Policies

/// Claims posed on the directions of p − q (`DirectionPolygon`): the reformulations that let
/// outward-rounded interval arithmetic prove them with 3 responses.
/// - `eq3-tv`, `eq5-osc`: the margin is 1-homogeneous in d = p − q, so it is posed on the unit-TV
///   directions u alone (box: θ, and the rewards); a result holds for every p, q of the simplex.
/// - `eq6-pinsker`, `prop1`: posed on (q, t, u) with p = q + t·u, t = TV(p, q), and
///   KL(p‖q) = t²·Σ (u²/q)·k(t·u/q) (`KLRatio`), so that the margin divided by t (by an exact
///   power of t) is enclosed with no cancellation of its order-t terms: Pinsker is tight to second
///   order at p = q, which the raw margin √(KL/2) − TV cannot show in a box.
extension VerifiedClaims {
    static let directionClaims: Set<String> = ["eq3-tv", "eq5-osc", "eq6-pinsker", "prop1"]

    /// `factor` ≠ 1 plants a weakening (for tests of the verifier's power): it multiplies the side
    /// that must be the larger (½‖p − q‖₁ for `eq3-tv`, the bound for the inequalities).
    static func directionProblem(_ id: String, claim: any Claim, domain d: VerifyDomain, factor: Double = 1) -> VerifyProblem {
        let n = d.responses
        typealias D = DualInterval
        var names: [String] = [], box: [Interval] = []
        func add(_ name: String, _ r: Interval) -> Int { names.append(name); box.append(r); return names.count - 1 }
        let onQ = id == "eq6-pinsker" || id == "prop1"
        let qIdx = onQ ? (1..<n).map { add("q\($0)", Interval(d.delta, 1 - Double(n - 1) * d.delta)) } : []
        let tIdx = onQ ? add("t", Interval(d.separation, 1)) : -1
        // For N = 3 the hexagon's edges fall into two orbits under the permutations of the responses
        // (edges 0, 2, 4 keep one coordinate at +1, edges 1, 3, 5 at −1). The claims posed on
        // (q, t, u) and their boxes are invariant under permuting p, q (and r) together, so edges
        // 0 and 1 (θ ∈ [0, 2]) stand for all six.
        let thIdx = add("theta", Interval(0, Double(onQ && n == 3 ? 2 : DirectionPolygon.edges(n))))
        // prop1's margin is 1-homogeneous in r (R_max = max|r| scales with it): it is posed on
        // ρ = r/R_max ∈ [−1, 1]^N, which covers every reward vector (r = 0 is trivial).
        let rIdx = id == "eq5-osc" ? (1...n).map { add("r\($0)", d.reward) } : (id == "prop1" ? (1...n).map { add("rho\($0)", Interval(-1, 1)) } : [])
        let delta = d.delta, gap = d.rewardGap, sep = d.separation

        /// Σ_{y<N} u(y)·(f(y) − f(N)) = Σ u·f (exact, as Σ u = 0).
        @Sendable func shifted(_ u: [D], _ f: [D]) -> D {
            let last = f[f.count - 1]
            return (0..<(u.count - 1)).map { u[$0] * (f[$0] - last) }.sum()
        }
        @Sendable func tied(_ x: [Interval]) -> Bool {
            guard gap > 0 else { return false }
            for i in rIdx { for j in rIdx where j > i { let dd = x[i] - x[j]; if dd.lo > -gap && dd.hi < gap { return true } } }
            return false
        }
        /// q (the last entry 1 − Σ others, kept in [δ, 1]); nil when empty.
        @Sendable func dist(_ x: [D]) -> [D]? {
            let head = qIdx.map { x[$0] }
            guard let last = (1 - head.sum()).restricted(to: Interval(delta, 1)) else { return nil }
            return head + [last]
        }
        /// Σ (u²/q)·k(t·u/q) = KL(q + t·u ‖ q)/t², with t·u/q kept ≥ `floor` (−1: p > 0; δ − 1 where
        /// only the points with p ≥ δ count, as p = q + t·u and q ≤ 1).
        @Sendable func klOverT2(_ q: [D], _ t: D, _ u: [D], floor: Double) -> D? {
            var terms: [D] = []
            for i in 0..<n {
                guard let x = (t * u[i] / q[i]).restricted(to: Interval(floor, .infinity)) else { return nil }
                terms.append(u[i] * u[i] / q[i] * x.klRatio)
            }
            return terms.sum()
        }
        /// The points p = q + t·u of the box: nil when some p(y) < δ on the whole box (no point of
        /// the domain); else whether p > 0 and q > 0 on the whole box. Then the margin is smooth on
        /// the box, its gradient enclosure holds on every segment inside it (the q-simplex
        /// constraint is linear, so a segment between two points of the domain keeps to it), and the
        /// mean-value form applies; otherwise (p reaching 0) only the plain enclosure does, over the
        /// points with p ≥ δ.
        @Sendable func smoothOnBox(_ b: [Interval], _ k: Int) -> Bool? {
            let u = DirectionPolygon.direction(edge: k, s: D(variable: b[thIdx], index: 0, n: 1), n: n).map(\.v)
            let qh = qIdx.map { b[$0] }, q = qh + [1 - qh.sum()]
            var smooth = q[n - 1].hi > 0
            for i in 0..<n {
                let p = q[i] + b[tIdx] * u[i]
                if p.hi < delta { return nil }
                if p.lo <= 0 { smooth = false }
            }
            return smooth
        }

        let text: String, conditions: String
        /// The margin on edge k (θ's coordinate read as s on that edge); nil outside the domain.
        let formula: @Sendable (Int, [D], Double) -> D?
        var clip = Interval(0, 1)
        let instance: @Sendable ([Double]) -> ClaimInstance
        /// p = 1/N + u/(2N) ≥ 0 and q uniform: a pair with p − q = u/(2N) (the margins' sign does not
        /// depend on the scale of p − q).
        @Sendable func pair(_ x: [Double]) -> ([Double], [Double]) {
            let u = DirectionPolygon.direction(at: x[thIdx], n: n)
            return (u.map { 1 / Double(n) + $0 / Double(2 * n) }, [Double](repeating: 1 / Double(n), count: n))
        }
        @Sendable func qtPair(_ x: [Double]) -> ([Double], [Double]) {
            let u = DirectionPolygon.direction(at: x[thIdx], n: n)
            let qh = qIdx.map { x[$0] }, q = qh + [1 - qh.reduce(0, +)]
            return (q.indices.map { q[$0] + x[tIdx] * u[$0] }, q)
        }
        switch id {
        case "eq3-tv":
            text = "10⁻⁹ − |½Σ|u| − max over events A of |u(A)||, u = (p − q)/TV(p, q) on the hexagon of unit-TV directions (both sides are 1-homogeneous in p − q and at most 1, so this bounds the claim's margin 10⁻⁹ − |a − b|/max(|a|, |b|, 1) from below at every p ≠ q; p = q gives 0 = 0)"
            conditions = "N=\(n), every p ≠ q of the simplex (on the directions of p − q)"
            formula = { k, x, floor in
                let u = DirectionPolygon.direction(edge: k, s: x[thIdx], n: n)
                let half = (0.5 * factor) * u.map(\.magnitude).sum()
                // Every event A and its complement have |u(A)| = |u(Aᶜ)| (Σu = 0 exactly on the
                // hexagon), so the events with |A| ≤ N/2 give the supremum; summing the smaller side
                // keeps the enclosure free of the cancellation u(A) + u(Aᶜ) = 0.
                var events: [D] = []
                for mask in 1..<((1 << n) - 1) where 2 * mask.nonzeroBitCount <= n {
                    events.append((0..<n).filter { mask & (1 << $0) != 0 }.map { u[$0] }.sum().magnitude)
                }
                return identityTolerance - (half - events.maximum()).magnitude
            }
            instance = { x in
                let (p, q) = pair(x)
                return ClaimInstance(family: .small, instance: Generate.file(beta: 1, weights: [1], data: [p], reward: [[Double](repeating: 0, count: n)], reference: [q], start: [q]))
            }
        case "eq5-osc":
            text = "(max f − min f) − |Σ u·f|, u = (p − q)/TV(p, q) on the hexagon of unit-TV directions (the claim's margin divided by TV: 1-homogeneous in p − q)"
            conditions = "N=\(n), every p, q of the simplex with |p(y) − q(y)| ≥ \(sep) for every y, r ∈ [\(d.reward.lo), \(d.reward.hi)], |r_i−r_j| ≥ \(gap)"
            // |u(y)| ≥ sep on every response: on each hexagon edge the moving coordinates are ±s and
            // ±(1 − s) (|d(y)| ≥ sep and TV ≤ 1 give |u(y)| ≥ sep).
            if n == 3 { clip = Interval(sep, 1 - sep) }
            formula = { k, x, floor in
                let u = DirectionPolygon.direction(edge: k, s: x[thIdx], n: n)
                let f = rIdx.map { x[$0] }
                return factor * (f.maximum() - f.minimum()) - shifted(u, f).magnitude
            }
            instance = { x in
                let (p, q) = pair(x)
                return ClaimInstance(family: .generic, instance: Generate.file(beta: 1, weights: [1], data: [p], reward: [rIdx.map { x[$0] }], reference: [p], start: [q]))
            }
        case "eq6-pinsker":
            text = "√(S/2) − 1 = (√(KL(p‖q)/2) − TV)/TV with S = KL/t² = Σ (u²/q)·k(t·u/q), p = q + t·u, t = TV(p, q), u on the hexagon of unit-TV directions"
            conditions = "N=\(n), p ≥ \(delta), q ≥ \(delta), TV(p, q) ≥ \(sep)"
            formula = { k, x, floor in
                guard let q = dist(x) else { return nil }
                let u = DirectionPolygon.direction(edge: k, s: x[thIdx], n: n)
                guard let s = klOverT2(q, x[tIdx], u, floor: floor) else { return nil }
                return factor * (s / 2).squareRoot - DualInterval(constant: Interval(1), n: 0)
            }
            instance = { x in
                let (p, q) = qtPair(x)
                return ClaimInstance(family: .generic, instance: Generate.file(beta: 1, weights: [1], data: [p], reward: [[Double](repeating: 0, count: n)], reference: [p], start: [q]))
            }
        default:   // prop1
            text = "√(2S) − Σ u·ρ = (R_max·√(2·KL) − (E_p r − E_q r))/(R_max·TV) at the tightest budget B = KL(p‖q), ρ = r/R_max, S = KL/t² = Σ (u²/q)·k(t·u/q), p = p_SFT2 = q + t·u, q = p_RL1, t = TV(p, q) (proven for every ρ ∈ [−1, 1]^N, which includes those with max|ρ| = 1)"
            conditions = "N=\(n), p ≥ \(delta), q ≥ \(delta), TV(p, q) ≥ \(sep), every reward vector (as r/max|r| ∈ [−1, 1]^\(n))"
            formula = { k, x, floor in
                guard let q = dist(x) else { return nil }
                let rho = rIdx.map { x[$0] }
                let u = DirectionPolygon.direction(edge: k, s: x[thIdx], n: n)
                guard let s = klOverT2(q, x[tIdx], u, floor: floor) else { return nil }
                return factor * (2 * s).squareRoot - shifted(u, rho)
            }
            instance = { x in
                let (p, q) = qtPair(x)
                let klD = zip(p, q).reduce(0.0) { $0 + $1.0 * Foundation.log($1.0 / $1.1) }
                return ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 1, weights: [1], data: [p], reward: [rIdx.map { x[$0] }], start: [q]),
                                     parameters: ["B": klD * (1 + 1e-9)])
            }
        }
        let clipped = clip
        let margin: @Sendable ([Interval]) -> Interval? = { box in
            if !rIdx.isEmpty && id == "eq5-osc" && tied(box) { return nil }
            return DirectionPolygon.overEdges(box, ti: thIdx, n: n, clip: clipped) { k, b in
                guard onQ else { return meanValueEnclosure(b) { formula(k, $0, -1) } }
                guard let smooth = smoothOnBox(b, k) else { return nil }
                if smooth { return meanValueEnclosure(b) { formula(k, $0, -1) } }
                return formula(k, b.indices.map { D(variable: b[$0], index: $0, n: b.count) }, delta - 1)?.v
            }
        }
        return VerifyProblem(claim: claim, names: names, box: box, conditions: conditions, marginText: text, margin: margin, instance: instance)
    }
}

extension VerifiedClaims {
    /// `eq4-triangle` posed on the differences a = p − q, b = q − r (box a_y, b_y ∈ [−1, 1] for
    /// y < N, the last entries −Σ of the others): the margin TV(p,q) + TV(q,r) − TV(p,r) =
    /// ½Σ_y (|a_y| + |b_y| − |a_y + b_y|). It is exactly 0 wherever q lies between p and r on every
    /// response (an open set), so the box keeps to the responses where it is not: some y with
    /// a_y, b_y of opposite signs and both |a_y|, |b_y| ≥ sep (q(y) beyond both p(y) and r(y) by
    /// sep). Every (p, q, r) of the simplex has its (a, b) in the box; `factor` ≠ 1 multiplies the
    /// bound TV(p,q) + TV(q,r) (a planted weakening).
    static func triangleProblem(claim: any Claim, domain d: VerifyDomain, factor: Double = 1) -> VerifyProblem {
        let n = d.responses, sep = d.separation
        typealias D = DualInterval
        let names = (1..<n).map { "a\($0)" } + (1..<n).map { "b\($0)" }
        let box = [Interval](repeating: Interval(-1, 1), count: 2 * (n - 1))
        @Sendable func full(_ h: [Interval]) -> [Interval] { h + [-h.sum()] }
        /// Whether no point of the box has a response with a_y·b_y < 0 and |a_y|, |b_y| ≥ sep.
        @Sendable func excluded(_ x: [Interval]) -> Bool {
            let a = full(Array(x[0..<(n - 1)])), b = full(Array(x[(n - 1)...]))
            return (0..<n).allSatisfy { y in
                (a[y].lo >= 0 && b[y].lo >= 0) || (a[y].hi <= 0 && b[y].hi <= 0) || a[y].magnitude.hi < sep || b[y].magnitude.hi < sep
            }
        }
        let margin: @Sendable ([Interval]) -> Interval? = { x in
            excluded(x) ? nil : meanValueEnclosure(x) { v in
                let ah = Array(v[0..<(n - 1)]), bh = Array(v[(n - 1)...])
                let a = ah + [-ah.sum()], b = bh + [-bh.sum()]
                let pq = 0.5 * a.map(\.magnitude).sum(), qr = 0.5 * b.map(\.magnitude).sum()
                let pr = 0.5 * (0..<n).map { (a[$0] + b[$0]).magnitude }.sum()
                return factor * (pq + qr) - pr
            }
        }
        let instance: @Sendable ([Double]) -> ClaimInstance = { x in
            let ah = Array(x[0..<(n - 1)]), bh = Array(x[(n - 1)...])
            let a = ah + [-ah.reduce(0, +)], b = bh + [-bh.reduce(0, +)]
            let q = [Double](repeating: 1 / Double(n), count: n)
            let p = (0..<n).map { q[$0] + a[$0] / Double(2 * n) }, r = (0..<n).map { q[$0] - b[$0] / Double(2 * n) }
            return ClaimInstance(family: .generic, instance: Generate.file(beta: 1, weights: [1], data: [p], reward: [[Double](repeating: 0, count: n)], reference: [r], start: [q]))
        }
        return VerifyProblem(claim: claim, names: names, box: box,
                             conditions: "N=\(n), every p, q, r of the simplex with some y where q(y) exceeds both p(y) and r(y), or falls below both, by ≥ \(sep)",
                             marginText: "TV(p,q) + TV(q,r) − TV(p,r) = ½Σ (|a| + |b| − |a + b|), a = p − q, b = q − r",
                             margin: margin, instance: instance)
    }
}
