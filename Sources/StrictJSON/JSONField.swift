import Foundation

/// A value of a parsed document with its path, read by type: each accessor either returns the
/// value or throws an error naming the field and what was found (`prompts[0].data should be an
/// array of numbers, found a string`). This replaces a second parse by `JSONDecoder` for files that
/// can hold millions of numbers.
public struct JSONField: Sendable {
    public let value: JSONValue
    public let path: JSONPath

    public init(_ value: JSONValue, path: JSONPath = JSONPath()) { self.value = value; self.path = path }

    /// The value of a required key of an object.
    public func key(_ k: String) throws -> JSONField {
        guard case .object = value else { throw StrictJSONError.wrongType(path: path, expected: "an object", found: value.kindName) }
        guard let v = value[k] else { throw StrictJSONError.missingKey(path: path, key: k) }
        return JSONField(v, path: path.appending(.key(k)))
    }

    /// The value of an optional key (nil when absent or null).
    public func optionalKey(_ k: String) throws -> JSONField? {
        guard case .object = value else { throw StrictJSONError.wrongType(path: path, expected: "an object", found: value.kindName) }
        guard let v = value[k], v != .null else { return nil }
        return JSONField(v, path: path.appending(.key(k)))
    }

    public func double() throws -> Double {
        guard case let .number(x) = value else { throw StrictJSONError.wrongType(path: path, expected: "a number", found: value.kindName) }
        return x
    }

    public func string() throws -> String {
        guard case let .string(s) = value else { throw StrictJSONError.wrongType(path: path, expected: "a string", found: value.kindName) }
        return s
    }

    /// The elements of an array, each with its path.
    public func array() throws -> [JSONField] {
        guard case let .array(items) = value else { throw StrictJSONError.wrongType(path: path, expected: "an array", found: value.kindName) }
        return items.enumerated().map { JSONField($0.element, path: path.appending(.index($0.offset))) }
    }

    /// An array of numbers (the common case, read without per-element wrappers).
    public func doubles() throws -> [Double] {
        guard case let .array(items) = value else {
            throw StrictJSONError.wrongType(path: path, expected: "an array of numbers", found: value.kindName)
        }
        var out = [Double]()
        out.reserveCapacity(items.count)
        for (k, v) in items.enumerated() {
            guard case let .number(x) = v else {
                throw StrictJSONError.wrongType(path: path.appending(.index(k)), expected: "a number", found: v.kindName)
            }
            out.append(x)
        }
        return out
    }
}
