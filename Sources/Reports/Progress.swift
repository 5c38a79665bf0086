/// A progress display on standard error.
///
/// Progress never goes to stdout, so a command's stdout stays machine-readable. Two modes:
/// - **TTY** (stderr is a terminal): one line redrawn in place,
///   `\r[label] 312/1000 (31%) 2.1s eta 4.6s  best margin -0.012` followed by "erase to end of
///   line"; at most one redraw per `minRedrawInterval` (default 0.1 s, so ≤ 10 per second);
///   `finish()` draws the final state and a newline.
/// - **Log** (a file or CI pipe): whole lines, one when a quarter (0/25/50/75/100 %) is first
///   reached and otherwise at most one per `logInterval` (default 10 s), so CI logs stay short.
///
/// All methods are thread-safe (one lock), so concurrent tasks can call `advance` directly.
/// With `quiet: true` nothing is ever written.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class ProgressReporter: @unchecked Sendable {
    /// Where text goes. Default: standard error, unbuffered.
    public typealias Sink = @Sendable (String) -> Void
    /// A monotonic clock in seconds.
    public typealias Clock = @Sendable () -> Double

    public let total: Int
    public let label: String
    public let quiet: Bool
    public let isTTY: Bool
    public let minRedrawInterval: Double
    public let logInterval: Double

    private let sink: Sink
    private let clock: Clock
    private let lock = NSLock()
    private let start: Double
    private var done = 0
    private var status: String?
    private var lastDraw = -Double.infinity
    private var lastQuarter = -1
    private var finished = false

    /// - Parameters:
    ///   - total: number of units of work; `total <= 0` means unknown (no percentage, no eta).
    ///   - label: shown in brackets at the start of the line.
    ///   - quiet: write nothing at all (default false).
    ///   - isTTY: force the mode; default `isatty(2) != 0`.
    ///   - minRedrawInterval: seconds between TTY redraws (default 0.1).
    ///   - logInterval: seconds between log lines between quarters (default 10).
    ///   - sink: receives the text; default writes to stderr. Tests inject a collector.
    ///   - clock: monotonic seconds; default `ProcessInfo.systemUptime`.
    public init(total: Int, label: String, quiet: Bool = false, isTTY: Bool? = nil,
                minRedrawInterval: Double = 0.1, logInterval: Double = 10,
                sink: Sink? = nil, clock: Clock? = nil) {
        self.total = total
        self.label = label
        self.quiet = quiet
        self.isTTY = isTTY ?? (isatty(2) != 0)
        self.minRedrawInterval = minRedrawInterval
        self.logInterval = logInterval
        self.sink = sink ?? { text in FileHandle.standardError.write(Data(text.utf8)) }
        self.clock = clock ?? { ProcessInfo.processInfo.systemUptime }
        self.start = self.clock()
        lock.lock()
        emitIfDue(now: start, force: false)
        lock.unlock()
    }

    /// Units completed so far.
    public var completed: Int {
        lock.lock(); defer { lock.unlock() }
        return done
    }

    /// Records `n` more units done (default 1) and, if given, replaces the status text.
    /// Ignored after `finish()`. Completed units are clamped to `total` when it is known.
    public func advance(by n: Int = 1, status: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        done += n
        if total > 0 { done = min(done, total) }
        if let status { self.status = status }
        emitIfDue(now: clock(), force: false)
    }

    /// Replaces the extra status text (e.g. `"best margin -0.012"`); nil removes it.
    public func setStatus(_ status: String?) {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        self.status = status
        emitIfDue(now: clock(), force: false)
    }

    /// Draws the final state (TTY: and a newline). Idempotent; later calls do nothing.
    public func finish(status: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        guard !finished else { return }
        if let status { self.status = status }
        emitIfDue(now: clock(), force: true)
        finished = true
    }

    /// The text of one progress line (no `\r`, no newline):
    /// `[label] done/total (pct%) elapsed eta remaining  status`. With `total <= 0`:
    /// `[label] done elapsed  status`. The eta is omitted until one unit is done and once all are;
    /// line breaks in `status` become spaces so the line stays one line.
    public static func formatLine(label: String, done: Int, total: Int, elapsed: Double, status: String?) -> String {
        var s = "[\(label)] "
        if total > 0 {
            let pct = Int((Double(done) / Double(total) * 100).rounded(.down))
            s += "\(done)/\(total) (\(pct)%) \(formatDuration(elapsed))"
            if done > 0 && done < total {
                s += " eta " + formatDuration(elapsed / Double(done) * Double(total - done))
            }
        } else {
            s += "\(done) \(formatDuration(elapsed))"
        }
        if let status, !status.isEmpty { s += "  " + String(status.map { $0.isNewline ? " " : $0 }) }
        return s
    }

    /// Called with the lock held.
    private func emitIfDue(now: Double, force: Bool) {
        guard !quiet else { return }
        let line = ProgressReporter.formatLine(label: label, done: done, total: total,
                                               elapsed: now - start, status: status)
        if isTTY {
            if force || now - lastDraw >= minRedrawInterval {
                lastDraw = now
                sink("\r" + line + "\u{1B}[K" + (force ? "\n" : ""))
            }
            return
        }
        let quarter = total > 0 ? (4 * done) / total : 0
        if force {
            // In log mode the final line is written unless the 100 % line was just written.
            if !(total > 0 && lastQuarter == 4) { sink(line + "\n") }
            lastQuarter = max(lastQuarter, quarter)
            return
        }
        if quarter > lastQuarter || now - lastDraw >= logInterval {
            lastQuarter = max(lastQuarter, quarter)
            lastDraw = now
            sink(line + "\n")
        }
    }
}
