import Foundation
import Testing
import TestSupport
@testable import StrictJSON

/// Errors in the user's words (issue 13): decoding failures name the JSON field and the expected
/// JSON kind, unreadable files say why; no Swift type names, no Foundation error domains.
@Suite struct PlainErrorTests {
    struct Config: Decodable { var vocab_size: Int; var layers: [Layer]; var tied: Bool? }
    struct Layer: Decodable { var width: Double }

    func message(_ json: String) -> String {
        do { _ = try JSONDecoder().decode(Config.self, from: Data(json.utf8)); return "" } catch let e as DecodingError {
            return PlainError.decoding(e)
        } catch { return "\(error)" }
    }

    @Test func decodingErrorsNameTheField() {
        #expect(message(#"{"layers": []}"#) == "field 'vocab_size' is missing; add it")
        #expect(message(#"{"vocab_size": "x", "layers": []}"#) == "field 'vocab_size' must be an integer")
        #expect(message(#"{"vocab_size": 1, "layers": [{"width": "w"}]}"#) == "field 'layers[0].width' must be a number")
        #expect(message(#"{"vocab_size": 1, "layers": {}}"#) == "field 'layers' must be an array")
        #expect(message(#"{"vocab_size": 1, "layers": [], "tied": "yes"}"#) == "field 'tied' must be true or false")
        #expect(message(#"{"vocab_size": null, "layers": []}"#).hasPrefix("field 'vocab_size'"))
        #expect(message("[1]") == "the top level must be a JSON object")
        for m in [message(#"{"layers": []}"#), message("[1]")] {
            #expect(!m.contains("Swift.") && !m.contains("CodingKeys") && !m.contains("DecodingError"), "\(m)")
        }
    }

    @Test func unreadableFilesSayWhy() throws {
        try withTemporaryDirectory("plain") { dir in
            #expect(PlainError.unreadableFile(dir.appendingPathComponent("missing.json").path) == "no such file")
            #expect(PlainError.unreadableFile(dir.path) == "it is a folder, not a file")
        }
    }
}
