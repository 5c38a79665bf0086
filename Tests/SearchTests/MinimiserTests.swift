import Testing
import Foundation
@testable import Search

@Suite struct MinimiserTests {
    /// Rosenbrock's valley: minimum 0 at (1, 1).
    static func rosenbrock(_ x: [Double]) -> Double { 100 * pow(x[1] - x[0] * x[0], 2) + pow(1 - x[0], 2) }

    @Test(arguments: [LocalMethod.nelderMead, .bfgs])
    func findsRosenbrocksMinimum(_ method: LocalMethod) {
        let m = Minimiser(Self.rosenbrock)
        var x = [-1.2, 1.0]
        var value = Double.infinity
        // Nelder–Mead needs a restart or two to polish; BFGS converges in one.
        for _ in 0..<4 {
            let r = m.minimise(method, from: x, step: [0.5, 0.5], maxEvaluations: 20_000, tolerance: 1e-12)
            x = r.x; value = r.value
        }
        #expect(abs(x[0] - 1) < 1e-4 && abs(x[1] - 1) < 1e-4, "\(method): ended at \(x)")
        #expect(value < 1e-8)
        #expect(m.evaluations > 0)
    }

    @Test func respectsTheEvaluationBudget() {
        let m = Minimiser(Self.rosenbrock)
        let r = m.minimise(.nelderMead, from: [-1.2, 1], step: [0.5, 0.5], maxEvaluations: 30)
        #expect(r.stop == "budget")
        // Checked between iterations: one iteration (at most n + 2 evaluations) of overshoot.
        #expect(r.evaluations <= 30 + 4)
    }

    @Test func nonFiniteValuesArePenalisedNotFatal() {
        // Undefined (NaN) left of 0: the simplex must move right and find the minimum at 2.
        let m = Minimiser { x in x[0] < 0 ? .nan : (x[0] - 2) * (x[0] - 2) }
        let r = m.minimise(.nelderMead, from: [0.5], step: [1], maxEvaluations: 2000, tolerance: 1e-12)
        #expect(abs(r.x[0] - 2) < 1e-5)
    }

    @Test func stopsAtTheDeadline() {
        let m = Minimiser(Self.rosenbrock)
        let r = m.minimise(.bfgs, from: [-1.2, 1], step: [0.5, 0.5], maxEvaluations: 100_000, shouldStop: { true })
        #expect(r.stop == "deadline" && r.iterations == 0)
    }
}
