/// Hypothesis ids: the ASCII words the command line takes (`check --drop ID`, `search --drop ID`,
/// `explain`), beside the mathematical names kept for display and as the keys of evaluations and
/// reports (so reports keep their bytes).
extension Hypothesis {
    /// The hypotheses whose mathematical name is not an ASCII word, and their ids.
    static let spelledIDs: [String: String] = ["β > 0": "beta-positive"]

    /// The id on the command line: the name itself when it is an ASCII word, else its spelled form
    /// ("β > 0" → "beta-positive").
    public var id: String { Hypothesis.id(forName: name) }

    /// The id of a hypothesis name (see ``id``).
    public static func id(forName name: String) -> String { spelledIDs[name] ?? name }

    /// The hypothesis name a command-line word stands for: an id, or the mathematical name itself
    /// (kept as an alias, so `--drop "β > 0"` still works).
    public static func name(forCommandLine word: String) -> String {
        spelledIDs.first { $0.value == word }?.key ?? word
    }

    /// Letters, digits and '-' only, starting with a letter: what a shell passes unquoted.
    public static func isASCIIWord(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
    }
}

extension Claim {
    /// The command-line ids of the hypotheses, in order.
    public var hypothesisIDs: [String] { hypotheses.map(\.id) }

    /// The name of this claim's hypothesis that `word` (an id or a name) stands for; nil when it
    /// has none.
    public func hypothesisName(commandLine word: String) -> String? {
        let name = Hypothesis.name(forCommandLine: word)
        return hypothesisNames.contains(name) ? name : nil
    }
}
