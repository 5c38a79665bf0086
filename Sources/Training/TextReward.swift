import Foundation
import Transformer

/// The reward of a completion on a text dataset row (`--reward` of `train` and `probe`).
///
/// Following TRL's reward-function conventions (a function of the completion and the row's
/// columns; accuracy rewards are 1.0 or 0.0):
/// - `label-words[:POS,NEG]` (the default, CoLA's "acceptable,unacceptable"): +1 when the
///   parsed answer equals the row's label, −1 otherwise (also when unparsable). Strict in
///   training: the completion, trimmed of white space, is exactly one label word and it
///   stopped; robust in evaluation: the last whole label word anywhere (case-insensitive).
///   Rows need a label.
/// - `exact-match`: 1 when the completion text, trimmed of white space, equals the row's
///   completion (its reference answer) trimmed, and (in training) it stopped; else 0. Rows need
///   a completion.
/// - `regex:PATTERN`: 1 when PATTERN (Oniguruma syntax, see `SplitRegex`) matches somewhere in
///   the completion text (use `^…$` to require the whole), and (in training) it stopped; else 0.
///   Every row is a prompt.
public enum TextReward: Sendable, Equatable, CustomStringConvertible {
    case labelWords(positive: String, negative: String)
    case exactMatch
    case regex(String)

    public static let labelWordsDefault = TextReward.labelWords(positive: CoLA.positive, negative: CoLA.negative)

    /// Parses `label-words`, `label-words:POS,NEG`, `exact-match` or `regex:PATTERN`; nil with
    /// the reason otherwise.
    public static func parse(_ spec: String) -> Result<TextReward, TextRewardError> {
        if spec == "label-words" { return .success(labelWordsDefault) }
        if spec.hasPrefix("label-words:") {
            let words = spec.dropFirst("label-words:".count).split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard words.count == 2, !words[0].isEmpty, !words[1].isEmpty, words[0].lowercased() != words[1].lowercased() else {
                return .failure(TextRewardError("label-words takes two different words, label-words:POSITIVE,NEGATIVE (e.g. label-words:yes,no)"))
            }
            return .success(.labelWords(positive: words[0], negative: words[1]))
        }
        if spec == "exact-match" { return .success(.exactMatch) }
        if spec.hasPrefix("regex:") {
            let pattern = String(spec.dropFirst("regex:".count))
            if pattern.isEmpty { return .failure(TextRewardError("regex: needs a pattern, regex:PATTERN")) }
            do { _ = try SplitRegex(pattern) } catch { return .failure(TextRewardError("regex:\(pattern): \(error)")) }
            return .success(.regex(pattern))
        }
        return .failure(TextRewardError("'\(spec)' is not a reward; expected label-words[:POS,NEG], exact-match or regex:PATTERN"))
    }

    public var description: String {
        switch self {
        case .labelWords(let p, let n): return "label-words:\(p),\(n)"
        case .exactMatch: return "exact-match"
        case .regex(let p): return "regex:\(p)"
        }
    }

    /// One line for a run's design notes.
    public var explanation: String {
        switch self {
        case .labelWords(let p, let n):
            return "Reward (label-words \(p)/\(n)): +1/−1 against the row's label; strict in training (the completion is exactly one label word and stopped), robust in evaluation (the last label word anywhere)."
        case .exactMatch:
            return "Reward (exact-match): 1 when the completion, trimmed, equals the row's completion, trimmed (and, in training, stopped); else 0."
        case .regex(let p):
            return "Reward (regex \(p)): 1 when the pattern matches somewhere in the completion (and, in training, it stopped); else 0."
        }
    }

    /// Whether a row is an RL prompt under this reward.
    public func accepts(_ x: TextExample) -> Bool {
        switch self {
        case .labelWords: return x.label != nil
        case .exactMatch: return x.completion != nil
        case .regex: return true
        }
    }

    /// The reward of completion text `text` (`ended`: it stopped) on row `x`.
    public func reward(text: String, ended: Bool, row x: TextExample, strict: Bool, compiled: SplitRegex? = nil) -> Double {
        switch self {
        case .labelWords(let p, let n):
            guard let label = x.label else { return -1 }
            let parsed = strict ? Self.strictParse(text, ended: ended, positive: p, negative: n) : Self.robustParse(text, positive: p, negative: n)
            return parsed == label ? 1 : -1
        case .exactMatch:
            guard let ref = x.completion else { return 0 }
            if strict && !ended { return 0 }
            return text.trimmingCharacters(in: .whitespacesAndNewlines) == ref.trimmingCharacters(in: .whitespacesAndNewlines) ? 1 : 0
        case .regex(let pattern):
            if strict && !ended { return 0 }
            guard let re = compiled ?? (try? SplitRegex(pattern)) else { return 0 }
            return re.firstMatch(in: text.unicodeScalars.map(\.value)) != nil ? 1 : 0
        }
    }

    /// Strict parse: the trimmed text is exactly one label word and the completion stopped.
    static func strictParse(_ text: String, ended: Bool, positive: String, negative: String) -> Bool? {
        guard ended else { return nil }
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t == positive { return true }
        if t == negative { return false }
        return nil
    }

    /// Robust parse: the last whole word (maximal run of letters, case-insensitive) that is a label word.
    static func robustParse(_ text: String, positive: String, negative: String) -> Bool? {
        let p = positive.lowercased(), n = negative.lowercased()
        for w in CoLA.words(text).reversed() {
            if w == p { return true }
            if w == n { return false }
        }
        return nil
    }

    /// Nil when some row's completion can earn a reward, else what to change. `option` names the
    /// data option in the message. (`regex` with no completion in the data cannot be checked and
    /// passes.)
    public func unearnableReason(_ rows: [TextExample], option: String) -> String? {
        switch self {
        case .labelWords:
            if rows.contains(where: { $0.label != nil }) { return nil }
            return "\(option) has no row with a label, so --reward \(description) can never be earned; use --reward exact-match (against each row's completion) or --reward regex:PATTERN"
        case .exactMatch:
            if rows.contains(where: { ($0.completion ?? "").trimmingCharacters(in: .whitespacesAndNewlines) != "" }) { return nil }
            return "\(option) has no row with a non-empty completion, so --reward exact-match can never be earned; give rows with completions, or use --reward label-words (rows with labels)"
        case .regex(let pattern):
            let completions = rows.compactMap(\.completion)
            if completions.isEmpty { return nil }
            guard let re = try? SplitRegex(pattern) else { return "--reward regex:\(pattern) does not compile" }
            if completions.contains(where: { re.firstMatch(in: $0.unicodeScalars.map(\.value)) != nil }) { return nil }
            return "no completion in \(option) matches --reward regex:\(pattern), so the reward would be 0 for every demonstrated answer; check the pattern"
        }
    }
}

/// A `--reward` value that cannot be used.
public struct TextRewardError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Watches GRPO's logged rows and says, once, when every group's reward has been constant for
/// `limit` consecutive RL steps (`frac_reward_zero_std` = 1: every advantage is 0, so the policy
/// gradient is 0 and RL cannot learn).
public struct ConstantRewardWatch: Sendable {
    public let limit: Int
    private var run = 0
    private var warned = false

    public init(limit: Int = 10) { self.limit = limit }

    /// The warning to print after this row, or nil.
    public mutating func observe(_ values: [String: Double]) -> String? {
        guard let z = values["frac_reward_zero_std"] else { return nil }
        run = z >= 1 ? run + 1 : 0
        guard run >= limit, !warned else { return nil }
        warned = true
        return "warning: for \(limit) consecutive RL steps every group's reward was constant (frac_reward_zero_std = 1): every advantage is 0, so the policy gradient is 0 and RL cannot learn; check --reward against the data (and --max-completion-length)"
    }
}
