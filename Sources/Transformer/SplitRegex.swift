/// A regular expression for `Split` pre-tokenizers, compiled to a backtracking program over
/// Unicode scalar values.
///
/// Semantics are Oniguruma's (Perl-style), which Hugging Face `tokenizers` uses: at a start
/// position the alternatives and quantifier choices are tried in priority order (left
/// alternative first; greedy takes the most, lazy the least, possessive and atomic groups never
/// give back), and the first complete match wins. `matches(in:)` scans left to right for
/// non-overlapping leftmost matches, as `find_iter` does: after a match ending at e the search
/// resumes at e, and after an empty match at the next scalar.
///
/// The program is a list of instructions run by an explicit backtracking stack (no recursion
/// except into lookahead and atomic sub-programs). A greedy or possessive repetition of a single
/// class (`\p{L}+`, `\s*`) is one instruction that scans the run and backtracks one scalar at a
/// time without re-running the class.
public struct SplitRegex: Sendable {
    public let pattern: String
    let program: RegexProgram

    public init(_ pattern: String) throws {
        var p = RegexParser(pattern)
        let tree = try p.parse()
        self.pattern = pattern
        program = try RegexProgram(tree)
    }

    /// The end of the match starting exactly at `start`, nil when none does.
    public func matchEnd(_ text: [UInt32], at start: Int) -> Int? {
        program.run(text, start)
    }

    /// The leftmost match in `text`, or nil.
    public func firstMatch(in text: [UInt32]) -> Range<Int>? {
        for s in 0...text.count { if let e = program.run(text, s) { return s..<e } }
        return nil
    }

    /// The non-overlapping leftmost matches of the pattern in `text`, as scalar index ranges
    /// (empty matches included).
    public func matches(in text: [UInt32]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var pos = 0
        while pos <= text.count {
            var found = false
            var s = pos
            while s <= text.count {
                if let e = program.run(text, s) {
                    out.append(s..<e)
                    pos = e > s ? e : s + 1
                    found = true
                    break
                }
                s += 1
            }
            if !found { break }
        }
        return out
    }
}

/// A compiled pattern: instructions, the classes they test, and sub-programs for lookahead and
/// atomic groups.
final class RegexProgram: @unchecked Sendable {
    struct Inst {
        var op: Op
        var a: Int32 = 0
        var b: Int32 = 0
        var c: Int32 = 0
    }
    enum Op: UInt8 {
        case set        // a: class index; one scalar
        case run        // a: class, b: min, c: max (-1 unbounded); greedy, gives back one at a time
        case runPoss    // as run, never gives back
        case split      // try a, on failure b
        case jmp        // a
        case look       // a: sub-program, b: 1 negative
        case atomic     // a: sub-program
        case anchor     // a: RegexNode.Anchor index
        case match
    }

    var insts: [Inst] = []
    var classes: [ScalarClass] = []
    var subs: [RegexProgram] = []
    static let anchors: [RegexNode.Anchor] = [.lineStart, .lineEnd, .textStart, .textEnd, .textEndBeforeNewline, .wordBoundary, .notWordBoundary]

    init(_ node: RegexNode) throws {
        try emit(node)
        insts.append(Inst(op: .match))
    }

    private func addClass(_ c: ScalarClass) -> Int32 { classes.append(c); return Int32(classes.count - 1) }

    private func emit(_ node: RegexNode) throws {
        switch node {
        case .set(let c):
            insts.append(Inst(op: .set, a: addClass(c)))
        case .seq(let xs):
            for x in xs { try emit(x) }
        case .alt(let xs):
            // split L1, next; L1: x0; jmp end; next: split L2, next2; … last: xn
            var jumps: [Int] = []
            for (k, x) in xs.enumerated() {
                if k < xs.count - 1 {
                    let sp = insts.count
                    insts.append(Inst(op: .split))
                    insts[sp].a = Int32(insts.count)
                    try emit(x)
                    jumps.append(insts.count)
                    insts.append(Inst(op: .jmp))
                    insts[sp].b = Int32(insts.count)
                } else {
                    try emit(x)
                }
            }
            for j in jumps { insts[j].a = Int32(insts.count) }
        case .rep(let x, let lo, let hi, let mode):
            if case .set(let c) = x, mode != .lazy {
                insts.append(Inst(op: mode == .possessive ? .runPoss : .run, a: addClass(c), b: Int32(lo), c: hi == Int.max ? -1 : Int32(hi)))
                return
            }
            if mode == .possessive {
                try emit(.atomic(.rep(x, min: lo, max: hi, mode: .greedy)))
                return
            }
            if hi == Int.max && x.canBeEmpty {
                throw SplitRegexError(message: "an unbounded repetition of something that can match the empty string is not supported")
            }
            for _ in 0..<lo { try emit(x) }
            if hi == Int.max {
                let loop = insts.count
                insts.append(Inst(op: .split))
                let body = insts.count
                try emit(x)
                insts.append(Inst(op: .jmp, a: Int32(loop)))
                let exit = Int32(insts.count)
                insts[loop].a = mode == .greedy ? Int32(body) : exit
                insts[loop].b = mode == .greedy ? exit : Int32(body)
            } else if hi > lo {
                var splits: [Int] = []
                for _ in lo..<hi {
                    splits.append(insts.count)
                    insts.append(Inst(op: .split))
                    let body = Int32(insts.count)
                    insts[splits.last!].a = body
                    try emit(x)
                }
                let exit = Int32(insts.count)
                for sp in splits {
                    if mode == .greedy { insts[sp].b = exit } else { insts[sp].b = insts[sp].a; insts[sp].a = exit }
                }
            }
        case .atomic(let x):
            subs.append(try RegexProgram(x))
            insts.append(Inst(op: .atomic, a: Int32(subs.count - 1)))
        case .look(let x, let negative):
            subs.append(try RegexProgram(x))
            insts.append(Inst(op: .look, a: Int32(subs.count - 1), b: negative ? 1 : 0))
        case .anchor(let a):
            insts.append(Inst(op: .anchor, a: Int32(Self.anchors.firstIndex(of: a)!)))
        }
    }

    private struct Frame { var pc: Int32; var pos: Int32; var lo: Int32 }  // lo ≥ 0: a run that can give back down to lo

    /// The end of the first match (in priority order) starting at `start`, or nil.
    func run(_ text: [UInt32], _ start: Int) -> Int? {
        var stack: [Frame] = []
        var pc = 0, pos = start
        let n = text.count
        while true {
            let inst = insts[pc]
            var ok = true
            switch inst.op {
            case .set:
                if pos < n && classes[Int(inst.a)].contains(text[pos]) { pos += 1; pc += 1 } else { ok = false }
            case .run, .runPoss:
                let cls = classes[Int(inst.a)]
                let limit = inst.c < 0 ? n : min(n, pos + Int(inst.c))
                var j = pos
                while j < limit && cls.contains(text[j]) { j += 1 }
                if j - pos < Int(inst.b) { ok = false; break }
                if inst.op == .run && j - pos > Int(inst.b) { stack.append(Frame(pc: Int32(pc + 1), pos: Int32(j), lo: Int32(pos + Int(inst.b)))) }
                pos = j; pc += 1
            case .split:
                stack.append(Frame(pc: inst.b, pos: Int32(pos), lo: -1))
                pc = Int(inst.a)
            case .jmp:
                pc = Int(inst.a)
            case .look:
                let hit = subs[Int(inst.a)].run(text, pos) != nil
                if hit == (inst.b == 0) { pc += 1 } else { ok = false }
            case .atomic:
                if let e = subs[Int(inst.a)].run(text, pos) { pos = e; pc += 1 } else { ok = false }
            case .anchor:
                if anchorHolds(Self.anchors[Int(inst.a)], text, pos) { pc += 1 } else { ok = false }
            case .match:
                return pos
            }
            if ok { continue }
            // Backtrack.
            guard let f = stack.popLast() else { return nil }
            pc = Int(f.pc)
            if f.lo >= 0 {
                pos = Int(f.pos) - 1
                if pos > Int(f.lo) { stack.append(Frame(pc: f.pc, pos: Int32(pos), lo: f.lo)) }
            } else {
                pos = Int(f.pos)
            }
        }
    }

    private func anchorHolds(_ a: RegexNode.Anchor, _ t: [UInt32], _ p: Int) -> Bool {
        let n = t.count
        switch a {
        case .lineStart: return p == 0 || t[p - 1] == 0x0A
        case .lineEnd: return p == n || t[p] == 0x0A
        case .textStart: return p == 0
        case .textEnd: return p == n
        case .textEndBeforeNewline: return p == n || (p == n - 1 && t[p] == 0x0A)
        case .wordBoundary, .notWordBoundary:
            var w = ScalarClass(items: [.word]); w.freeze()
            let before = p > 0 && w.contains(t[p - 1]), after = p < n && w.contains(t[p])
            return (before != after) == (a == .wordBoundary)
        }
    }
}
