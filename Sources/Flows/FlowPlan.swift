import Foundation
import Policies

/// A checked run of `sftrl flow` (exact flow or gradient steps), everything validated before any
/// work: a run that starts cannot fail on its input. `method` is `flow` (integrate θ̇ = the
/// schedule's vector field) or `gd` (gradient steps of size `eta`).
public struct FlowPlan {
    public var file: InstanceFile
    public var instance: Instance
    public var schedule: Schedule
    public var method: String
    public var eta: Double?
    public var options: IntegratorOptions
    public var events: [LevelEvent]
    public var out: URL

    public init(file: InstanceFile, instance: Instance, schedule: Schedule, method: String, eta: Double?,
                options: IntegratorOptions, events: [LevelEvent], out: URL) {
        self.file = file; self.instance = instance; self.schedule = schedule; self.method = method; self.eta = eta
        self.options = options; self.events = events; self.out = out
    }
}

extension FlowPlan {
    /// Runs the plan: the integrated flow (`runFlow`) or, for `method == "gd"`, gradient steps of
    /// size `eta` (`runGradientSteps`), recording `samples` output times and the plan's events.
    public func execute(samples: Int) throws -> ScheduleRun {
        if method == "gd" {
            return try runGradientSteps(instance: instance, schedule: schedule, eta: eta!, samples: samples, events: events)
        }
        return try runFlow(instance: instance, schedule: schedule, samples: samples, events: events, options: options)
    }
}
