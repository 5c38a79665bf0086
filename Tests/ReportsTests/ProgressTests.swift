import Foundation
import Testing
@testable import Reports

/// Collects sink output; a settable clock.
final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var _out: [String] = []
    private var _now = 0.0
    var out: [String] { lock.lock(); defer { lock.unlock() }; return _out }
    func record(_ s: String) { lock.lock(); _out.append(s); lock.unlock() }
    var now: Double { lock.lock(); defer { lock.unlock() }; return _now }
    func tick(_ dt: Double) { lock.lock(); _now += dt; lock.unlock() }

    func reporter(total: Int, tty: Bool, quiet: Bool = false) -> ProgressReporter {
        ProgressReporter(total: total, label: "check", quiet: quiet, isTTY: tty,
                         sink: { [self] in record($0) }, clock: { [self] in now })
    }
}

@Suite struct ProgressTests {
    @Test func lineFormat() {
        #expect(ProgressReporter.formatLine(label: "check", done: 312, total: 1000, elapsed: 2.1, status: "best margin -0.012")
                == "[check] 312/1000 (31%) 2.1s eta 4.6s  best margin -0.012")
        #expect(ProgressReporter.formatLine(label: "x", done: 0, total: 10, elapsed: 0, status: nil) == "[x] 0/10 (0%) 0.0s")
        #expect(ProgressReporter.formatLine(label: "x", done: 10, total: 10, elapsed: 3, status: nil) == "[x] 10/10 (100%) 3.0s")
        #expect(ProgressReporter.formatLine(label: "x", done: 7, total: 0, elapsed: 1, status: "") == "[x] 7 1.0s")
        #expect(ProgressReporter.formatLine(label: "x", done: 7, total: 0, elapsed: 1, status: "a\nb") == "[x] 7 1.0s  a b")
    }

    @Test func ttyRedrawsInPlaceAtMostTenTimesPerSecond() {
        let r = Recorder()
        let p = r.reporter(total: 1000, tty: true)
        for _ in 0..<1000 { r.tick(0.001); p.advance(status: "best margin -0.012") }  // 1 s of work
        p.finish()
        let out = r.out
        #expect(out.count >= 10 && out.count <= 13, "\(out.count) redraws")
        #expect(out.allSatisfy { $0.hasPrefix("\r[check] ") && $0.contains("\u{1B}[K") })
        #expect(out.dropLast().allSatisfy { !$0.hasSuffix("\n") })
        #expect(out.last == "\r[check] 1000/1000 (100%) 1.0s  best margin -0.012\u{1B}[K\n")
        p.finish(); p.advance()
        #expect(r.out.count == out.count)  // finish is idempotent, advance after it ignored
    }

    @Test func logModeWritesQuartersOnly() {
        let r = Recorder()
        let p = r.reporter(total: 100, tty: false)
        for _ in 0..<100 { r.tick(0.01); p.advance() }
        p.finish()
        let out = r.out
        #expect(out.map { $0.split(separator: " ")[2] } == ["(0%)", "(25%)", "(50%)", "(75%)", "(100%)"])
        #expect(out.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") })
    }

    @Test func logModeWritesPeriodicallyBetweenQuarters() {
        let r = Recorder()
        let p = r.reporter(total: 1000, tty: false)
        for _ in 0..<100 { r.tick(1); p.advance() }  // 100 s, 10 % done
        #expect(r.out.count == 1 + 10)  // the 0 % line, then one every 10 s
        p.finish()
        #expect(r.out.last?.hasPrefix("[check] 100/1000 (10%)") == true)
    }

    @Test func quietWritesNothing() {
        let r = Recorder()
        let p = r.reporter(total: 10, tty: true, quiet: true)
        for _ in 0..<10 { r.tick(1); p.advance() }
        p.finish()
        #expect(r.out.isEmpty)
    }

    @Test func concurrentAdvances() async {
        let r = Recorder()
        let p = r.reporter(total: 4000, tty: false)
        await withTaskGroup(of: Void.self) { g in
            for _ in 0..<8 { g.addTask { for _ in 0..<500 { p.advance() } } }
        }
        p.finish()
        #expect(p.completed == 4000)
        #expect(r.out.count == 5)
    }
}
