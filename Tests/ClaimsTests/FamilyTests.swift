import Foundation
import Testing
import Linalg
@testable import Claims

/// Generator families are a closed, typed set (Family.swift): the registered claims use exactly
/// the generated families, each family's JSON form is its bare id, and an unknown id is an error
/// that names the known ones.
@Suite struct FamilyTests {
    /// The one list of families and the claims' families agree: no claim names a family outside
    /// `Family.all` or names `.file`, and every generated family is drawn by at least one claim
    /// (a family no claim draws is dead, or a claim lost it).
    @Test func theClaimsUseExactlyTheGeneratedFamilies() {
        let used = Set(Registry.all.flatMap(\.families))
        #expect(used == Set(Family.generated), "claims use \(used.map(\.rawValue).sorted()); Family.generated is \(Family.generated.map(\.rawValue).sorted())")
        #expect(!used.contains(.file))
        for claim in Registry.all {
            #expect(!claim.families.isEmpty, "\(claim.id) has no family")
            #expect(Set(claim.families).count == claim.families.count, "\(claim.id) names a family twice")
        }
    }

    /// Every claim's generator stamps the family it was asked for on the instance it returns.
    @Test func generatorsStampTheirFamily() {
        for claim in Registry.all {
            for family in claim.families {
                var g = SeededGenerator(seed: 7)
                #expect(claim.generate(&g, family: family, dropping: []).family == family, "\(claim.id), family \(family)")
            }
        }
    }

    /// The ids are distinct ASCII words, the lookup by id is the identity on `all`, and the JSON
    /// form is the bare string (so reports and replay files keep their bytes).
    @Test func idsLookupAndJSONForm() throws {
        #expect(Set(Family.all.map(\.rawValue)).count == Family.all.count)
        for f in Family.all {
            #expect(Hypothesis.isASCIIWord(f.rawValue), "\(f.rawValue)")
            #expect(Family(rawValue: f.rawValue) == f)
            #expect(f.description == f.rawValue)
            let json = try JSONEncoder().encode(f)
            #expect(String(decoding: json, as: UTF8.self) == "\"\(f.rawValue)\"")
            #expect(try JSONDecoder().decode(Family.self, from: json) == f)
        }
        #expect(Family(rawValue: "tabular-mult") == nil)
        let ci = ClaimInstance(family: .quadraticIsotropic, parameters: ["lambda": 0.5])
        let text = String(decoding: try JSONEncoder().encode(ci), as: UTF8.self)
        #expect(text.contains(#""family":"quadratic-isotropic""#), "\(text)")
    }

    /// An unknown family in a claim instance is a `ClaimError.unknownFamily` whose message names
    /// the id and every known family; `Family.attempt` passes it on (with the file) where other
    /// decoding failures mean "not this shape" (nil).
    @Test func anUnknownFamilyIsNamedWithTheKnownOnes() throws {
        let json = Data(#"{"family": "tabular-mult", "parameters": {}}"#.utf8)
        do {
            _ = try JSONDecoder().decode(ClaimInstance.self, from: json)
            Issue.record("an unknown family was accepted")
        } catch let e as ClaimError {
            #expect(e == .unknownFamily("tabular-mult", known: Family.all.map(\.rawValue)))
            let message = e.description
            #expect(message.contains("\"tabular-mult\""))
            for f in Family.all { #expect(message.contains(f.rawValue)) }
        }
        #expect(throws: ClaimError.self) { _ = try Family.attempt(file: "x.json") { try JSONDecoder().decode(ClaimInstance.self, from: json) } }
        do {
            _ = try Family.attempt(file: "x.json") { try JSONDecoder().decode(ClaimInstance.self, from: json) }
        } catch { #expect("\(error)".hasPrefix("x.json: unknown family \"tabular-mult\"")) }
        let notThisShape = try Family.attempt(file: "x.json") { try JSONDecoder().decode(ClaimInstance.self, from: Data(#"{"seed": 1}"#.utf8)) }
        #expect(notThisShape == nil)
    }
}
