import ArgumentParser
import Flows
import Training

// Enum-valued options are typed: ArgumentParser refuses an unknown name before any work (exit
// status 2), naming the option and listing the valid names, and `--help` lists them too.

extension Stepper: ExpressibleByArgument {}
extension SampledOptimizer: ExpressibleByArgument {}
extension PipelineKind: ExpressibleByArgument {}
extension LRSchedule: ExpressibleByArgument {}

/// `sftrl spectrum --at`: the point of the instance where the curvature is taken.
enum SpectrumPoint: String, CaseIterable, ExpressibleByArgument {
    case start
    case sftOptimum = "sft-optimum"
    case rlOptimum = "rl-optimum"
}
