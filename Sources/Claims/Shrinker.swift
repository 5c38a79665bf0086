import Foundation
import Policies

/// Reduces a certified counterexample to the fewest prompts and responses, then to short round
/// numbers, keeping every step that still (a) meets the non-dropped hypotheses, (b) violates the
/// conclusion in Double and in extended precision, and (c) keeps half the original violation.
public enum Shrinker {
    /// Shrinks `cx`, spending at most `budget` evaluations. Candidates are judged `threads` at a
    /// time (in chunks of t, 2t, 4t, … up to 8t, t threads) and read in order, so the result and the
    /// evaluations counted against the budget are those of the serial walk, whatever the threads.
    public static func shrink(_ cx: Counterexample, claim: any Claim, dropping: Set<String>, budget: Int = 4000, threads: Int = 1) -> Counterexample {
        var best = cx
        var spent = 0
        // A shrink step must keep at least half of the original violation, so that shrinking does
        // not drift to a barely-failing instance with ugly numbers.
        let keep = claim.strict ? 0 : 0.5 * cx.evaluation.conclusion
        /// The counterexample `c` gives when it is accepted: it keeps the instructiveness, meets
        /// the hypotheses, violates by at least `keep`, and is certified.
        @Sendable func judge(_ c: ClaimInstance, _ best: Counterexample) -> Counterexample? {
            guard claim.instructive(c) || !claim.instructive(best.instance),
                  let e = try? claim.evaluate(c), e.isWellDefined, e.conclusion <= keep else { return nil }
            let j = Judgement(claim: claim, double: e, extended: try? claim.evaluateExtended(c), dropping: dropping)
            guard j.outcome == .certified, let x = j.extended else { return nil }
            return Counterexample(instance: c, evaluation: e, extended: x, index: cx.index, shrunk: true, certified: true, dropped: cx.dropped)
        }
        /// The first accepted candidate becomes `best`; each candidate other than `best` costs one evaluation.
        func acceptFirst(_ candidates: [ClaimInstance]) -> Bool {
            var start = 0, chunk = Swift.max(1, threads)
            while start < candidates.count && spent < budget {
                let current = best
                let slice = Array(candidates[start..<Swift.min(start + chunk, candidates.count)].filter { $0 != current.instance }.prefix(budget - spent))
                start += Swift.min(chunk, candidates.count - start)
                chunk = Swift.min(chunk * 2, 8 * Swift.max(1, threads))
                let judged = parallelMap(slice.count, threads: threads) { judge(slice[$0], current) }
                for k in slice.indices {
                    spent += 1
                    if let b = judged[k] { best = b; return true }
                }
            }
            return false
        }
        var changed = true
        while changed && spent < budget {
            changed = acceptFirst(structuralCandidates(best.instance))
            if changed { continue }
            changed = acceptFirst(roundingCandidates(best.instance))
        }
        return best
    }

    /// Candidates with one prompt or one response fewer (distributions renormalised).
    static func structuralCandidates(_ ci: ClaimInstance) -> [ClaimInstance] {
        guard let inst = ci.instance else { return landscapeCandidates(ci) }
        var out: [ClaimInstance] = []
        if inst.prompts.count > 1 {
            for x in inst.prompts.indices {
                var c = ci
                c.instance!.prompts.remove(at: x)
                if var f = c.instance!.policy.features { f.remove(at: x); c.instance!.policy.features = f }
                out.append(c)
            }
        }
        for x in inst.prompts.indices where inst.prompts[x].data.count > 1 {
            for y in inst.prompts[x].data.indices {
                var c = ci
                var p = c.instance!.prompts[x]
                guard let d = removing(y, from: p.data) else { continue }
                p.data = d
                p.reward.remove(at: y)
                if let r = p.reference { guard let r2 = removing(y, from: r) else { continue }; p.reference = r2 }
                if let s = p.start { guard let s2 = removing(y, from: s) else { continue }; p.start = s2 }
                if p.base != nil { p.base!.remove(at: y) }
                c.instance!.prompts[x] = p
                if var f = c.instance!.policy.features { f[x].remove(at: y); c.instance!.policy.features = f }
                out.append(c)
            }
        }
        return out
    }

    /// Drops one coordinate of a landscape.
    static func landscapeCandidates(_ ci: ClaimInstance) -> [ClaimInstance] {
        guard let l = ci.landscape, l.a.count > 1 else { return [] }
        return l.a.indices.map { k in
            var c = ci
            c.landscape!.a.remove(at: k); c.landscape!.b.remove(at: k)
            c.landscape!.thetaR.remove(at: k); c.landscape!.theta0.remove(at: k)
            return c
        }
    }

    /// p without entry y, renormalised; nil when nothing is left.
    static func removing(_ y: Int, from p: [Double]) -> [Double]? {
        var q = p
        q.remove(at: y)
        let s = q.reduce(0, +)
        guard s > 0 else { return nil }
        return q.map { $0 / s }
    }

    /// Candidates where one array (or scalar) is replaced by a version with fewer digits.
    static func roundingCandidates(_ ci: ClaimInstance) -> [ClaimInstance] {
        var out: [ClaimInstance] = []
        for digits in 0...3 {
            if let inst = ci.instance {
                var c = ci
                let b = round(inst.beta, digits)
                if b != inst.beta && b > 0 { c.instance!.beta = b; out.append(c) }
                for x in inst.prompts.indices {
                    let p = inst.prompts[x]
                    func with(_ f: (inout InstanceFile.Prompt) -> Void) {
                        var c = ci
                        f(&c.instance!.prompts[x])
                        if c != ci { out.append(c) }
                    }
                    with { $0.weight = Swift.max(round($0.weight, digits), 0) }
                    with { $0.reward = $0.reward.map { round($0, digits) } }
                    if let d = roundDistribution(p.data, digits) { with { $0.data = d } }
                    if let r = p.reference, let r2 = roundDistribution(r, digits) { with { $0.reference = r2 } }
                    if let s = p.start, let s2 = roundDistribution(s, digits) { with { $0.start = s2 } }
                }
                if let f = inst.policy.features {
                    var c = ci
                    c.instance!.policy.features = f.map { $0.map { $0.map { round($0, digits) } } }
                    if c != ci { out.append(c) }
                }
            }
            for (k, v) in ci.parameters.sorted(by: { $0.key < $1.key }) {
                var c = ci
                c.parameters[k] = round(v, digits)
                if c != ci { out.append(c) }
            }
            if let l = ci.landscape {
                for path in [\Landscape.a, \Landscape.b, \Landscape.thetaR, \Landscape.theta0] {
                    var c = ci
                    c.landscape![keyPath: path] = l[keyPath: path].map { round($0, digits) }
                    if c != ci { out.append(c) }
                }
            }
        }
        return out
    }

    /// x rounded to `digits` decimals, or to `digits + 1` significant digits when |x| < 1 would vanish.
    static func round(_ x: Double, _ digits: Int) -> Double {
        let s = Foundation.pow(10, Double(digits))
        let r = (x * s).rounded() / s
        if r == 0 && x != 0 {
            let e = Foundation.floor(Foundation.log10(abs(x)))
            let t = Foundation.pow(10, e - Double(digits))
            return (x / t).rounded() * t
        }
        return r
    }

    /// p rounded to `digits` decimals with the largest entry absorbing the rest, so it still sums
    /// to 1 (up to one rounding); nil when that would make an entry negative or change nothing.
    static func roundDistribution(_ p: [Double], _ digits: Int) -> [Double]? {
        let s = Foundation.pow(10, Double(digits))
        var q = p.map { ($0 * s).rounded() / s }
        guard let big = q.indices.max(by: { q[$0] < q[$1] }) else { return nil }
        let rest = q.indices.filter { $0 != big }.reduce(0.0) { $0 + q[$1] }
        q[big] = 1 - rest
        guard q[big] >= 0, q != p else { return nil }
        return q
    }
}
