import ArgumentParser
import Claims

/// The claims a run covers and the hypotheses it drops: `--claim ID` (repeatable) and
/// `--drop NAME` (repeatable), shared by `check` and `search`.
struct ClaimSelection: ParsableArguments {
    @Option(name: .customLong("claim"), help: "A claim id (repeatable; check: default all). See `sftrl explain --list`.")
    var claims: [String] = []

    @Option(help: "A hypothesis to drop, by its id (repeatable): instances need not satisfy it. See `sftrl explain ID` for the ids.")
    var drop: [String] = []

    /// The hypothesis names the `--drop` words stand for (an id such as `beta-positive`, or the
    /// mathematical name `β > 0` as an alias).
    var dropNames: [String] { drop.map(Hypothesis.name(forCommandLine:)) }

    func validate() throws {
        for id in claims where !Registry.ids.contains(id) {
            throw ValidationError("--claim: unknown claim id \"\(id)\"; known ids: \(Registry.ids.joined(separator: ", "))")
        }
    }

    /// With exactly one claim in `ids`, every `--drop` must name one of its hypotheses (with several,
    /// a hypothesis is dropped where a claim has it).
    func checkDrops(for ids: [String]) throws {
        guard ids.count == 1 else { return }
        let c = try Registry.claim(ids[0])
        for d in drop where c.hypothesisName(commandLine: d) == nil {
            throw ValidationError("--drop: claim \(c.id) has no hypothesis \"\(d)\"; its hypotheses: \(c.hypothesisIDs.isEmpty ? "(none, so there is nothing to drop)" : c.hypothesisIDs.joined(separator: ", "))")
        }
    }
}
