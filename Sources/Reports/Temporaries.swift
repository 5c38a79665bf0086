/// Temporaries removed when the process is interrupted (issue 24): a SIGINT, SIGTERM or SIGHUP
/// during a write runs every registered clean-up (remove a temporary file or staging folder, put a
/// folder moved aside back) and then ends the process by the same signal, so an interrupted run
/// leaves the old output, or the new one, and no `.sftrl-*` file beside it.
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum Temporaries {
    private static let lock = NSLock()
    /// Held while a set of renames puts new output in place: the signal handler waits for it, so a
    /// signal there ends the process after the last rename (new output), never between two.
    private static let commitLock = NSLock()
    nonisolated(unsafe) private static var actions: [Int: () -> Void] = [:]
    nonisolated(unsafe) private static var nextId = 0
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var installed = false
    /// The signals that clean up before the process ends.
    public static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Registers the removal of `path` (a file or a whole folder); returns its handle.
    public static func register(_ path: String) -> Int {
        register { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Registers a clean-up action; returns its handle for `unregister`.
    public static func register(_ action: @escaping () -> Void) -> Int {
        lock.lock(); defer { lock.unlock() }
        installIfNeeded()
        nextId += 1
        actions[nextId] = action
        return nextId
    }

    /// Forgets a clean-up (the temporary was renamed into place or removed).
    public static func unregister(_ id: Int) {
        lock.lock(); defer { lock.unlock() }
        actions[id] = nil
    }

    /// Runs `body` (the renames that publish new output) so that SIGINT/SIGTERM/SIGHUP take effect
    /// only after it returns.
    public static func commit<T>(_ body: () throws -> T) rethrows -> T {
        commitLock.lock(); defer { commitLock.unlock() }
        return try body()
    }

    /// Tests only: `SFTRL_TEST_RENAME_PAUSE_MS` milliseconds of sleep between the renames that
    /// publish output, so that a test can deliver a signal there (0 when unset: no pause).
    static let testPauseMicroseconds: UInt32 = {
        guard let s = ProcessInfo.processInfo.environment["SFTRL_TEST_RENAME_PAUSE_MS"], let ms = UInt32(s) else { return 0 }
        return min(ms, 10_000) * 1000
    }()

    static func testPause() { if testPauseMicroseconds > 0 { usleep(testPauseMicroseconds) } }

    /// Runs every registered clean-up, newest first (tests and the signal handler).
    public static func runAll() {
        lock.lock()
        let todo = actions.sorted { $0.key > $1.key }.map(\.value)
        actions = [:]
        lock.unlock()
        for a in todo { a() }
    }

    /// Installs the handlers once (the caller holds `lock`). A signal source runs on a queue, not
    /// in the signal handler, so removing a folder there is safe.
    private static func installIfNeeded() {
        guard !installed else { return }
        installed = true
        for sig in signals {
            // Keep "ignored" as it was (nohup): a signal the user ignores stays ignored.
            let old = signal(sig, SIG_IGN)
            if unsafeBitCast(old, to: Int.self) == 1 { continue }
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                commitLock.lock()
                runAll()
                // End by the same signal. The handler runs on a dispatch worker thread, where the
                // signal may be blocked (a raise there stayed pending and the process then hung on
                // commitLock in a clean-clone run): unblock it here first, and exit if it still returns.
                signal(sig, SIG_DFL)
                var set = sigset_t()
                sigemptyset(&set)
                sigaddset(&set, sig)
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
                raise(sig)
                _exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
