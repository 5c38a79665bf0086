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

/// A value computed on its own thread while the caller goes on; `wait()` blocks until it is ready.
final class Background<T: Sendable>: @unchecked Sendable {
    private var value: T?
    private let ready = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () -> T) {
        Thread.detachNewThread { [self] in
            value = work()
            ready.signal()
        }
    }

    /// The value (waits for it; may be called more than once).
    func wait() -> T {
        ready.wait()
        defer { ready.signal() }
        return value!
    }
}

