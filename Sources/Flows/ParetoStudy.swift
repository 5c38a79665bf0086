import Foundation
import Policies

/// The Pareto front of (L_SFT, J_β) of an instance and its pipelines: the study behind
/// `sftrl pareto` and figure p (its tables and figure are in Figures). The front comes from
/// `Instance.paretoFront` (minimisers of μ·L_SFT − (1−μ)·J_β, μ = `plan.mus`, plus the ends), the
/// paths and their gaps to the front from ``ParetoPath``.
public struct ParetoStudy {
    public struct Plan {
        public var instance: Instance
        public var file: InstanceFile
        public var name: String
        public var mus: [Double]
        public var paths: [(String, Schedule)]
        public var samples: Int
        public var options: IntegratorOptions
        /// Practical methods (`sftrl pareto --method`): each gets a path (its expected-update flow for
        /// `methodDuration`) and its limit (``ParetoMethodLimit``).
        public var methods: [PracticalSettings] = []
        public var methodDuration: Double = 10

        public init(instance: Instance, file: InstanceFile, name: String, mus: [Double], paths: [(String, Schedule)],
                    samples: Int, options: IntegratorOptions) {
            self.instance = instance; self.file = file; self.name = name; self.mus = mus; self.paths = paths
            self.samples = samples; self.options = options
        }
    }

    public var plan: Plan
    /// Front points in μ order, decreasing: the SFT end (μ = 1) first when it exists, the RL end
    /// (μ = 0) last when it exists.
    public var front: [ParetoPoint]
    public var curve: ParetoCurve
    public var paths: [ParetoPath]
    /// Where each of `plan.methods` converges, against the front.
    public var limits: [ParetoMethodLimit] = []

    public static func compute(_ plan: Plan) throws -> ParetoStudy {
        let inst = plan.instance
        var front = try inst.paretoFront(mus: plan.mus)
        let ends = inst.paretoEnds()
        if let s = ends.sft { front.append(s) }
        if let r = ends.rl { front.append(r) }
        front.sort { $0.mu > $1.mu }
        let exact: (@Sendable (Double) -> (sft: Double, reward: Double))?
        if inst.exactParetoPoint(mu: 0.5) != nil {
            exact = { mu in
                guard let p = inst.exactParetoPoint(mu: mu) else { return (.nan, .nan) }
                return (p.sftLoss, p.rewardReg)
            }
        } else {
            exact = nil
        }
        let curve = ParetoCurve(points: front, exact: exact)
        let paths = try plan.paths.map { (name, schedule) in
            try ParetoPath.run(name: name, instance: inst, schedule: schedule, curve: curve, samples: plan.samples, options: plan.options)
        }
        var study = ParetoStudy(plan: plan, front: front, curve: curve, paths: paths)
        for m in plan.methods {
            study.paths.append(try ParetoPath.runMethod(m, instance: inst, duration: plan.methodDuration, curve: curve,
                                                        samples: plan.samples, options: plan.options))
            study.limits.append(try ParetoMethodLimit.compute(m, instance: inst, curve: curve))
        }
        return study
    }
}
