import Foundation
import Policies
import Reports

/// Helpers shared by the `flow` and `spectrum` commands (namespaced to stay clear of other
/// commands' helpers in this module).
enum FlowCLI {
    /// Loads and validates an instance file; the error text is the instance's own (it names the
    /// field, the prompt and what to change).
    static func loadInstance(_ path: String) throws -> (file: InstanceFile, instance: Instance) {
        let file = try InstanceFile.load(URL(fileURLWithPath: path))
        return (file, try Instance(file: file))
    }
}
