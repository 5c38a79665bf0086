import Policies

/// A generator family: the kind of random instance a claim is checked on (`Claim.families`,
/// `Claim.generate(_:family:dropping:)`, `ClaimInstance.family`).
///
/// A closed set of values, one static constant per family below, each saying what instances it
/// draws; ``all`` lists them, and a test ties that list to the families the registered claims use.
/// The sizes and ranges inside a family are the generating claim's (its `generate` says them):
/// the family names the *shape* of the instance. Its JSON form is the bare id string
/// (`"tabular-multi"`), so reports, replay files and figures keep their bytes; decoding an id that
/// is not in ``all`` throws ``ClaimError/unknownFamily(_:known:)`` (exit status 2), naming the known
/// ones.
///
/// Migrating a claim written with strings: `let families = ["tabular-multi"]` becomes
/// `let families: [Family] = [.tabularMulti]`, `family: String` becomes `family: Family`,
/// `family == "loglinear"` becomes `family == .loglinear`, and `ClaimInstance(family: "ties", …)`
/// becomes `ClaimInstance(family: .ties, …)`. A new kind of instance is a new constant here (and in
/// ``all``), with its doc comment.
public struct Family: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    /// The ASCII id: what reports, replay files and `sftrl explain` show.
    public let rawValue: String

    private init(_ id: String) { rawValue = id }

    /// The family of a known id; nil for any other string.
    public init?(rawValue: String) {
        guard let f = Family.all.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = f
    }

    public var description: String { rawValue }

    // MARK: The families

    /// Tabular policies (one free probability per response) on exactly one prompt: the SFT/RL
    /// theorems in their single-prompt form (data with zeros allowed, reward, β, reference, start).
    public static let tabularSingle = Family("tabular-single")
    /// Tabular policies on several weighted prompts (the prompt count drawn by the claim): the
    /// same theorems in their expectation-over-prompts form.
    public static let tabularMulti = Family("tabular-multi")
    /// Tabular policies on a drawn number of prompts (one or more), for the flow, landscape and
    /// sampled-algorithm claims, whose generators mix positive data, references and starts.
    public static let tabular = Family("tabular")
    /// Log-linear policies p_θ ∝ e^{θᵀφ} with d features per response (d below the response count
    /// where the claim needs a non-realisable class), drawn features and θ.
    public static let loglinear = Family("loglinear")
    /// Autoregressive token policies over a vocabulary V and a maximum length L (responses are
    /// token sequences ending in EOS; one distribution per prefix).
    public static let autoregressive = Family("autoregressive")
    /// Pairs (and triples) of distributions on 2–10 points, one prompt: the inequalities on
    /// distributions (Pinsker-type bounds) at sizes where every subset can be enumerated.
    public static let small = Family("small")
    /// Distributions on a drawn number of points (up to hundreds), one prompt, positive or with
    /// zeros: the distribution inequalities at ordinary sizes; also the untied-reward draws of
    /// RL-then-SFT, and the verified tier's boxes over distributions.
    public static let generic = Family("generic")
    /// RL-then-SFT instances whose reward has (at least) two maximisers per prompt and dyadic
    /// masses on them, so that A3's KL band can be met with a finite KL and sums are exact.
    public static let ties = Family("ties")
    /// Quadratic landscapes J, L_SFT with isotropic curvatures (A = μI, B = LI) in dimension 1–6,
    /// with a step-size parameter λ (the v2 duration reconstructions).
    public static let quadraticIsotropic = Family("quadratic-isotropic")
    /// Quadratic landscapes with diagonal, spread (anisotropic) curvatures A, B in dimension 1–6,
    /// with λ: where the isotropic duration bound need not hold.
    public static let quadraticAnisotropic = Family("quadratic-anisotropic")
    /// One-feature log-linear classes with a base measure h whose J has several local maxima
    /// (Thm 4.1 restricted to a class, around a located strict local maximiser).
    public static let multimodal = Family("multimodal")
    /// Not generated: an instance read from a plain instance file (`sftrl check --replay FILE`
    /// with the foundation's schema), which names no family of its own.
    public static let file = Family("file")

    /// Every family, in the order above: the one list the `rawValue` lookup, decoding and the
    /// claim-coverage test read.
    public static let all: [Family] = [.tabularSingle, .tabularMulti, .tabular, .loglinear, .autoregressive, .small, .generic,
                                       .ties, .quadraticIsotropic, .quadraticAnisotropic, .multimodal, .file]

    /// The families a claim's generator may name (every family but ``file``).
    public static var generated: [Family] { all.filter { $0 != .file } }

    // MARK: JSON: the bare id string

    public init(from decoder: Decoder) throws {
        let id = try decoder.singleValueContainer().decode(String.self)
        guard let f = Family(rawValue: id) else { throw ClaimError.unknownFamily(id, known: Family.all.map(\.rawValue)) }
        self = f
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    // MARK: Migration aids: code that still compares or builds with strings gets a message

    @available(*, unavailable, message: "families are typed: compare with a Family constant, e.g. `family == .tabularSingle` (Sources/Claims/Family.swift)")
    public static func == (lhs: Family, rhs: String) -> Bool { fatalError() }
}

extension ClaimInstance {
    @available(*, unavailable, message: "families are typed: write `ClaimInstance(family: .tabularMulti, …)` with a Family constant (Sources/Claims/Family.swift)")
    public init(family: String, instance: InstanceFile? = nil, parameters: [String: Double] = [:], landscape: Landscape? = nil) { fatalError() }
}

extension Family {
    /// `try? body()` for a reader that probes which shape the file `file` has: nil when `body`
    /// throws, except for an unknown family, which is rethrown as `ClaimError.invalid` prefixed by
    /// `file`. A file of the right shape that names a family not in ``all`` is the user's error, to
    /// be said as such, not "a file of another shape".
    public static func attempt<T>(file: String, _ body: () throws -> T) throws -> T? {
        do { return try body() } catch let ClaimError.unknownFamily(id, known) {
            throw ClaimError.invalid("\(file): \(ClaimError.unknownFamily(id, known: known))")
        } catch { return nil }
    }
}
