import Foundation

/// A JSON document as read, keeping the order of an object's keys. Numbers are Doubles, correctly
/// rounded. (Positions are computed only for errors: counting columns per key is quadratic on a
/// one-line file of millions of numbers.)
public enum JSONValue: Equatable, Sendable {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case number(Double)
    case string(String)
    case bool(Bool)
    case null

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(x), .array(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// The value of `key` in an object (nil for other values or a missing key).
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The keys of an object, in file order (empty for other values).
    public var keys: [String] {
        guard case let .object(members) = self else { return [] }
        return members.map(\.key)
    }

    /// What kind of value this is, in the words an error message uses.
    public var kindName: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .number: return "a number"
        case .string: return "a string"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}

/// A place in a JSON text: line and column, both 1-based (the column counts Unicode scalars).
public struct JSONPosition: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public var description: String { "line \(line), column \(column)" }
}

/// A path to a value, written as the toolkit's messages write fields: `prompts[0].reference`.
public struct JSONPath: Equatable, Sendable, CustomStringConvertible {
    public enum Step: Equatable, Sendable { case key(String), index(Int) }
    public var steps: [Step] = []
    public init(_ steps: [Step] = []) { self.steps = steps }

    public func appending(_ s: Step) -> JSONPath { JSONPath(steps + [s]) }

    public var description: String {
        var out = ""
        for s in steps {
            switch s {
            case let .key(k): out += out.isEmpty ? k : ".\(k)"
            case let .index(i): out += "[\(i)]"
            }
        }
        return out.isEmpty ? "the top level" : out
    }
}

/// Why a JSON text was refused. Every message says where and what to change.
public enum StrictJSONError: Error, Equatable, CustomStringConvertible {
    case empty
    case invalidUTF8
    case syntax(at: JSONPosition, problem: String)
    case duplicateKey(path: JSONPath, key: String, at: JSONPosition)
    case notANumber(path: JSONPath, token: String, at: JSONPosition)
    case overflow(path: JSONPath, text: String, at: JSONPosition)
    case tooDeep(at: JSONPosition, limit: Int)
    case unknownKey(path: JSONPath, key: String, suggestion: String?, known: [String])
    case missingKey(path: JSONPath, key: String)
    case wrongType(path: JSONPath, expected: String, found: String)

    public var description: String {
        switch self {
        case .empty:
            return "the file is empty (expected a JSON object)"
        case .invalidUTF8:
            return "the file is not UTF-8 text (expected a JSON object)"
        case let .syntax(at, problem):
            return "malformed JSON at \(at): \(problem)"
        case let .duplicateKey(path, key, at):
            let field = path.appending(.key(key))
            return "duplicate key \"\(key)\" at \(at) (\(field) is given twice; keep one)"
        case let .notANumber(path, token, at):
            return "\(path) holds \(token) at \(at): JSON has no NaN or infinity; give a finite number"
        case let .overflow(path, text, at):
            return "\(path) holds \(text) at \(at), which overflows a double (largest about 1.8e308); give a finite number"
        case let .tooDeep(at, limit):
            return "malformed JSON at \(at): nested deeper than \(limit) levels"
        case let .unknownKey(path, key, suggestion, known):
            let place = path.steps.isEmpty ? "at the top level" : "in \(path)"
            let hint = suggestion.map { "; did you mean \"\($0)\"?" } ?? "; known keys: \(known.joined(separator: ", "))"
            return "unknown key \"\(key)\" \(place)\(hint)"
        case let .missingKey(path, key):
            return "missing key \"\(key)\" \(path.steps.isEmpty ? "at the top level" : "in \(path)")"
        case let .wrongType(path, expected, found):
            return "\(path) should be \(expected), found \(found)"
        }
    }
}
