import Foundation

/// Error texts for input files in the user's words: no Foundation error domains ("The operation
/// couldn't be completed (NSCocoaErrorDomain error 256)"), no Swift type names or `DecodingError`
/// dumps. Each says which field or file and what is wrong with it.
public enum PlainError {
    /// Why the file at `path` cannot be read: it does not exist, is a folder, or may not be read.
    public static func unreadableFile(_ path: String) -> String {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { return "no such file" }
        if isDir.boolValue { return "it is a folder, not a file" }
        if !fm.isReadableFile(atPath: path) { return "permission denied (the file is not readable)" }
        return "the file cannot be read"
    }

    /// A decoding failure as "field 'a.b': what is wrong" (the JSON path of the field and the
    /// expected type in JSON words: number, integer, string, object, array, true/false).
    public static func decoding(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            var out = ""
            for k in keys {
                if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
            }
            return out
        }
        func where_(_ keys: [CodingKey]) -> String { keys.isEmpty ? "the top level" : "field '\(path(keys))'" }
        switch error {
        case let .keyNotFound(key, ctx):
            let full = path(ctx.codingPath + [key])
            return "field '\(full)' is missing; add it"
        case let .typeMismatch(type, ctx):
            return "\(where_(ctx.codingPath)) must be \(jsonKind(type))"
        case let .valueNotFound(type, ctx):
            return "\(where_(ctx.codingPath)) is null; it must be \(jsonKind(type))"
        case let .dataCorrupted(ctx):
            return "\(where_(ctx.codingPath)) is not valid: \(ctx.debugDescription)"
        @unknown default:
            return "the JSON does not have the expected fields"
        }
    }

    /// "a number", "an integer", "a string", … for a Swift type expected by a decoder.
    static func jsonKind(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch name {
        case "Int", "Int64", "Int32", "UInt64", "UInt32", "UInt", "UInt8", "Int8", "Int16", "UInt16": return "an integer"
        case "Double", "Float": return "a number"
        case "String": return "a string"
        case "Bool": return "true or false"
        default:
            if name.hasPrefix("Dictionary") || name.hasPrefix("[String") { return "a JSON object" }
            if name.hasPrefix("Array") || name.hasPrefix("[") { return "an array" }
            return "a value of the documented form"
        }
    }
}
