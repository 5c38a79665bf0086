import Testing
import Flows
import Figures

@Suite("pareto's failure messages")
struct ParetoDescribeTests {
    /// A path the integrator gives up on is described with pareto's own options (the integrator's
    /// advice names flow's --max-steps and --stepper, which pareto does not have).
    @Test func failedPathNamesParetoOptions() {
        let e = FlowError.integration(phase: 0, label: "sft", start: 0, end: 1e20, error: .tooManySteps(t: 5, limit: 1_000_000))
        let m = ParetoStudy.describe(e)
        #expect(m.contains("--duration") && m.contains("--rtol"), "\(m)")
        #expect(!m.contains("--max-steps") && !m.contains("--stepper") && !m.contains("msbdf"), "\(m)")
    }
}
