import Foundation
import Linalg
@testable import Transformer

/// Fills every tensor with values large enough that each layer matters: matrices ~ N(0, std²),
/// norm weights ~ 1 + N(0, 0.3²). Deterministic in `seed`.
func randomize(_ model: Qwen3Model, seed: UInt64, std: Double = 0.4) {
    var rng = SeededGenerator(seed: seed)
    for t in model.parameters {
        let n = t.count
        t.data.withUnsafeMutableBufferPointer { p in
            if t.shape.count == 1 {
                rng.fillNormal(p.baseAddress!, count: n, std: 0.3)
                for i in 0..<n { p[i] += 1 }
            } else {
                rng.fillNormal(p.baseAddress!, count: n, std: std)
            }
        }
    }
}

/// Fixtures folder inside the test bundle.
func fixtureURL(_ name: String) -> URL {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
}
