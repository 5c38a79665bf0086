import Foundation
import StrictJSON

/// The on-disk JSON schema of an instance. This schema is a contract with scripts outside the
/// project: keep the key names.
///
/// ```json
/// {"beta": 0.5,
///  "policy": {"kind": "tabular"},
///  "prompts": [
///    {"weight": 1.0, "data": [0.7, 0.2, 0.1], "reward": [1.0, 0.0, -1.0],
///     "reference": [0.4, 0.3, 0.3], "start": [0.7, 0.2, 0.1]}]}
/// ```
/// `weight` is q(x) (normalised over prompts), `data` p_D(·|x), `reward` r(x,·), `reference`
/// π_ref(·|x) (default uniform), `start` the initial policy's probabilities (default `data`).
/// A log-linear policy carries `"features"` (per prompt, per response, d numbers) and an optional
/// `"theta"` start (default: the SFT optimum of the class). A log-linear prompt may carry a fixed
/// positive base measure `"base"` h(·|x): then p_θ(y|x) ∝ h(y|x)·exp(θᵀφ(x, y)) (default h = 1).
/// An autoregressive policy (`{"kind": "autoregressive", "vocab": V, "max_length": L}`) has as
/// responses the token sequences of ``SequenceTree`` (length-then-lexicographic order, S = Σ_{k≤L} V^k
/// of them, at most 10⁴): `data`, `reward`, `reference` and `start` are given per sequence; an
/// optional `"theta"` (prompt-major, node-major, V + 1 logits per prefix node) replaces `start`.
public struct InstanceFile: Codable, Equatable, Sendable {
    public struct PolicySpec: Codable, Equatable, Sendable {
        public var kind: String
        public var features: [[[Double]]]?
        public var theta: [Double]?
        /// Autoregressive: V (content tokens) and L (maximum content length).
        public var vocab: Int?
        public var maxLength: Int?
        enum CodingKeys: String, CodingKey { case kind, features, theta, vocab, maxLength = "max_length" }
        public init(kind: String, features: [[[Double]]]? = nil, theta: [Double]? = nil, vocab: Int? = nil, maxLength: Int? = nil) {
            self.kind = kind; self.features = features; self.theta = theta; self.vocab = vocab; self.maxLength = maxLength
        }
    }

    public struct Prompt: Codable, Equatable, Sendable {
        public var weight: Double
        public var data: [Double]
        public var reward: [Double]
        public var reference: [Double]?
        public var start: [Double]?
        /// Log-linear only: the fixed base measure h(·|x) > 0 (need not sum to 1).
        public var base: [Double]?
        public init(weight: Double, data: [Double], reward: [Double], reference: [Double]? = nil, start: [Double]? = nil, base: [Double]? = nil) {
            self.weight = weight; self.data = data; self.reward = reward; self.reference = reference; self.start = start; self.base = base
        }
    }

    public var beta: Double
    public var policy: PolicySpec
    public var prompts: [Prompt]

    public init(beta: Double, policy: PolicySpec, prompts: [Prompt]) {
        self.beta = beta; self.policy = policy; self.prompts = prompts
    }

    /// The keys the schema knows, level by level: any other key is an error naming the nearest one.
    public static let keys = KeySchema.object([
        "beta": .any,
        "policy": .object(["kind": .any, "features": .any, "theta": .any, "vocab": .any, "max_length": .any]),
        "prompts": .array(.object(["weight": .any, "data": .any, "reward": .any, "reference": .any, "start": .any, "base": .any])),
    ])

    /// Reads and decodes a file strictly: syntax errors with line and column, duplicate and unknown
    /// keys, NaN/Infinity and overflowing numbers are refused with the field that holds them; a
    /// `check` report or a counterexample file given instead of an instance says how to extract one.
    public static func load(_ url: URL) throws -> InstanceFile {
        guard let data = InputFile.read(url) else {
            throw InstanceError.unreadable(path: url.path, reason: PlainError.unreadableFile(url.path))
        }
        return try decode(data, path: InputFile.isStandardInput(url) ? "standard input" : url.path)
    }

    /// `load` on bytes already read (`path` names the source in messages).
    public static func decode(_ data: Data, path: String) throws -> InstanceFile {
        let value: JSONValue
        do { value = try JSONParser.parse(data) } catch let e as StrictJSONError {
            throw InstanceError.malformed(path: path, reason: e.description)
        }
        if let hint = notAnInstanceHint(value) { throw InstanceError.malformed(path: path, reason: hint) }
        do {
            try keys.check(value)
            return try InstanceFile(json: JSONField(value))
        } catch let e as StrictJSONError {
            throw InstanceError.malformed(path: path, reason: e.description)
        }
    }

    /// The fields of a parsed document, by the schema above (one parse; errors name the field).
    public init(json root: JSONField) throws {
        let p = try root.key("policy")
        policy = PolicySpec(kind: try p.key("kind").string(),
                            features: try p.optionalKey("features")?.array().map { try $0.array().map { try $0.doubles() } },
                            theta: try p.optionalKey("theta")?.doubles(),
                            vocab: try p.optionalKey("vocab").map(InstanceFile.wholeNumber),
                            maxLength: try p.optionalKey("max_length").map(InstanceFile.wholeNumber))
        beta = try root.key("beta").double()
        prompts = try root.key("prompts").array().map { q in
            Prompt(weight: try q.key("weight").double(), data: try q.key("data").doubles(), reward: try q.key("reward").doubles(),
                   reference: try q.optionalKey("reference")?.doubles(), start: try q.optionalKey("start")?.doubles(),
                   base: try q.optionalKey("base")?.doubles())
        }
    }

    /// A whole number (vocab, max_length); a fraction or a number beyond Int is refused with its field.
    static func wholeNumber(_ f: JSONField) throws -> Int {
        let x = try f.double()
        guard let n = Int(exactly: x) else { throw StrictJSONError.wrongType(path: f.path, expected: "a whole number", found: "\(x)") }
        return n
    }

    /// Recognises the toolkit's other JSON files (a `check`/`search` report, a counterexample) and
    /// says how to get the instance out of them.
    static func notAnInstanceHint(_ v: JSONValue) -> String? {
        guard case .object = v, v["prompts"] == nil else { return nil }
        if v["claims"] != nil {
            return "this is a report (it has \"claims\"), not an instance; replay a claim's counterexample with "
                + "`sftrl check --claim ID --replay REPORT`, or extract its instance with "
                + "jq '.claims[] | select(.id == \"ID\") | .counterexample.instance.instance'"
        }
        if v["instance"] != nil {
            let inner = v["instance"]?["instance"] != nil ? ".instance.instance" : ".instance"
            return "this is a counterexample or claim-instance file (it has \"instance\"), not an instance; "
                + "extract the instance with jq '\(inner)' FILE > instance.json, or replay it with `sftrl check --claim ID --replay FILE`"
        }
        return nil
    }

    /// Canonical JSON bytes (sorted keys): the input of the instance hash in manifests.
    public func canonicalJSON(pretty: Bool = false) -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return (try? enc.encode(self)) ?? Data()
    }
}

/// What is wrong with an instance, naming the field, the prompt and what to change.
public enum InstanceError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case invalid(field: String, prompt: Int?, problem: String)

    public var description: String {
        switch self {
        case let .unreadable(p, r): return "cannot read instance file \(p): \(r)"
        case let .malformed(p, r): return "instance file \(p) is not valid instance JSON: \(r)"
        case let .invalid(f, i, prob):
            let at = i.map { "prompts[\($0)]." } ?? ""
            return "\(at)\(f): \(prob)"
        }
    }
}
