import Foundation

/// A value computed on its own thread while the caller goes on; `wait()` blocks until it is ready.
public final class Background<T: Sendable>: @unchecked Sendable {
    private var value: T?
    private let ready = DispatchSemaphore(value: 0)

    public init(_ work: @escaping @Sendable () -> T) {
        Thread.detachNewThread { [self] in
            value = work()
            ready.signal()
        }
    }

    /// The value (waits for it; may be called more than once).
    public func wait() -> T {
        ready.wait()
        defer { ready.signal() }
        return value!
    }
}

