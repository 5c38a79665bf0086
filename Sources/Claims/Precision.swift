import Foundation
import RealModule
import Policies

/// A claim whose margins are written once, generically over the floating-point type, and
/// evaluated in Double (`evaluate`) and in Float80 (`evaluateExtended`, x86 only; Double elsewhere).
protocol PrecisionGenericClaim: Claim {
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _ type: T.Type) throws -> Evaluation
}

extension PrecisionGenericClaim {
    public func evaluate(_ ci: ClaimInstance) throws -> Evaluation { try margins(ci, Double.self) }
    public func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation {
        #if arch(x86_64) || arch(i386)
        return try margins(ci, Float80.self)
        #else
        return try margins(ci, Double.self)
        #endif
    }
}

/// An instance file's arrays converted to T (exact: every Double is a Float80).
struct Arrays<T: Real & BinaryFloatingPoint> {
    let q: [T]
    let data: [[T]]
    let start: [[T]]
    let reference: [[T]]
    let reward: [[T]]
    let beta: T
    var prompts: Range<Int> { q.indices }

    init(_ f: InstanceFile) {
        func conv(_ a: [[Double]]) -> [[T]] { a.map { $0.map { T($0) } } }
        // Distributions are renormalised in T: a Double vector's entries sum to 1 only up to its
        // rounding, and a claim is about exact distributions.
        func normalised(_ a: [[Double]]) -> [[T]] { conv(a).map { p in let s = p.reduce(0, +); return s > 0 ? p.map { $0 / s } : p } }
        q = normalised([f.prompts.map(\.weight)])[0]
        data = normalised(f.prompts.map(\.data))
        start = normalised(f.starts)
        reference = normalised(f.references)
        reward = conv(f.prompts.map(\.reward))
        beta = T(f.beta)
    }

    /// Σ_x q(x) f(x).
    func average(_ f: (Int) -> T) -> T {
        var s: T = 0
        for x in prompts where q[x] > 0 { s += q[x] * f(x) }
        return s
    }

    /// R_max = max |r|.
    var rewardBound: T { reward.joined().map { abs($0) }.max() ?? 0 }
}

extension DistOf {
    /// log p*(y) = log ref(y) + r(y)/β − log Z_β: the Gibbs tilt in log space (−∞ off the support of ref).
    static func logGibbs(reference: [T], reward: [T], beta: T) -> [T] {
        let lz = logPartition(reference: reference, reward: reward, beta: beta)
        return reference.indices.map { reference[$0] > 0 ? T.log(reference[$0]) + reward[$0] / beta - lz : -T.infinity }
    }
}

/// x/(1 + |x|): keeps the sign of an unbounded margin and maps it into (−1, 1).
@inlinable func squash<T: BinaryFloatingPoint>(_ x: T) -> T { x.isInfinite ? (x > 0 ? 1 : -1) : x / (1 + abs(x)) }

/// Converts generic margins to an Evaluation.
func evaluation<T: BinaryFloatingPoint>(hypotheses: [String: T] = [:], conclusion: T, quantities: [String: T] = [:]) -> Evaluation {
    Evaluation(hypotheses: hypotheses.mapValues { Double($0) }, conclusion: Double(conclusion), quantities: quantities.mapValues { Double($0) })
}
