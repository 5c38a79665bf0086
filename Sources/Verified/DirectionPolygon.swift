import Foundation

/// The directions of a difference of two distributions on N = 2 or 3 points, at unit total
/// variation: u with Σu = 0 and TV(u) = ½Σ|u| = 1. For N = 3 they form a hexagon whose vertices
/// are the permutations of (1, −1, 0), listed so that consecutive vertices differ in two
/// coordinates, each moving between 0 and ±1; along an edge u = v_k + s·(v_{k+1} − v_k),
/// s ∈ [0, 1], every coordinate keeps its sign, so ½Σ|u| = 1 on the whole edge (Σ|u| is linear
/// there and 2 at both ends). For N = 2 the directions are the two vertices ±(1, −1) (each "edge"
/// is one vertex). A box coordinate θ ∈ [0, E] (E edges) stands for edge ⌊θ⌋ at s = θ − ⌊θ⌋.
///
/// Any p ≠ q is p − q = t·u with t = TV(p, q) ∈ (0, 1] and u a direction: claims whose margin is
/// 1-homogeneous in p − q are posed on the directions alone (all of p, q at once), the others
/// on (q, t, u) with p = q + t·u.
public enum DirectionPolygon {
    public static func vertices(_ n: Int) -> [[Double]] {
        n == 2 ? [[1, -1], [-1, 1]] : [[1, -1, 0], [1, 0, -1], [0, 1, -1], [-1, 1, 0], [-1, 0, 1], [0, -1, 1]]
    }
    public static func edges(_ n: Int) -> Int { vertices(n).count }

    /// The next vertex along edge k (the same vertex for N = 2).
    static func next(_ k: Int, _ n: Int) -> [Double] { n == 2 ? vertices(n)[k] : vertices(n)[(k + 1) % edges(n)] }

    /// u on edge k, s a variable of the enclosure: u_i = v_k[i] + s·(v_{k+1}[i] − v_k[i]),
    /// coefficients in {−1, 0, 1} (exact).
    static func direction(edge k: Int, s: DualInterval, n: Int) -> [DualInterval] {
        let a = vertices(n)[k], b = next(k, n)
        return (0..<n).map { i in DualInterval(constant: Interval(a[i]), n: 0) + (b[i] - a[i]) * s }
    }

    /// u at the point θ (Doubles, for the instance a candidate point stands for).
    public static func direction(at theta: Double, n: Int) -> [Double] {
        let k = Swift.min(Swift.max(Int(theta.rounded(.down)), 0), edges(n) - 1)
        let s = theta - Double(k)
        let a = vertices(n)[k], b = next(k, n)
        return (0..<n).map { a[$0] + s * (b[$0] - a[$0]) }
    }

    /// The enclosure of a margin over a box whose coordinate `ti` is θ: the hull, over the edges
    /// the θ range meets, of `f(k, box with θ replaced by the range of s on edge k)` (s clipped to
    /// `clip`, which drops the parts of each edge outside a side condition); nil when no piece
    /// lies in the domain.
    static func overEdges(_ box: [Interval], ti: Int, n: Int, clip: Interval = Interval(0, 1),
                          _ f: (Int, [Interval]) -> Interval?) -> Interval? {
        let th = box[ti]
        let first = Swift.min(Swift.max(Int(th.lo.rounded(.down)), 0), edges(n) - 1)
        let last = Swift.min(Int(th.hi.rounded(.up)) - 1, edges(n) - 1)
        var hull: Interval?
        for k in first...Swift.max(first, last) {
            guard let s = Interval(Swift.max(th.lo, Double(k)) - Double(k), Swift.min(th.hi, Double(k + 1)) - Double(k)).intersection(clip) else { continue }
            var b = box
            b[ti] = s
            if let m = f(k, b) { hull = hull.map { $0.hull(m) } ?? m }
        }
        return hull
    }
}
