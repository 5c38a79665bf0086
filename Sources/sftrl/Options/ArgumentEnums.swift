import ArgumentParser
import Flows
import Training
import Transformer

// Enum-valued options are typed: ArgumentParser refuses an unknown name before any work (exit
// status 2), naming the option and listing the valid names, and `--help` lists them too.

extension Stepper: ExpressibleByArgument {}
extension ErrorNorm: ExpressibleByArgument {}
extension OutputSteps: ExpressibleByArgument {}
extension SampledOptimizer: ExpressibleByArgument {}
extension SampledMethod: ExpressibleByArgument {}
extension PipelineKind: ExpressibleByArgument {}
extension LRSchedule: ExpressibleByArgument {}
// GRPO's vocabulary (PostTraining), typed on every command that takes it.
extension AdvantageScaling: ExpressibleByArgument {}
extension KLEstimator: ExpressibleByArgument {}
extension LossAggregation: ExpressibleByArgument {}
extension KLPlacement: ExpressibleByArgument {}
extension ImportanceSamplingLevel: ExpressibleByArgument {}
extension SFTTokenWeight: ExpressibleByArgument {}

/// `--weights f32|bf16` of the lm commands (any letter case).
extension WeightStorage: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// `sftrl flow --method`: the exact flow, gradient steps, or one of the sampled methods.
enum FlowMethod: String, CaseIterable, ExpressibleByArgument {
    case flow, gd
    case sftSGD = "sft-sgd", reinforce, grpo, chord, dft, chordPhi = "chord-phi", luffy, rloo

    /// The sampled method it names (nil for flow and gd).
    var sampled: SampledMethod? { SampledMethod(rawValue: rawValue) }
}

/// `sftrl spectrum --at`: the point of the instance where the curvature is taken.
enum SpectrumPoint: String, CaseIterable, ExpressibleByArgument {
    case start
    case sftOptimum = "sft-optimum"
    case rlOptimum = "rl-optimum"
}
