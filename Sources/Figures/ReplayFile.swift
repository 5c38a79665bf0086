import Foundation
import StrictJSON
import Policies
import Claims
import Reports

/// What a replay file held: the instance, the hypotheses dropped when it was found (when recorded)
/// and where in the file it came from.
public struct LoadedInstance {
    public var instance: ClaimInstance
    public var dropped: [String]?
    public var source: String?
}

/// Reading the files `sftrl check --replay` and `sftrl search --from` take, and the notes printed
/// beside a replay. Every error is a ``UserInputError`` naming the file and what it expected.
public enum Replay {
    /// Reads a claim instance from a file: a `ClaimInstance`, a `Counterexample` (its `instance`
    /// and recorded `dropped`; a search finding is one), a bare instance in the foundation schema,
    /// or the JSON report of `sftrl check --json` (the counterexample of `claim`, else its
    /// smallest-margin instance).
    public static func load(_ path: String, claim: String?) throws -> LoadedInstance {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw UserInputError("cannot read \(path): \(PlainError.unreadableFile(path))")
        }
        // Strict syntax first (duplicate keys, NaN, positions), then the shape decides the reader: a bare
        // instance file goes through the strict instance reader (unknown keys refused, not defaulted).
        let value = try Result { try JSONParser.parse(data) }.mapError { UserInputError("--replay \(path): \($0)") }.get()
        guard case .object = value else { throw UserInputError("--replay \(path): expected a JSON object (an instance, counterexample or report), found \(value.kindName)") }
        if value["prompts"] != nil {
            do {
                let f = try InstanceFile.decode(data, path: path)
                return LoadedInstance(instance: try validated(ClaimInstance(family: .file, instance: f), path: path), dropped: nil, source: nil)
            } catch let e as InstanceError { throw UserInputError("--replay \(path): \(e)") }
        }
        let dec = makeJSONDecoder()
        if value["claims"] != nil, let report = try Family.attempt(file: "--replay \(path)", { try dec.decode(CheckReport.self, from: data) }) {
            guard let id = claim else { throw UserInputError("\(path) is a `sftrl check --json` report: name the claim to replay with --claim ID") }
            guard let r = report.claims.first(where: { $0.id == id }) else {
                throw UserInputError("the report \(path) has no result for claim \(id); it has: \(report.claims.map(\.id).joined(separator: ", "))")
            }
            if let cx = r.counterexample {
                return LoadedInstance(instance: try validated(cx.instance, path: path), dropped: cx.dropped ?? (r.dropped.isEmpty ? nil : r.dropped),
                                      source: "the counterexample of \(id) in the report (verdict \(r.verdict.rawValue), seed \(report.seed))")
            }
            guard let m = r.minMarginInstance else {
                throw UserInputError("the report's result for \(id) has neither a counterexample nor a min_margin_instance (verdict \(r.verdict.rawValue))")
            }
            return LoadedInstance(instance: try validated(m, path: path), dropped: r.dropped.isEmpty ? nil : r.dropped,
                                  source: "no counterexample in the report (verdict \(r.verdict.rawValue)): its smallest-margin instance")
        }
        if let cx = try Family.attempt(file: "--replay \(path)", { try dec.decode(Counterexample.self, from: data) }) {
            // A search finding records its claim: another claim's counterexample is said to be one.
            var note: String?
            if case let .string(recorded)? = value["claim"], let claim, recorded != claim {
                note = "a finding recorded for claim \(recorded), judged here as \(claim)"
            }
            return LoadedInstance(instance: try validated(cx.instance, path: path), dropped: cx.dropped, source: note)
        }
        if value["family"] != nil, let ci = try Family.attempt(file: "--replay \(path)", { try dec.decode(ClaimInstance.self, from: data) }) {
            return LoadedInstance(instance: try validated(ci, path: path), dropped: nil, source: nil)
        }
        throw UserInputError("--replay \(path) is neither a `sftrl check --json` report, a claim instance, a counterexample nor an instance file")
    }

    /// Structural validation of a replayed instance (lengths, probability vectors, finite numbers).
    static func validated(_ ci: ClaimInstance, path: String) throws -> ClaimInstance {
        if let f = ci.instance {
            do { _ = try Instance(file: f) } catch { throw UserInputError("--replay \(path): \(error)") }
        }
        return ci
    }

    /// Lines that name the hypotheses a replay misses because the file was found with `--drop`.
    public static func droppedNotes(judgement j: Judgement, recorded: [String]?, given: [String]) -> [String] {
        guard let recorded, !recorded.isEmpty else { return [] }
        let missing = recorded.filter { !given.contains($0) }
        guard !missing.isEmpty else { return [] }
        var out = ["note: this instance was found with --drop \(recorded.map(Hypothesis.id(forName:)).joined(separator: " --drop ")); it need not meet \(recorded.count == 1 ? "that hypothesis" : "those hypotheses")."]
        let unmet = missing.filter { j.unmet.contains($0) }
        if !unmet.isEmpty {
            out.append("it misses the dropped hypothesis \(unmet.map { "\($0) (margin \(formatSignificant(j.double.hypotheses[$0] ?? .nan, digits: 6)))" }.joined(separator: ", ")): replay with \(missing.map { "--drop \(Hypothesis.id(forName: $0))" }.joined(separator: " ")) to judge the conclusion without it.")
        } else {
            out.append("it happens to meet \(missing.joined(separator: ", ")) as well, so the verdict above needs no --drop.")
        }
        return out
    }
}
